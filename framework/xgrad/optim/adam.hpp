// Adam and AdamW with PyTorch's updates (torch.optim.Adam / AdamW). At step t:
//   Adam:  g = grad + weight_decay * param         (L2 penalty in the gradient)
//   AdamW: param = param * (1 - lr * weight_decay)  (decoupled decay), g = grad
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   vmax = max(vmax, v) with amsgrad (then used in place of v)
//   param = param - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State per parameter: "step", "exp_avg" (m), "exp_avg_sq" (v) and, with
// amsgrad, "max_exp_avg_sq" (vmax).
#pragma once

#include <utility>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim::detail {

// The builder both option types share; Self is the option type, so a chain
// like AdamWOptions(1e-3).betas({0.9, 0.99}) keeps its type.
template <class Self>
class AdamOptionsBase {
 public:
  Self& lr(double v) { return lr_ = v, self(); }
  Self& betas(std::pair<double, double> v) { return betas_ = v, self(); }
  Self& eps(double v) { return eps_ = v, self(); }
  Self& weight_decay(double v) { return weight_decay_ = v, self(); }
  Self& amsgrad(bool v) { return amsgrad_ = v, self(); }
  double lr() const { return lr_; }
  const std::pair<double, double>& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }

 protected:
  AdamOptionsBase(double lr, double weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

 private:
  Self& self() { return static_cast<Self&>(*this); }
  double lr_;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_;
  bool amsgrad_ = false;
};

}  // namespace xgrad::optim::detail

namespace xgrad::optim {

// Adam's options, PyTorch's defaults: AdamOptions(1e-3).betas({0.9, 0.99}).amsgrad(true).
// weight_decay defaults to 0.
class AdamOptions : public detail::AdamOptionsBase<AdamOptions> {
 public:
  explicit AdamOptions(double lr = 1e-3) : AdamOptionsBase(lr, 0.0) {}
};

// AdamW's options: a type of its own (AdamW does not take AdamOptions, whose
// weight_decay 0 would silently disable the decay), with PyTorch's AdamW
// defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2.
class AdamWOptions : public detail::AdamOptionsBase<AdamWOptions> {
 public:
  explicit AdamWOptions(double lr = 1e-3) : AdamOptionsBase(lr, 1e-2) {}
};

template <class T>
class Adam : public Optimizer<T> {
 public:
  // ValueError (naming the argument and value) on lr < 0, a beta outside
  // [0, 1), eps <= 0 or weight_decay < 0.
  Adam(std::vector<Tensor<T>> params, const AdamOptions& options = AdamOptions());
  Adam(std::vector<ParamGroup<T>> groups, const AdamOptions& options = AdamOptions());

  void step() override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const char* name, bool decoupled, std::vector<ParamGroup<T>> groups,
       const AdamOptions& options);
  std::vector<std::string> buffer_names() const override;
  bool counts_steps() const override { return true; }
  std::vector<std::pair<std::string, T>> shared_options() const override;

 private:
  AdamOptions options_;
  bool decoupled_;  // AdamW
};

// Adam with decoupled weight decay (torch.optim.AdamW).
template <class T>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options = AdamWOptions());
  AdamW(std::vector<ParamGroup<T>> groups, const AdamWOptions& options = AdamWOptions());
  const AdamWOptions& options() const { return options_; }

 private:
  AdamWOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Adam);
XGRAD_EXTERN_TEMPLATE_CLASS(AdamW);

}  // namespace xgrad::optim
