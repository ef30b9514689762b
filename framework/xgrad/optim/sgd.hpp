// Stochastic gradient descent with momentum, dampening, Nesterov momentum and
// (L2) weight decay, with PyTorch's update (torch.optim.SGD):
//   d = grad + weight_decay * param
//   buf = d at the first step, then momentum * buf + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf          (when momentum != 0)
//   param = param - lr * d
#pragma once

#include <vector>

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

// SGDOptions(0.1).momentum(0.9).nesterov(true): the defaults of every group;
// a group may override lr and weight_decay.
class SGDOptions {
 public:
  explicit SGDOptions(double lr) : lr_(lr) {}
  XGRAD_ARG(double, lr);
  XGRAD_ARG(double, momentum) = 0;
  XGRAD_ARG(double, dampening) = 0;
  XGRAD_ARG(double, weight_decay) = 0;
  XGRAD_ARG(bool, nesterov) = false;
};

template <class T>
class SGD : public Optimizer<T> {
 public:
  // ValueError (naming the argument and value) on lr < 0, momentum < 0,
  // weight_decay < 0, or nesterov without momentum or with dampening.
  SGD(std::vector<Tensor<T>> params, const SGDOptions& options);
  SGD(std::vector<ParamGroup<T>> groups, const SGDOptions& options);

  void step() override;
  const SGDOptions& options() const { return options_; }

 protected:
  std::vector<std::string> buffer_names() const override;
  bool counts_steps() const override { return false; }
  std::vector<std::pair<std::string, T>> shared_options() const override;

 private:
  SGDOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(SGD);

}  // namespace xgrad::optim
