#include "xgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

#if __has_include(<xsimd/xsimd.hpp>)
#include <xsimd/xsimd.hpp>
#define XGRAD_ADAM_SIMD 1
#else
#define XGRAD_ADAM_SIMD 0
#endif

namespace xgrad::optim {

namespace {

void check_adam_options(const char* name, const AdamOptions& o) {
  const std::string who(name);
  auto check_beta = [&](double beta, const char* which) {
    XGRAD_CHECK(beta >= 0 && beta < 1, ValueError, who, ": ", which, " must be in [0, 1), got ",
                beta);
  };
  check_beta(o.betas().first, "betas.first (beta1)");
  check_beta(o.betas().second, "betas.second (beta2)");
  XGRAD_CHECK(o.eps() > 0 && std::isfinite(o.eps()), ValueError, who, ": eps must be > 0, got ",
              o.eps());
}

// The scalars of one update, rounded to the element type once (as PyTorch
// does with its Python-float hyper-parameters). decay is 1 for Adam (w * 1 is
// exact); l2 is 0 for AdamW.
template <class V>
struct AdamCoeffs {
  V beta1, one_minus_beta1, beta2, one_minus_beta2, eps, neg_step_size, bc2_sqrt, decay, l2;
};

// The update of one element (V = T) or of one SIMD batch (V = xsimd::batch<T>):
// the same IEEE operations in the same order, so both give the same bits.
template <class V, bool Amsgrad, bool L2>
inline void adam_element(V& w, const V& g, V& m, V& v, V& vmax, const AdamCoeffs<V>& c) {
  using std::max;
  using std::sqrt;
  const V wk = w * c.decay;
  const V gk = L2 ? V(g + c.l2 * wk) : g;
  m = c.beta1 * m + c.one_minus_beta1 * gk;
  v = c.beta2 * v + c.one_minus_beta2 * gk * gk;
  V second = v;
  if (Amsgrad) second = vmax = max(vmax, second);
  const V denom = sqrt(second) / c.bc2_sqrt + c.eps;
  w = wk + c.neg_step_size * m / denom;
}

// One pass over n elements. Explicit SIMD where xsimd is available: GCC does
// not vectorize std::sqrt without -fno-math-errno (about 3x on large
// parameters, measured); the tail and other platforms use the scalar path.
template <class T, bool Amsgrad, bool L2>
void adam_update(T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v,
                 T* __restrict vmax, std::size_t n, const AdamCoeffs<T>& c) {
  std::size_t k = 0;
#if XGRAD_ADAM_SIMD
  using B = xsimd::batch<T>;
  const AdamCoeffs<B> cb{B(c.beta1), B(c.one_minus_beta1), B(c.beta2),    B(c.one_minus_beta2),
                         B(c.eps),   B(c.neg_step_size),   B(c.bc2_sqrt), B(c.decay),
                         B(c.l2)};
  for (; k + B::size <= n; k += B::size) {
    B wk = B::load_unaligned(w + k), mk = B::load_unaligned(m + k), vk = B::load_unaligned(v + k);
    B vmaxk = Amsgrad ? B::load_unaligned(vmax + k) : B(T(0));
    adam_element<B, Amsgrad, L2>(wk, B::load_unaligned(g + k), mk, vk, vmaxk, cb);
    wk.store_unaligned(w + k);
    mk.store_unaligned(m + k);
    vk.store_unaligned(v + k);
    if (Amsgrad) vmaxk.store_unaligned(vmax + k);
  }
#endif
  for (; k < n; ++k) {
    T vmaxk = Amsgrad ? vmax[k] : T(0);
    adam_element<T, Amsgrad, L2>(w[k], g[k], m[k], v[k], vmaxk, c);
    if (Amsgrad) vmax[k] = vmaxk;
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

namespace {

// The shared update reads AdamOptions; AdamW's differ only in their defaults.
AdamOptions as_adam_options(const AdamWOptions& o) {
  return AdamOptions(o.lr())
      .betas(o.betas())
      .eps(o.eps())
      .weight_decay(o.weight_decay())
      .amsgrad(o.amsgrad());
}

}  // namespace

template <class T>
AdamW<T>::AdamW(std::vector<Tensor<T>> params, const AdamWOptions& options)
    : Adam<T>("AdamW", true, one_group(std::move(params)), as_adam_options(options)),
      options_(options) {}

template <class T>
AdamW<T>::AdamW(std::vector<ParamGroup<T>> groups, const AdamWOptions& options)
    : Adam<T>("AdamW", true, std::move(groups), as_adam_options(options)), options_(options) {}

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
  const double beta1 = options_.betas().first, beta2 = options_.betas().second;
  const bool amsgrad = options_.amsgrad();
  this->for_each_update([&](const auto& group, Tensor<T>& param, const Tensor<T>& grad,
                            auto& state) {
    const double lr = group.lr, wd = group.weight_decay;
    if (!state.initialized) {
      state.buffers.assign(amsgrad ? 3 : 2, xt::zeros<T>(param.shape()));
      state.step = 0;
      state.initialized = true;
    }
    const auto t = static_cast<double>(++state.step);
    AdamCoeffs<T> c;
    c.beta1 = static_cast<T>(beta1);
    c.one_minus_beta1 = static_cast<T>(1.0 - beta1);
    c.beta2 = static_cast<T>(beta2);
    c.one_minus_beta2 = static_cast<T>(1.0 - beta2);
    c.eps = static_cast<T>(options_.eps());
    c.neg_step_size = static_cast<T>(-lr / (1.0 - std::pow(beta1, t)));
    c.bc2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(beta2, t)));
    c.decay = static_cast<T>(decoupled_ ? 1.0 - lr * wd : 1.0);
    c.l2 = static_cast<T>(decoupled_ ? 0.0 : wd);

    const std::size_t n = param.numel();
    const T* g = grad.data().data();
    T* w = param.mutable_data().data();
    T* m = state.buffers[0].data();
    T* v = state.buffers[1].data();
    T* vmax = amsgrad ? state.buffers[2].data() : nullptr;
    const bool l2 = c.l2 != 0;
    // Elements are independent: ranges over threads for large parameters.
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      T* vm = amsgrad ? vmax + b : nullptr;
      if (amsgrad) {
        l2 ? adam_update<T, true, true>(w + b, g + b, m + b, v + b, vm, e - b, c)
           : adam_update<T, true, false>(w + b, g + b, m + b, v + b, vm, e - b, c);
      } else {
        l2 ? adam_update<T, false, true>(w + b, g + b, m + b, v + b, vm, e - b, c)
           : adam_update<T, false, false>(w + b, g + b, m + b, v + b, vm, e - b, c);
      }
    });
  });
}

XGRAD_INSTANTIATE_CLASS(Adam);
XGRAD_INSTANTIATE_CLASS(AdamW);

}  // namespace xgrad::optim
