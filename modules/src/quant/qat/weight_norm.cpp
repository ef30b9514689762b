#include "xgrad/quant/qat/weight_norm.hpp"

#include <cmath>
#include <string>

#include "../kernels/blocked_sums.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"
#include "xgrad/ops/elementwise.hpp"

namespace xgrad::quant {

namespace {

struct Moments {
  double mean, std;
};

// Mean and unbiased std in two passes (the centred sum of squares, which does
// not cancel as E[w^2] - mean^2 can), each a blocked_sums: fixed blocks in
// eight lanes added in double, over threads, the same bits for any count.
template <class T>
Moments moments(const T* w, std::size_t n) {
  const double sum = detail::blocked_sums<T>(0, n, [w](std::size_t i) {
                       return std::pair<T, T>(w[i], T(0));
                     }).first;
  const double mean = sum / double(n);
  const T mu = static_cast<T>(mean);
  const double ss = detail::blocked_sums<T>(0, n, [w, mu](std::size_t i) {
                      const T d = w[i] - mu;
                      return std::pair<T, T>(d * d, T(0));
                    }).first;
  return {mean, std::sqrt(ss / double(n - 1))};
}

template <class T>
void require_weight(const Tensor<T>& w, const char* op) {
  require_defined(w, op, "the weight");
  XGRAD_CHECK(w.numel() >= 2, ValueError, op, ": the unbiased std needs at least 2 elements, got ",
              w.numel());
}

// Saves the centred weight d (T) and the scalars mean, std, eps.
struct WeightStandardizeFn : Function<WeightStandardizeFn> {
  static constexpr const char* name = "WeightStandardizeBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& w, double eps) {
    const std::size_t n = w.numel();
    const T* pw = w.data().data();
    const Moments m = moments(pw, n);
    const double D = m.std + eps;
    xt::xarray<T> out = xgrad::detail::new_array<T>(w.shape());
    T* po = out.data();
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) po[i] = static_cast<T>((double(pw[i]) - m.mean) / D);
    });
    if (ctx.recording()) {
      ctx.save_for_backward({w});
      ctx.saved_scalars = {m.mean, m.std, eps};
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const double mean = ctx.saved_scalars[0], s = ctx.saved_scalars[1], eps = ctx.saved_scalars[2];
    const T* pw = ctx.saved(0).data();
    T* pg = grad.data();
    const std::size_t n = grad.size();
    const double D = s + eps;
    const T mu = static_cast<T>(mean);
    const auto [gsum, gd] = detail::blocked_sums<T>(
        0, n, [pg, pw, mu](std::size_t i) { return std::pair<T, T>(pg[i], pg[i] * (pw[i] - mu)); });
    const double gmean = gsum / double(n);
    const double k = s > 0 ? gd / (D * D * double(n - 1) * s) : 0.0;
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i)
        pg[i] = static_cast<T>((double(pg[i]) - gmean) / D - k * (double(pw[i]) - mean));
    });
    return gradients(std::move(grad));
  }
};

}  // namespace

template <class T>
Tensor<T> weight_standardize(const Tensor<T>& weight, double eps) {
  const char* op = "weight_standardize";
  require_weight(weight, op);
  XGRAD_CHECK(eps >= 0 && std::isfinite(eps), ValueError, op, ": eps must be finite and >= 0, got ",
              eps);
  return WeightStandardizeFn::apply(weight, eps);
}

template <class T>
T weight_std(const Tensor<T>& weight) {
  require_weight(weight, "weight_std");
  return static_cast<T>(moments(weight.data().data(), weight.numel()).std);
}

template <class T>
Tensor<T> rescale_by_weight_std(const Tensor<T>& quantized, const Tensor<T>& weight) {
  require_defined(quantized, "rescale_by_weight_std", "the quantized weight");
  return mul(quantized, weight_std(weight));
}

#define XGRAD_WEIGHT_NORM_INSTANTIATE(T)                           \
  template Tensor<T> weight_standardize(const Tensor<T>&, double); \
  template T weight_std(const Tensor<T>&);                         \
  template Tensor<T> rescale_by_weight_std(const Tensor<T>&, const Tensor<T>&);

XGRAD_WEIGHT_NORM_INSTANTIATE(float)
XGRAD_WEIGHT_NORM_INSTANTIATE(double)

}  // namespace xgrad::quant
