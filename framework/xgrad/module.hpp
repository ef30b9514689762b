// Module<T>: the base of every layer, named like libtorch's torch::nn::Module.
// A module owns named parameters (trainable tensors), buffers (state that is
// saved but not trained, e.g. BatchNorm's running statistics or APoT qparams)
// and child modules. Children never point back to their parent.
//
// train()/eval() only flip a flag (recursively): they do not turn gradients
// off, because QAT needs gradients while observers are frozen.
//
// Float vs double: a Module<T> is typed, and tensors of different element types
// never mix, so there is no in-place `to(double)`. Converting a model means
// building the same architecture as Module<U> and loading
// convert_state_dict<U>(model.state_dict()) into it: explicit, and the only
// lossy direction (double -> float, rounding to nearest) is visible at the call.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/ordered_dict.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

// What a layer's weight takes to store (summary() shows it): its bytes as
// held and saved (packed codes, tables, scales), and as float32.
struct WeightStorage {
  std::size_t bytes = 0, float_bytes = 0;
};

// Name -> array, in registration order (dotted names: "0.weight", "fc1.bias").
template <class T>
using StateDict = std::vector<std::pair<std::string, xt::xarray<T>>>;

// Modules are meant to be owned by std::shared_ptr (as in libtorch):
// named_modules() with include_self and apply()'s shared_ptr variant need it.
template <class T>
class Module : public std::enable_shared_from_this<Module<T>> {
 public:
  using value_type = T;

  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // A unary forward for layers used in Sequential; the default throws
  // StateError naming the module type.
  virtual Tensor<T> forward(const Tensor<T>& input);
  Tensor<T> operator()(const Tensor<T>& input) { return forward(input); }

  // Registration returns the registered handle (an alias of the stored one).
  // Names must be non-empty, contain no '.', and be unique within the module
  // across parameters, buffers and children (ValueError otherwise). Tensors
  // must be defined; a parameter must be a leaf (ValueError otherwise).
  Tensor<T> register_parameter(const std::string& name, Tensor<T> tensor,
                               bool requires_grad = true);
  // A buffer with fixed_shape = false may change shape (APoT level sets):
  // load_state_dict then accepts any shape for it.
  Tensor<T> register_buffer(const std::string& name, Tensor<T> tensor, bool fixed_shape = true);
  // A buffer of bytes (packed low-bit codes): every element an integer in
  // [0, 255] (ValueError otherwise, naming the element), any shape on load.
  // save(module, path) writes it as a uint8 .npy member, a quarter of the
  // float bytes; load_state_dict refuses a value that is not a byte
  // (ValueError naming the key and the element), before anything changes.
  Tensor<T> register_byte_buffer(const std::string& name, Tensor<T> tensor);
  // Also rejects a null module and one that would make the tree a cycle.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // Own entries first, then each child's (depth first) with "child." prefixes.
  // A tensor (or module) reachable twice, e.g. a shared child, is listed once
  // under its first name, so an optimizer never updates it twice.
  // The named forms are OrderedDicts (ordered_dict.hpp), as libtorch's: items
  // with key() / value() (and first / second), lookup by name.
  std::vector<Tensor<T>> parameters(bool recurse = true) const;
  OrderedDict<Tensor<T>> named_parameters(bool recurse = true) const;
  std::vector<Tensor<T>> buffers(bool recurse = true) const;
  OrderedDict<Tensor<T>> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module<T>>> children() const;
  // The direct children in registration order (a reference to the stored
  // list: replace_module updates it in place, register_module appends).
  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& named_children() const {
    return children_;
  }
  // This module's descendants, depth first, not including itself.
  std::vector<std::shared_ptr<Module<T>>> modules() const;
  // This module (named `prefix`) and its descendants, depth first in
  // registration order, with dotted names ("prefix.fc1.0"); a module reachable
  // twice is listed once, under its first name (libtorch's named_modules).
  // include_self needs this module to be owned by a shared_ptr (StateError
  // otherwise: pass include_self = false).
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> named_modules(
      const std::string& prefix = "", bool include_self = true) const;

  // Calls fn on this module, then on every descendant, depth first in
  // registration order (pre-order, as libtorch's apply; PyTorch's Python apply
  // visits children first). Each module once. The named variant passes the
  // dotted name ("" for this module, or `prefix`). fn may change a module's
  // state but must not add, remove or replace children while being applied
  // (collect names with named_modules() first, then replace).
  void apply(const std::function<void(Module<T>&)>& fn);
  void apply(const std::function<void(const std::string&, Module<T>&)>& fn,
             const std::string& prefix = "");

  // Replaces the direct child registered as `name` by `module`, keeping its
  // position (so state dict order and Sequential order stay), and returns
  // `module`. ValueError when there is no such child, `module` is null or it
  // would make the tree a cycle; nothing changes then. libtorch's contract:
  // only the registered child is replaced; a member handle that points at the
  // old child (e.g. `net.fc1`) is the caller's to refresh:
  //   net.fc1 = net.replace_module("fc1", std::make_shared<Linear<float>>(4, 2));
  // nn::Sequential forwards through its registered children, so replacing
  // one of them takes effect; a module that forwards through a member handle
  // (a fake quantizer's activation_post_process, a QAT layer's
  // weight_fake_quant) keeps using the old child until the handle is refreshed.
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    swap_child(name, module);
    return module;
  }

  // This module as an M (M* / nullptr when it is not one), libtorch's as<M>().
  template <class M>
  M* as() {
    return dynamic_cast<M*>(this);
  }
  template <class M>
  const M* as() const {
    return dynamic_cast<const M*>(this);
  }

  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops every parameter's gradient (grad() becomes undefined).
  void zero_grad();

  // Parameters and buffers by dotted name (copies of the arrays); per module,
  // its parameters, then its buffers, then its children's entries.
  StateDict<T> state_dict() const;
  // The dotted names of the byte buffers (register_byte_buffer) in state-dict
  // order: the members save() writes as uint8.
  std::vector<std::string> byte_state_keys() const;
  // strict: every missing, unexpected or mis-shaped key is reported in one
  // error (ShapeError when only shapes are wrong, ValueError otherwise).
  // Non-strict ignores missing and unexpected keys but still rejects bad
  // shapes. A key given twice is a ValueError. Every module of the tree then
  // checks the values it would hold (check_state below: ValueError, e.g. codes
  // outside a level set). Nothing is modified unless the whole dict is valid;
  // values are written into the existing tensors, so handles held elsewhere
  // (optimizers) see them.
  void load_state_dict(const StateDict<T>& dict, bool strict = true);

  const std::string& type_name() const { return type_name_; }

  // A layer that stores its weight other than as float (converted quantized
  // layers) says how much it takes; the default is none (zeros).
  virtual WeightStorage weight_storage() const;

  // ---- state validation (load_state_dict) ----
  // One module's own parameters and buffers as a load would leave them: the
  // loaded value where the dict has one, the current value otherwise.
  class StateCandidate {
   public:
    // The array of own entry `name` (StateError if there is none).
    const xt::xarray<T>& operator[](const std::string& name) const;
    // This module's dotted path in the dict ("" for the root, "fc1." below),
    // for messages: prefix() + name is the full key.
    const std::string& prefix() const { return prefix_; }
    std::string key(const std::string& name) const { return prefix_ + name; }

   private:
    friend class Module<T>;
    std::string prefix_;
    std::vector<std::pair<std::string, const xt::xarray<T>*>> entries_;
  };

 protected:
  // Refuses a state this module cannot work with, before anything is written:
  // throw ValueError naming the key (state.key(name)) and the bad value. The
  // default accepts everything; shapes are checked already (fixed_shape).
  virtual void check_state(const StateCandidate& state) const { (void)state; }

  void add_child(const std::string& name, std::shared_ptr<Module<T>> module);
  void swap_child(const std::string& name, std::shared_ptr<Module<T>> module);

 private:
  struct Entry {
    std::string name;
    Tensor<T> tensor;
    bool fixed_shape = true;
    bool bytes = false;  // register_byte_buffer's
    // Set by collect_state: the module that registered it, and its local name.
    const Module<T>* owner = nullptr;
    std::string local_name;
  };
  void check_new_name(const std::string& name, const char* what) const;
  // ValueError if `module` is this module or one of its descendants.
  void check_no_cycle(const std::string& name, const Module<T>& module, const char* what) const;
  // Every parameter and buffer with its dotted name, in state-dict order.
  void collect_state(const std::string& prefix, std::vector<Entry>* out) const;
  void collect_modules(const std::string& prefix,
                       std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>* out,
                       std::vector<const Module<T>*>* seen) const;
  // named_parameters (params) or named_buffers: each tensor once, under its
  // first name.
  OrderedDict<Tensor<T>> named_tensors(bool params, bool recurse) const;
  void collect_named(bool params, bool recurse, const std::string& prefix,
                     OrderedDict<Tensor<T>>* out, std::vector<const void*>* seen_storage,
                     std::vector<const Module<T>*>* seen_modules) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<Entry> parameters_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
};

// Converts every array of a state dict to element type U (exact for float ->
// double; double -> float rounds to nearest).
template <class U, class T>
StateDict<U> convert_state_dict(const StateDict<T>& dict) {
  StateDict<U> out;
  out.reserve(dict.size());
  for (const auto& kv : dict) {
    xt::xarray<U> a = xt::xarray<U>::from_shape(kv.second.shape());
    std::copy(kv.second.begin(), kv.second.end(), a.begin());
    out.emplace_back(kv.first, std::move(a));
  }
  return out;
}

XGRAD_EXTERN_TEMPLATE_CLASS(Module);

}  // namespace xgrad

namespace xgrad::nn {

// libtorch's torch::nn::Module, for float models: `struct Net : nn::Module`.
// A double model derives from xgrad::Module<double>. (Inside xgrad::nn the
// template is spelled xgrad::Module<T>.)
using Module = xgrad::Module<float>;

}  // namespace xgrad::nn
