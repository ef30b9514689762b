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

struct AdamScalars {
  double beta1, beta2, one_minus_beta1, one_minus_beta2, eps;
  double neg_step_size, bias_correction2_sqrt, decay, l2;
};

// One Adam update of n elements in a single pass. decay is 1 for Adam (w * 1
// is exact) and l2 is 0 for AdamW. Scalar code: the sqrt keeps GCC from
// vectorizing without -fno-math-errno, and one pass already beats libtorch's
// several (measured).
template <class T, bool Amsgrad, bool L2>
void adam_update(T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v,
                 T* __restrict vmax, std::size_t n, const AdamScalars& s) {
  const T beta1 = static_cast<T>(s.beta1), beta2 = static_cast<T>(s.beta2);
  const T one_minus_beta1 = static_cast<T>(s.one_minus_beta1);
  const T one_minus_beta2 = static_cast<T>(s.one_minus_beta2);
  const T eps = static_cast<T>(s.eps), neg_step_size = static_cast<T>(s.neg_step_size);
  const T bc2_sqrt = static_cast<T>(s.bias_correction2_sqrt);
  const T decay = static_cast<T>(s.decay), l2 = static_cast<T>(s.l2);
  for (std::size_t k = 0; k < n; ++k) {
    const T wk = w[k] * decay;
    const T gk = L2 ? g[k] + l2 * wk : g[k];
    m[k] = beta1 * m[k] + one_minus_beta1 * gk;
    v[k] = beta2 * v[k] + one_minus_beta2 * gk * gk;
    T second = v[k];
    if (Amsgrad) second = vmax[k] = std::max(vmax[k], second);
    const T denom = std::sqrt(second) / bc2_sqrt + eps;
    w[k] = wk + neg_step_size * m[k] / denom;
  }
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
  // Scalars are computed in double and rounded to T once, as PyTorch does
  // with its Python-float hyper-parameters.
  AdamScalars s{};
  s.beta1 = options_.betas().first;
  s.beta2 = options_.betas().second;
  s.one_minus_beta1 = 1.0 - s.beta1;
  s.one_minus_beta2 = 1.0 - s.beta2;
  s.eps = options_.eps();
  const bool amsgrad = options_.amsgrad();
  const std::vector<Tensor<T>> grads = this->gradients();
  std::size_t index = 0;
  for (auto& group : this->groups_) {
    const double lr = group.lr, wd = group.weight_decay;
    for (Tensor<T>& param : group.params) {
      const std::size_t i = index++;
      const Tensor<T>& grad = grads[i];
      if (!grad.defined()) continue;
      auto& state = this->state_[i];
      if (!state.initialized) {
        state.buffers.assign(amsgrad ? 3 : 2, xt::zeros<T>(param.shape()));
        state.step = 0;
        state.initialized = true;
      }
      const auto t = static_cast<double>(++state.step);
      s.neg_step_size = -lr / (1.0 - std::pow(s.beta1, t));
      s.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(s.beta2, t));
      s.decay = decoupled_ ? 1.0 - lr * wd : 1.0;
      s.l2 = decoupled_ ? 0.0 : wd;

      const std::size_t n = param.numel();
      const T* g = grad.data().data();
      T* w = param.mutable_data().data();
      T* m = state.buffers[0].data();
      T* v = state.buffers[1].data();
      T* vmax = amsgrad ? state.buffers[2].data() : nullptr;
      const bool l2 = s.l2 != 0;
      if (amsgrad) {
        l2 ? adam_update<T, true, true>(w, g, m, v, vmax, n, s)
           : adam_update<T, true, false>(w, g, m, v, vmax, n, s);
      } else {
        l2 ? adam_update<T, false, true>(w, g, m, v, vmax, n, s)
           : adam_update<T, false, false>(w, g, m, v, vmax, n, s);
      }
    }
  }
}

template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;

}  // namespace xgrad::optim
