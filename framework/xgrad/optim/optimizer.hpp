// Optimizer<T>: the base of SGD, Adam and AdamW, named like libtorch's
// torch::optim::Optimizer. An optimizer updates its parameters in place
// (under NoGradGuard, bumping their versions) from their accumulated
// gradients; parameters without a gradient are skipped.
//
// Parameters come in groups, each with its own learning rate and weight decay
// (QAT trains clipping parameters with their own lr and no decay). Parameters
// are numbered like PyTorch does: group 0's in order, then group 1's, ...
//
// Precision: a group's lr and weight decay are held in T, the parameters'
// precision, so that a state dict (arrays of T) holds them exactly and a
// resumed run continues bit-identically. PyTorch rounds them to the parameter
// dtype at the point of use anyway.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"  // StateDict
#include "xgrad/tensor.hpp"

namespace xgrad::optim {

// Parameters trained with their own lr and/or weight decay; unset values take
// the optimizer's defaults (its options).
template <class T>
struct ParamGroup {
  std::vector<Tensor<T>> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

// All of `params` as one group with the optimizer's defaults (the optimizers'
// constructors from a plain parameter list).
template <class T>
std::vector<ParamGroup<T>> one_group(std::vector<Tensor<T>> params) {
  return {ParamGroup<T>{std::move(params), std::nullopt, std::nullopt}};
}

template <class T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();

  std::size_t num_param_groups() const { return groups_.size(); }
  // Throw ValueError on a group index out of range.
  const std::vector<Tensor<T>>& params(std::size_t group) const;
  double lr(std::size_t group) const;
  // Rounds lr to T; ValueError if lr < 0 or not finite.
  void set_lr(std::size_t group, double lr);
  double weight_decay(std::size_t group) const;

  // "optimizer.<name>" (the kind, e.g. "optimizer.AdamW"; 0-d, value 1),
  // "param_groups.<g>.{lr,weight_decay,params}" (params: the indices of the
  // group's parameters), "options.<name>" (options shared by all groups, saved
  // so that loading into a differently configured optimizer fails loudly) and
  // "state.<i>.<name>" for every parameter that has state (e.g.
  // "state.0.momentum_buffer", "state.0.step", "state.0.exp_avg"). 0-d arrays
  // for scalars.
  StateDict<T> state_dict() const;
  // Replaces the groups' lr and weight decay and all per-parameter state.
  // A state dict of another kind of optimizer (an Adam one into AdamW) is a
  // TypeError naming both kinds.
  // The whole dict is validated first (every missing, unexpected, mis-shaped
  // or invalid entry is reported in one ValueError, or ShapeError if all
  // problems are shapes); nothing changes unless it is valid.
  void load_state_dict(const StateDict<T>& dict);

  // "SGD", "Adam", "AdamW" (prefix of error messages).
  const std::string& name() const { return name_; }

 protected:
  struct Group {
    std::vector<Tensor<T>> params;
    T lr;
    T weight_decay;
  };
  // The state of one parameter, created at its first update.
  struct ParamState {
    bool initialized = false;
    std::int64_t step = 0;               // saved only if counts_steps()
    std::vector<xt::xarray<T>> buffers;  // named by buffer_names()
  };

  // Validates the groups (non-empty, defined leaf tensors, no parameter twice,
  // lr and weight decay >= 0) and fills unset values from the defaults.
  Optimizer(std::string name, std::vector<ParamGroup<T>> groups, double default_lr,
            double default_weight_decay);

  // Names of ParamState::buffers, in order ("momentum_buffer").
  virtual std::vector<std::string> buffer_names() const = 0;
  // Whether ParamState::step is part of the state (Adam's bias correction).
  virtual bool counts_steps() const = 0;
  // Options shared by all groups, by name, as saved in the state dict.
  virtual std::vector<std::pair<std::string, T>> shared_options() const = 0;

  // Every parameter's gradient by index (undefined where there is none), all
  // checked before step() changes anything: ShapeError if a gradient's or a
  // state buffer's shape differs from its parameter's.
  std::vector<Tensor<T>> gradients() const;
  // The loop of step(): gradients() first, then update(group, param, grad,
  // state) for each parameter that has a gradient.
  template <class Update>
  void for_each_update(Update update) {
    const std::vector<Tensor<T>> grads = gradients();
    std::size_t i = 0;
    for (Group& group : groups_) {
      for (Tensor<T>& param : group.params) {
        ParamState& state = state_[i];
        const Tensor<T>& grad = grads[i++];
        if (grad.defined()) update(group, param, grad, state);
      }
    }
  }

  std::vector<Group> groups_;
  std::vector<ParamState> state_;  // by parameter index

 private:
  std::string name_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Optimizer);

}  // namespace xgrad::optim
