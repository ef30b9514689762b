// rcf_fake_quantize_per_channel: RCF with one alpha per slice along a channel
// axis (rcf_fake_quantize.hpp). Each channel c runs the per-tensor op's
// arithmetic with its own alpha_c: the same division, nearest-level search,
// product, range thresholds and gradient terms; alpha_c's gradient sums its
// channel's terms in double.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../kernels/apot.hpp"
#include "../kernels/select.hpp"
#include "../observers/channel_layout.hpp"
#include "rcf_common.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

namespace xgrad::quant {

namespace {

// x seen as [outer, channels, inner]; element (o, c, i) at (o * C + c) * inner + i.
struct RCFPerChannelFn : Function<RCFPerChannelFn> {
  static constexpr const char* name = "RCFFakeQuantizePerChannelBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& alpha_t,
                               const detail::ChannelLayout& l, const std::vector<T>& levels,
                               double grad_scale) {
    const T* pa = alpha_t.data().data();
    const T* px = x.data().data();
    xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
    T* po = out.data();
    for (std::size_t o = 0; o < l.outer; ++o) {
      for (std::size_t c = 0; c < l.channels; ++c) {
        const T alpha = pa[c];
        const std::size_t b = (o * l.channels + c) * l.inner, e = b + l.inner;
        for (std::size_t i = b; i < e; ++i) po[i] = px[i] / alpha;
        detail::quant_dequant_kernel(po + b, l.inner, levels.data(), levels.size(), po + b);
        for (std::size_t i = b; i < e; ++i) po[i] = alpha * po[i];
      }
    }
    if (ctx.recording()) {
      ctx.save_for_backward({x});
      ctx.save_output();
      ctx.saved_scalars = {double(levels.front()), grad_scale, double(l.outer), double(l.channels),
                           double(l.inner)};
      ctx.saved_scalars.insert(ctx.saved_scalars.end(), pa, pa + l.channels);  // alphas
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const T lo = static_cast<T>(ctx.saved_scalars[0]);
    const double scale = ctx.saved_scalars[1];
    const auto outer = std::size_t(ctx.saved_scalars[2]), C = std::size_t(ctx.saved_scalars[3]),
               inner = std::size_t(ctx.saved_scalars[4]);
    const T* px = ctx.saved(0).data();
    std::vector<T> alphas(C);
    for (std::size_t c = 0; c < C; ++c) alphas[c] = static_cast<T>(ctx.saved_scalars[5 + c]);
    const T* pa = alphas.data();
    const T* pq = ctx.output().data();
    T* pg = grad.data();
    std::vector<double> inside_sum(C, 0.0), clipped_sum(C, 0.0);
    for (std::size_t c = 0; c < C; ++c) {
      const detail::RcfRange<T> range = detail::rcf_range(pa[c], lo);
      const T t_lo = range.t_lo, t_hi = range.t_hi;
      for (std::size_t o = 0; o < outer; ++o) {
        const std::size_t b = (o * C + c) * inner, e = b + inner;
        for (std::size_t i = b; i < e; ++i) {
          const T xi = px[i], g = pg[i];
          const bool inside = (xi >= t_lo) & (xi <= t_hi);  // NaN: neither
          pg[i] = detail::keep_if(inside, g);
          inside_sum[c] += double(detail::keep_if(inside, g * (pq[i] - xi)));
          clipped_sum[c] +=
              double(detail::keep_if(xi > t_hi, g) + detail::keep_if(xi < t_lo, g * lo));
        }
      }
    }
    std::vector<xt::xarray<T>> grads(2);
    if (ctx.needs_input_grad(1)) {
      grads[1] = xt::xarray<T>::from_shape(ctx.input_shape(1));
      for (std::size_t c = 0; c < C; ++c)
        grads[1].data()[c] =
            static_cast<T>((inside_sum[c] / double(pa[c]) + clipped_sum[c]) * scale);
    }
    if (ctx.needs_input_grad(0)) grads[0] = std::move(grad);
    return grads;
  }
};

}  // namespace

template <class T>
Tensor<T> rcf_fake_quantize_per_channel(const Tensor<T>& x, const Tensor<T>& alpha,
                                        std::int64_t ch_axis, const std::vector<T>& levels,
                                        double grad_scale) {
  const char* op = "rcf_fake_quantize_per_channel";
  require_defined(x, op, "x");
  require_defined(alpha, op, "alpha");
  const detail::ChannelLayout l = detail::channel_layout(x.shape(), ch_axis, op);
  XGRAD_CHECK(alpha.dim() == 1 && alpha.numel() == l.channels, ShapeError, op,
              ": alpha must have shape [", l.channels, "] (x's size on axis ", ch_axis,
              "), got shape ", alpha.shape());
  const T* pa = alpha.data().data();
  for (std::size_t c = 0; c < l.channels; ++c)
    XGRAD_CHECK(pa[c] > T(0) && std::isfinite(pa[c]), ValueError, op, ": alpha[", c,
                "] must be finite and > 0, got ", pa[c]);
  detail::validate_rcf_levels(levels.data(), levels.size(), op);
  XGRAD_CHECK(std::isfinite(grad_scale), ValueError, op, ": grad_scale must be finite, got ",
              grad_scale);
  return RCFPerChannelFn::apply(x, alpha, l, levels, grad_scale);
}

#define XGRAD_RCF_PC_INSTANTIATE(T)                                                    \
  template Tensor<T> rcf_fake_quantize_per_channel(const Tensor<T>&, const Tensor<T>&, \
                                                   std::int64_t, const std::vector<T>&, double);

XGRAD_RCF_PC_INSTANTIATE(float)
XGRAD_RCF_PC_INSTANTIATE(double)

}  // namespace xgrad::quant
