#include "xgrad/module.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "xgrad/errors.hpp"

namespace xgrad {

template <class T>
Tensor<T> Module<T>::forward(const Tensor<T>&) {
  throw_error<StateError>(type_name_, "::forward: this module has no unary forward");
}

template <class T>
void Module<T>::check_new_name(const std::string& name, const char* what) const {
  const std::string where = type_name_ + "::" + what;
  XGRAD_CHECK(!name.empty(), ValueError, where, ": name must not be empty");
  XGRAD_CHECK(name.find('.') == std::string::npos, ValueError, where,
              ": name must not contain '.', got \"", name, "\"");
  auto taken = [&name](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&name](const auto& e) {
      if constexpr (std::is_same<std::decay_t<decltype(e)>, Entry>::value) {
        return e.name == name;
      } else {
        return e.first == name;
      }
    });
  };
  XGRAD_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), ValueError, where,
              ": name \"", name, "\" is already registered");
}

template <class T>
Tensor<T> Module<T>::register_parameter(const std::string& name, Tensor<T> tensor,
                                        bool requires_grad) {
  check_new_name(name, "register_parameter");
  XGRAD_CHECK(tensor.defined(), ValueError, type_name_, "::register_parameter: tensor \"", name,
              "\" is undefined");
  XGRAD_CHECK(tensor.is_leaf(), ValueError, type_name_, "::register_parameter: tensor \"", name,
              "\" is not a leaf (detach() it first)");
  tensor.set_requires_grad(requires_grad);
  parameters_.push_back(Entry{name, tensor, true, false, this, name});
  return tensor;
}

template <class T>
Tensor<T> Module<T>::register_buffer(const std::string& name, Tensor<T> tensor, bool fixed_shape) {
  check_new_name(name, "register_buffer");
  XGRAD_CHECK(tensor.defined(), ValueError, type_name_, "::register_buffer: tensor \"", name,
              "\" is undefined");
  buffers_.push_back(Entry{name, tensor, fixed_shape, false, this, name});
  return tensor;
}

namespace {

// The first element of `a` that is not a byte (an integer in [0, 255]), or
// a.size().
template <class T>
std::size_t first_non_byte(const xt::xarray<T>& a) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T v = a.data()[i];
    if (!(v >= T(0) && v <= T(255) && v == T(static_cast<int>(v)))) return i;
  }
  return a.size();
}

}  // namespace

template <class T>
Tensor<T> Module<T>::register_byte_buffer(const std::string& name, Tensor<T> tensor) {
  check_new_name(name, "register_byte_buffer");
  XGRAD_CHECK(tensor.defined(), ValueError, type_name_, "::register_byte_buffer: tensor \"", name,
              "\" is undefined");
  const std::size_t bad = first_non_byte(tensor.data());
  XGRAD_CHECK(bad == tensor.numel(), ValueError, type_name_, "::register_byte_buffer: \"", name,
              "\"[", bad, "] = ", bad < tensor.numel() ? tensor.data().data()[bad] : T(0),
              " is not a byte (an integer in [0, 255])");
  buffers_.push_back(Entry{name, tensor, false, true, this, name});
  return tensor;
}

template <class T>
void Module<T>::add_child(const std::string& name, std::shared_ptr<Module<T>> module) {
  check_new_name(name, "register_module");
  XGRAD_CHECK(module, ValueError, type_name_, "::register_module: module \"", name, "\" is null");
  check_no_cycle(name, *module, "register_module");
  children_.emplace_back(name, std::move(module));
}

template <class T>
void Module<T>::check_no_cycle(const std::string& name, const Module<T>& module,
                               const char* what) const {
  // A cycle would make every recursive walk loop forever.
  bool cycle = &module == this;
  if (!cycle) {
    const auto below = module.modules();
    cycle =
        std::any_of(below.begin(), below.end(), [this](const auto& m) { return m.get() == this; });
  }
  XGRAD_CHECK(!cycle, ValueError, type_name_, "::", what, ": registering \"", name,
              "\" would make the module its own descendant");
}

template <class T>
void Module<T>::swap_child(const std::string& name, std::shared_ptr<Module<T>> module) {
  const std::string where = type_name_ + "::replace_module";
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&name](const auto& kv) { return kv.first == name; });
  XGRAD_CHECK(it != children_.end(), ValueError, where, ": there is no child named \"", name, "\"");
  XGRAD_CHECK(module, ValueError, where, ": module \"", name, "\" is null");
  check_no_cycle(name, *module, "replace_module");
  it->second = std::move(module);
}

template <class T>
void Module<T>::collect_named(bool params, bool recurse, const std::string& prefix,
                              OrderedDict<Tensor<T>>* out, std::vector<const void*>* seen_storage,
                              std::vector<const Module<T>*>* seen_modules) const {
  seen_modules->push_back(this);
  for (const auto& e : params ? parameters_ : buffers_) {
    const void* id = e.tensor.storage().get();
    if (std::find(seen_storage->begin(), seen_storage->end(), id) != seen_storage->end()) continue;
    seen_storage->push_back(id);
    out->insert(prefix + e.name, e.tensor);
  }
  if (!recurse) return;
  for (const auto& kv : children_) {
    const Module<T>* child = kv.second.get();
    if (std::find(seen_modules->begin(), seen_modules->end(), child) != seen_modules->end())
      continue;
    child->collect_named(params, true, prefix + kv.first + ".", out, seen_storage, seen_modules);
  }
}

template <class T>
OrderedDict<Tensor<T>> Module<T>::named_tensors(bool params, bool recurse) const {
  OrderedDict<Tensor<T>> out;
  std::vector<const void*> seen_storage;
  std::vector<const Module<T>*> seen_modules;
  collect_named(params, recurse, "", &out, &seen_storage, &seen_modules);
  return out;
}

template <class T>
OrderedDict<Tensor<T>> Module<T>::named_parameters(bool recurse) const {
  return named_tensors(true, recurse);
}

template <class T>
OrderedDict<Tensor<T>> Module<T>::named_buffers(bool recurse) const {
  return named_tensors(false, recurse);
}

template <class T>
std::vector<Tensor<T>> Module<T>::parameters(bool recurse) const {
  std::vector<Tensor<T>> out;
  for (auto& kv : named_parameters(recurse)) out.push_back(kv.second);
  return out;
}

template <class T>
std::vector<Tensor<T>> Module<T>::buffers(bool recurse) const {
  std::vector<Tensor<T>> out;
  for (auto& kv : named_buffers(recurse)) out.push_back(kv.second);
  return out;
}

template <class T>
std::vector<std::shared_ptr<Module<T>>> Module<T>::children() const {
  std::vector<std::shared_ptr<Module<T>>> out;
  for (const auto& kv : children_) out.push_back(kv.second);
  return out;
}

template <class T>
std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> Module<T>::named_modules(
    const std::string& prefix, bool include_self) const {
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> out;
  if (include_self) {
    // Const-cast only to hand out the owning pointer, as libtorch does.
    auto self = std::const_pointer_cast<Module<T>>(this->weak_from_this().lock());
    XGRAD_CHECK(self, StateError, type_name_,
                "::named_modules: include_self needs the module to be owned by a std::shared_ptr "
                "(make_shared it, or pass include_self = false)");
    out.emplace_back(prefix, std::move(self));
  }
  std::vector<const Module<T>*> seen{this};
  collect_modules(prefix, &out, &seen);
  return out;
}

template <class T>
void Module<T>::collect_modules(
    const std::string& prefix, std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>* out,
    std::vector<const Module<T>*>* seen) const {
  for (const auto& kv : children_) {
    const Module<T>* child = kv.second.get();
    if (std::find(seen->begin(), seen->end(), child) != seen->end()) continue;
    seen->push_back(child);
    const std::string name = prefix.empty() ? kv.first : prefix + "." + kv.first;
    out->emplace_back(name, kv.second);
    child->collect_modules(name, out, seen);
  }
}

template <class T>
void Module<T>::apply(const std::function<void(Module<T>&)>& fn) {
  apply([&fn](const std::string&, Module<T>& m) { fn(m); });
}

template <class T>
void Module<T>::apply(const std::function<void(const std::string&, Module<T>&)>& fn,
                      const std::string& prefix) {
  // Names and modules are collected first, so fn sees a fixed list.
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> all;
  std::vector<const Module<T>*> seen{this};
  collect_modules(prefix, &all, &seen);
  fn(prefix, *this);
  for (auto& kv : all) fn(kv.first, *kv.second);
}

template <class T>
std::vector<std::shared_ptr<Module<T>>> Module<T>::modules() const {
  std::vector<std::shared_ptr<Module<T>>> out;
  // Iterative depth-first walk in registration order; each module once.
  std::vector<std::shared_ptr<Module<T>>> stack;
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) stack.push_back(it->second);
  while (!stack.empty()) {
    auto m = std::move(stack.back());
    stack.pop_back();
    if (std::find(out.begin(), out.end(), m) != out.end()) continue;
    out.push_back(m);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.push_back(it->second);
  }
  return out;
}

template <class T>
void Module<T>::train(bool on) {
  training_ = on;
  for (auto& kv : children_) kv.second->train(on);
}

template <class T>
void Module<T>::zero_grad() {
  for (auto& p : parameters()) p.zero_grad();
}

template <class T>
void Module<T>::collect_state(const std::string& prefix, std::vector<Entry>* out) const {
  for (const auto& e : parameters_)
    out->push_back(Entry{prefix + e.name, e.tensor, e.fixed_shape, e.bytes, this, e.name});
  for (const auto& e : buffers_)
    out->push_back(Entry{prefix + e.name, e.tensor, e.fixed_shape, e.bytes, this, e.name});
  for (const auto& kv : children_) kv.second->collect_state(prefix + kv.first + ".", out);
}

template <class T>
StateDict<T> Module<T>::state_dict() const {
  std::vector<Entry> slots;
  collect_state("", &slots);
  StateDict<T> out;
  out.reserve(slots.size());
  for (const auto& s : slots) out.emplace_back(s.name, s.tensor.data());
  return out;
}

template <class T>
WeightStorage Module<T>::weight_storage() const {
  return {};
}

template <class T>
std::vector<std::string> Module<T>::byte_state_keys() const {
  std::vector<Entry> slots;
  collect_state("", &slots);
  std::vector<std::string> out;
  for (const auto& s : slots)
    if (s.bytes) out.push_back(s.name);
  return out;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// The first few keys, then how many there are: a message stays readable
// when a whole family of keys is missing.
std::string some_keys(const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 6;
  if (keys.size() <= kShown) return join(keys);
  return join(std::vector<std::string>(keys.begin(), keys.begin() + kShown)) + ", ... (" +
         std::to_string(keys.size()) + " in all)";
}

// What to do about missing keys. Quantizer keys ("..._fake_quant.") missing
// from a dict mean a float checkpoint loaded into a model prepared for QAT.
std::string missing_keys_hint(const std::vector<std::string>& missing, bool unexpected) {
  const bool quantizers = std::any_of(missing.begin(), missing.end(), [](const std::string& k) {
    return k.find("_fake_quant.") != std::string::npos;
  });
  if (quantizers)
    return " (a float checkpoint and a model prepared for QAT: load it before prepare_qat, or "
           "with strict = false, which fills the weights and biases and leaves the quantizers "
           "alone)";
  if (!unexpected) return " (to load only the keys the dict has, pass strict = false)";
  return "";
}

}  // namespace

template <class T>
void Module<T>::load_state_dict(const StateDict<T>& dict, bool strict) {
  const std::string where = type_name_ + "::load_state_dict";
  std::vector<Entry> slots;
  collect_state("", &slots);
  std::unordered_map<std::string, std::size_t> index;  // key -> position in dict
  for (std::size_t i = 0; i < dict.size(); ++i) {
    XGRAD_CHECK(index.emplace(dict[i].first, i).second, ValueError, where, ": key \"",
                dict[i].first, "\" appears more than once");
  }

  // Validate everything before touching any tensor.
  std::vector<std::string> missing, unexpected, misshaped;
  std::unordered_set<std::string> expected;
  std::vector<std::pair<std::size_t, std::size_t>> writes;  // (slot, dict entry)
  for (std::size_t s = 0; s < slots.size(); ++s) {
    expected.insert(slots[s].name);
    const auto it = index.find(slots[s].name);
    if (it == index.end()) {
      missing.push_back(slots[s].name);
      continue;
    }
    const auto& value = dict[it->second].second;
    const Shape want = slots[s].tensor.shape();
    const Shape got(value.shape().begin(), value.shape().end());
    if (slots[s].fixed_shape && want != got) {
      misshaped.push_back(slots[s].name + " (expected " + to_string(want) + ", got " +
                          to_string(got) + ")");
      continue;
    }
    if (slots[s].bytes) {
      const std::size_t bad = first_non_byte(value);
      XGRAD_CHECK(bad == value.size(), ValueError, where, ": key \"", slots[s].name, "\"[", bad,
                  "] = ", bad < value.size() ? value.data()[bad] : T(0),
                  " is not a byte (an integer in [0, 255]): the entry holds packed codes");
    }
    writes.emplace_back(s, it->second);
  }
  for (const auto& kv : dict) {
    if (!expected.count(kv.first)) unexpected.push_back(kv.first);
  }
  const bool key_errors = strict && (!missing.empty() || !unexpected.empty());
  if (key_errors || !misshaped.empty()) {
    std::string msg = where + ": ";
    std::vector<std::string> parts;
    if (strict && !missing.empty())
      parts.push_back("missing keys: " + some_keys(missing) +
                      missing_keys_hint(missing, !unexpected.empty()));
    if (strict && !unexpected.empty()) parts.push_back("unexpected keys: " + some_keys(unexpected));
    if (!misshaped.empty()) parts.push_back("shape mismatch: " + join(misshaped));
    for (std::size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
    if (key_errors) throw_error<ValueError>(msg);
    throw_error<ShapeError>(msg);
  }

  // Every module checks the values it would hold (depth first, the root first).
  std::vector<std::pair<std::string, const Module<T>*>> stack{{"", this}};
  while (!stack.empty()) {
    const auto [prefix, m] = stack.back();
    stack.pop_back();
    StateCandidate candidate;
    candidate.prefix_ = prefix;
    for (const auto* list : {&m->parameters_, &m->buffers_}) {
      for (const auto& e : *list) {
        const auto it = index.find(prefix + e.name);
        candidate.entries_.emplace_back(
            e.name, it == index.end() ? &e.tensor.data() : &dict[it->second].second);
      }
    }
    m->check_state(candidate);
    for (auto it = m->children_.rbegin(); it != m->children_.rend(); ++it)
      stack.emplace_back(prefix + it->first + ".", it->second.get());
  }

  // Copy first (may throw bad_alloc), then commit with moves, which cannot.
  std::vector<xt::xarray<T>> values;
  values.reserve(writes.size());
  for (const auto& w : writes) values.push_back(dict[w.second].second);
  for (std::size_t i = 0; i < writes.size(); ++i) {
    slots[writes[i].first].tensor.mutable_data() = std::move(values[i]);
  }
}

template <class T>
const xt::xarray<T>& Module<T>::StateCandidate::operator[](const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return *e.second;
  throw_error<StateError>("Module::StateCandidate: no parameter or buffer \"", name, "\" under \"",
                          prefix_, "\"");
}

XGRAD_INSTANTIATE_CLASS(Module);

}  // namespace xgrad
