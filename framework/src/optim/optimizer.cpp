#include "xgrad/optim/optimizer.hpp"

#include <cmath>
#include <map>
#include <set>

#include "xgrad/errors.hpp"

namespace xgrad::optim {

namespace {

bool non_negative(double v) { return v >= 0 && std::isfinite(v); }

// The largest count (step, epoch) a state dict may hold: every integer up to
// 2^53 is exact in double, and it converts to int64 without overflow.
constexpr double kMaxCount = 9007199254740992.0;

// "optimizer.<name>" (0-d, value 1) names the optimizer a state dict is from.
const std::string kKindPrefix = "optimizer.";

// "param_groups.<g>.<field>" / "state.<i>.<name>": splits "<prefix><index>.<rest>".
bool parse_indexed(const std::string& key, const std::string& prefix, std::size_t& index,
                   std::string& rest) {
  if (key.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t dot = key.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size()) return false;
  const std::string digits = key.substr(prefix.size(), dot - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) {
    return false;
  }
  index = static_cast<std::size_t>(std::stoul(digits));
  rest = key.substr(dot + 1);
  return !rest.empty();
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer(std::string name, std::vector<ParamGroup<T>> groups, double default_lr,
                        double default_weight_decay)
    : name_(std::move(name)) {
  XGRAD_CHECK(non_negative(default_lr), ValueError, name_, ": lr must be >= 0, got ", default_lr);
  XGRAD_CHECK(non_negative(default_weight_decay), ValueError, name_,
              ": weight_decay must be >= 0, got ", default_weight_decay);
  XGRAD_CHECK(!groups.empty(), ValueError, name_, ": got an empty list of parameter groups");
  std::set<const void*> seen;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const ParamGroup<T>& group = groups[g];
    const std::string where = name_ + ": param group " + std::to_string(g);
    XGRAD_CHECK(!group.params.empty(), ValueError, where, " has no parameters");
    const double lr = group.lr.value_or(default_lr);
    const double wd = group.weight_decay.value_or(default_weight_decay);
    XGRAD_CHECK(non_negative(lr), ValueError, where, ": lr must be >= 0, got ", lr);
    XGRAD_CHECK(non_negative(wd), ValueError, where, ": weight_decay must be >= 0, got ", wd);
    for (std::size_t k = 0; k < group.params.size(); ++k) {
      const Tensor<T>& p = group.params[k];
      const std::string which = where + ", parameter " + std::to_string(k);
      XGRAD_CHECK(p.defined(), ValueError, which, " is undefined");
      XGRAD_CHECK(p.is_leaf(), ValueError, which, " is not a leaf (produced by ", p.grad_fn_name(),
                  "); optimize leaves only");
      // Two handles of one tensor share storage: updating it twice is a bug.
      XGRAD_CHECK(seen.insert(p.storage().get()).second, ValueError, which,
                  " appears more than once among the parameters");
    }
    groups_.push_back(Group{group.params, static_cast<T>(lr), static_cast<T>(wd)});
  }
  state_.resize(seen.size());
}

template <class T>
void Optimizer<T>::zero_grad() {
  for (Group& group : groups_) {
    for (Tensor<T>& p : group.params) p.zero_grad();
  }
}

template <class T>
const std::vector<Tensor<T>>& Optimizer<T>::params(std::size_t group) const {
  XGRAD_CHECK(group < groups_.size(), ValueError, name_, "::params: group ", group,
              " out of range (", groups_.size(), " groups)");
  return groups_[group].params;
}

template <class T>
double Optimizer<T>::lr(std::size_t group) const {
  XGRAD_CHECK(group < groups_.size(), ValueError, name_, "::lr: group ", group, " out of range (",
              groups_.size(), " groups)");
  return groups_[group].lr;
}

template <class T>
void Optimizer<T>::set_lr(std::size_t group, double lr) {
  XGRAD_CHECK(group < groups_.size(), ValueError, name_, "::set_lr: group ", group,
              " out of range (", groups_.size(), " groups)");
  XGRAD_CHECK(non_negative(lr), ValueError, name_, "::set_lr: lr must be >= 0, got ", lr);
  groups_[group].lr = static_cast<T>(lr);
}

template <class T>
double Optimizer<T>::weight_decay(std::size_t group) const {
  XGRAD_CHECK(group < groups_.size(), ValueError, name_, "::weight_decay: group ", group,
              " out of range (", groups_.size(), " groups)");
  return groups_[group].weight_decay;
}

template <class T>
std::vector<Tensor<T>> Optimizer<T>::gradients() const {
  std::vector<Tensor<T>> grads;
  grads.reserve(state_.size());
  for (const Group& group : groups_) {
    for (const Tensor<T>& param : group.params) {
      Tensor<T> g = param.grad();
      XGRAD_CHECK(!g.defined() || g.shape() == param.shape(), ShapeError, name_,
                  "::step: parameter ", grads.size(), " has shape ", param.shape(),
                  " but its gradient has shape ", g.shape());
      // A parameter whose array was replaced by one of another shape after its
      // state was created: the kernels would run past the state's buffers.
      const ParamState& s = state_[grads.size()];
      for (const auto& buffer : s.buffers) {
        XGRAD_CHECK(buffer.shape() == param.shape(), ShapeError, name_, "::step: parameter ",
                    grads.size(), " has shape ", param.shape(), " but its state has shape ",
                    buffer.shape());
      }
      grads.push_back(std::move(g));
    }
  }
  return grads;
}

template <class T>
StateDict<T> Optimizer<T>::state_dict() const {
  StateDict<T> dict;
  // The kind, so that loading into another kind of optimizer is a TypeError.
  dict.emplace_back(kKindPrefix + name_, xt::xarray<T>(T(1)));
  std::size_t index = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    dict.emplace_back(prefix + "lr", xt::xarray<T>(groups_[g].lr));
    dict.emplace_back(prefix + "weight_decay", xt::xarray<T>(groups_[g].weight_decay));
    xt::xarray<T> indices = xt::zeros<T>({groups_[g].params.size()});
    for (std::size_t k = 0; k < groups_[g].params.size(); ++k) indices(k) = T(index++);
    dict.emplace_back(prefix + "params", std::move(indices));
  }
  for (const auto& option : shared_options()) {
    dict.emplace_back("options." + option.first, xt::xarray<T>(option.second));
  }
  const std::vector<std::string> names = buffer_names();
  for (std::size_t i = 0; i < state_.size(); ++i) {
    const ParamState& s = state_[i];
    if (!s.initialized) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (counts_steps()) {
      // T holds integers exactly up to 2^24 (float); refuse to save a wrong count.
      XGRAD_CHECK(static_cast<std::int64_t>(static_cast<T>(s.step)) == s.step, StateError, name_,
                  "::state_dict: step count ", s.step, " of parameter ", i,
                  " is not exact in this type");
      dict.emplace_back(prefix + "step", xt::xarray<T>(static_cast<T>(s.step)));
    }
    for (std::size_t b = 0; b < names.size(); ++b)
      dict.emplace_back(prefix + names[b], s.buffers[b]);
  }
  return dict;
}

template <class T>
void Optimizer<T>::load_state_dict(const StateDict<T>& dict) {
  const std::string where = name_ + "::load_state_dict";
  std::vector<std::string> problems;
  std::size_t shape_problems = 0;
  std::map<std::string, const xt::xarray<T>*> entries;
  for (const auto& entry : dict) {
    if (!entries.emplace(entry.first, &entry.second).second) {
      problems.push_back("duplicate key \"" + entry.first + "\"");
    }
  }
  std::set<std::string> used;
  // Another optimizer's state would fail in confusing ways below (Adam's and
  // AdamW's even load silently): the kind decides first.
  const std::string kind_key = kKindPrefix + name_;
  for (const auto& entry : entries) {
    XGRAD_CHECK(
        entry.first.compare(0, kKindPrefix.size(), kKindPrefix) != 0 || entry.first == kind_key,
        TypeError, where, ": the state dict is from ", entry.first.substr(kKindPrefix.size()),
        ", not ", name_, " (key \"", entry.first, "\")");
  }
  if (entries.count(kind_key)) {
    used.insert(kind_key);
  } else {
    problems.push_back("missing key \"" + kind_key + "\" (the optimizer kind)");
  }
  // A required 0-d entry; null if missing or mis-shaped (reported).
  auto scalar = [&](const std::string& key) -> const xt::xarray<T>* {
    auto it = entries.find(key);
    if (it == entries.end()) {
      problems.push_back("missing key \"" + key + "\"");
      return nullptr;
    }
    used.insert(key);
    if (it->second->dimension() != 0) {
      problems.push_back(
          format_message("\"", key, "\" must be 0-d, got shape ", it->second->shape()));
      ++shape_problems;
      return nullptr;
    }
    return it->second;
  };

  std::vector<T> new_lr(groups_.size()), new_wd(groups_.size());
  std::size_t first = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    new_lr[g] = groups_[g].lr;
    new_wd[g] = groups_[g].weight_decay;
    if (const auto* v = scalar(prefix + "lr")) {
      if (!non_negative((*v)())) {
        problems.push_back(format_message("\"", prefix, "lr\" must be >= 0, got ", (*v)()));
      }
      new_lr[g] = (*v)();
    }
    if (const auto* v = scalar(prefix + "weight_decay")) {
      if (!non_negative((*v)())) {
        problems.push_back(
            format_message("\"", prefix, "weight_decay\" must be >= 0, got ", (*v)()));
      }
      new_wd[g] = (*v)();
    }
    const std::size_t n = groups_[g].params.size();
    auto it = entries.find(prefix + "params");
    if (it == entries.end()) {
      problems.push_back("missing key \"" + prefix + "params\"");
    } else {
      used.insert(it->first);
      const xt::xarray<T>& indices = *it->second;
      bool same = indices.dimension() == 1 && indices.size() == n;
      for (std::size_t k = 0; same && k < n; ++k) same = indices(k) == T(first + k);
      if (!same) {
        problems.push_back(format_message("\"", prefix, "params\" does not list parameters ", first,
                                          "..", first + n - 1,
                                          " (the groups differ from this optimizer's)"));
      }
    }
    first += n;
  }

  for (const auto& option : shared_options()) {
    const std::string key = "options." + option.first;
    if (const auto* v = scalar(key)) {
      if ((*v)() != option.second) {
        problems.push_back(
            format_message("\"", key, "\" is ", (*v)(), " but this optimizer has ", option.second));
      }
    }
  }

  // Per-parameter state: any subset of parameters, each complete.
  const std::vector<std::string> names = buffer_names();
  std::vector<Tensor<T>> flat;
  for (const Group& group : groups_)
    flat.insert(flat.end(), group.params.begin(), group.params.end());
  std::vector<ParamState> new_state(state_.size());
  for (const auto& entry : entries) {
    std::size_t i = 0;
    std::string rest;
    if (!parse_indexed(entry.first, "state.", i, rest)) continue;
    if (i >= flat.size()) continue;  // reported as unexpected below
    if (new_state[i].initialized) continue;
    new_state[i].initialized = true;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (counts_steps()) {
      if (const auto* v = scalar(prefix + "step")) {
        const T step = (*v)();
        // Bounded so that the cast to int64 is defined (inf and 1e30 are not counts).
        if (!(step >= 0 && step <= kMaxCount) || step != std::floor(step)) {
          problems.push_back(format_message("\"", prefix, "step\" must be an integer >= 0, got ",
                                            step, " (at most 2^53)"));
        } else {
          new_state[i].step = static_cast<std::int64_t>(step);
        }
      }
    }
    for (const std::string& name : names) {
      auto it = entries.find(prefix + name);
      if (it == entries.end()) {
        problems.push_back("missing key \"" + prefix + name + "\"");
        continue;
      }
      used.insert(it->first);
      if (it->second->shape() != flat[i].shape()) {
        problems.push_back(format_message("\"", it->first, "\" has shape ", it->second->shape(),
                                          " but parameter ", i, " has shape ", flat[i].shape()));
        ++shape_problems;
        continue;
      }
      new_state[i].buffers.push_back(*it->second);
    }
  }
  for (const auto& entry : entries) {
    if (!used.count(entry.first)) problems.push_back("unexpected key \"" + entry.first + "\"");
  }

  if (!problems.empty()) {
    std::string message = where + ": ";
    for (std::size_t k = 0; k < problems.size(); ++k) message += (k ? "; " : "") + problems[k];
    if (shape_problems == problems.size()) throw_error<ShapeError>(message);
    throw_error<ValueError>(message);
  }
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].lr = new_lr[g];
    groups_[g].weight_decay = new_wd[g];
  }
  state_ = std::move(new_state);
}

XGRAD_INSTANTIATE_CLASS(Optimizer);

}  // namespace xgrad::optim
