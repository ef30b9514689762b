#include "xgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::optim {

namespace {

void check_adam_options(const char* name, const AdamOptions& o) {
  const std::string who(name);
  auto check_beta = [&](double beta, const char* which) {
    if (!(beta >= 0 && beta < 1)) {
      throw ValueError(who + ": " + which + " must be in [0, 1), got " + format_number(beta));
    }
  };
  check_beta(o.betas().first, "betas.first (beta1)");
  check_beta(o.betas().second, "betas.second (beta2)");
  if (!(o.eps() > 0) || !std::isfinite(o.eps())) {
    throw ValueError(who + ": eps must be > 0, got " + format_number(o.eps()));
  }
}

template <class T>
std::vector<ParamGroup<T>> one_group(std::vector<Tensor<T>> params) {
  return {ParamGroup<T>{std::move(params), std::nullopt, std::nullopt}};
}

}  // namespace

template <class T>
Adam<T>::Adam(const char* name, bool decoupled, std::vector<ParamGroup<T>> groups,
              const AdamOptions& options)
    : Optimizer<T>(name, std::move(groups), options.lr(), options.weight_decay()),
      options_(options),
      decoupled_(decoupled) {
  check_adam_options(name, options_);
}

template <class T>
Adam<T>::Adam(std::vector<Tensor<T>> params, const AdamOptions& options)
    : Adam("Adam", false, one_group(std::move(params)), options) {}

template <class T>
Adam<T>::Adam(std::vector<ParamGroup<T>> groups, const AdamOptions& options)
    : Adam("Adam", false, std::move(groups), options) {}

template <class T>
AdamW<T>::AdamW(std::vector<Tensor<T>> params, const AdamOptions& options)
    : Adam<T>("AdamW", true, one_group(std::move(params)), options) {}

template <class T>
AdamW<T>::AdamW(std::vector<ParamGroup<T>> groups, const AdamOptions& options)
    : Adam<T>("AdamW", true, std::move(groups), options) {}

template <class T>
std::vector<std::string> Adam<T>::buffer_names() const {
  if (options_.amsgrad()) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

template <class T>
std::vector<std::pair<std::string, T>> Adam<T>::shared_options() const {
  return {{"beta1", T(options_.betas().first)},
          {"beta2", T(options_.betas().second)},
          {"eps", T(options_.eps())},
          {"amsgrad", T(options_.amsgrad() ? 1 : 0)}};
}

template <class T>
void Adam<T>::step() {
  NoGradGuard no_grad;
  const double beta1_d = options_.betas().first, beta2_d = options_.betas().second;
  const T beta1 = static_cast<T>(beta1_d), beta2 = static_cast<T>(beta2_d);
  const T one_minus_beta1 = static_cast<T>(1.0 - beta1_d);
  const T one_minus_beta2 = static_cast<T>(1.0 - beta2_d);
  const T eps = static_cast<T>(options_.eps());
  const bool amsgrad = options_.amsgrad();
  std::size_t index = 0;
  for (auto& group : this->groups_) {
    const double lr = group.lr;
    const T wd = group.weight_decay;
    for (Tensor<T>& param : group.params) {
      const std::size_t i = index++;
      const Tensor<T> grad = this->gradient_of(param, i);
      if (!grad.defined()) continue;
      auto& state = this->state_[i];
      if (!state.initialized) {
        state.buffers.assign(amsgrad ? 3 : 2, xt::zeros<T>(param.shape()));
        state.step = 0;
        state.initialized = true;
      }
      const std::int64_t t = ++state.step;
      // Scalars in double, then rounded to T once (as PyTorch's Python floats).
      const double bias_correction1 = 1.0 - std::pow(beta1_d, static_cast<double>(t));
      const double bias_correction2 = 1.0 - std::pow(beta2_d, static_cast<double>(t));
      const T neg_step_size = static_cast<T>(-lr / bias_correction1);
      const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
      const T decay = static_cast<T>(1.0 - lr * static_cast<double>(wd));
      const T l2 = decoupled_ ? T(0) : wd;

      const std::size_t n = param.numel();
      const T* __restrict g = grad.data().data();
      T* __restrict w = param.mutable_data().data();
      T* __restrict m = state.buffers[0].data();
      T* __restrict v = state.buffers[1].data();
      T* __restrict vmax = amsgrad ? state.buffers[2].data() : nullptr;
      if (decoupled_ && wd != 0) {
        for (std::size_t k = 0; k < n; ++k) w[k] *= decay;
      }
      for (std::size_t k = 0; k < n; ++k) {
        const T gk = l2 != 0 ? g[k] + l2 * w[k] : g[k];
        m[k] = beta1 * m[k] + one_minus_beta1 * gk;
        v[k] = beta2 * v[k] + one_minus_beta2 * gk * gk;
        T second = v[k];
        if (amsgrad) second = vmax[k] = std::max(vmax[k], second);
        const T denom = std::sqrt(second) / bc2_sqrt + eps;
        w[k] = w[k] + neg_step_size * m[k] / denom;
      }
    }
  }
}

template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;

}  // namespace xgrad::optim
