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

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

// AdamOptions(1e-3).betas({0.9, 0.99}).amsgrad(true).
class AdamOptions {
 public:
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  AdamOptions& lr(double v) { return lr_ = v, *this; }
  AdamOptions& betas(std::pair<double, double> v) { return betas_ = v, *this; }
  AdamOptions& eps(double v) { return eps_ = v, *this; }
  AdamOptions& weight_decay(double v) { return weight_decay_ = v, *this; }
  AdamOptions& amsgrad(bool v) { return amsgrad_ = v, *this; }
  double lr() const { return lr_; }
  const std::pair<double, double>& betas() const { return betas_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }
  bool amsgrad() const { return amsgrad_; }

 private:
  double lr_;
  std::pair<double, double> betas_{0.9, 0.999};
  double eps_ = 1e-8;
  double weight_decay_ = 0;
  bool amsgrad_ = false;
};

// AdamW's defaults: like AdamOptions but weight_decay 1e-2, as in PyTorch.
inline AdamOptions AdamWOptions(double lr = 1e-3) { return AdamOptions(lr).weight_decay(1e-2); }

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

// Adam with decoupled weight decay. Pass AdamWOptions() for PyTorch's defaults.
template <class T>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<Tensor<T>> params, const AdamOptions& options = AdamWOptions());
  AdamW(std::vector<ParamGroup<T>> groups, const AdamOptions& options = AdamWOptions());
};

extern template class Adam<float>;
extern template class Adam<double>;
extern template class AdamW<float>;
extern template class AdamW<double>;

}  // namespace xgrad::optim
