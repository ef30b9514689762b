#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"

#include <xtensor/xbuilder.hpp>

#include "../apot/validate_qparams.hpp"
#include "../kernels/apot.hpp"
#include "../kernels/ste_mask.hpp"
#include "xgrad/detail/array_cache.hpp"

namespace xgrad::quant {

template <class T>
xt::xarray<T> fake_quantize_function::forward(Context<T>& ctx, const Tensor<T>& x,
                                              scalar_t<T> alpha, scalar_t<T> gamma,
                                              const Tensor<T>& quantization_levels,
                                              const xt::xarray<std::int64_t>& level_indices) {
  const char* op = "fake_quantize_function";
  const xt::xarray<T>& levels = quantization_levels.data();
  detail::validate_qparams(alpha, gamma, levels, level_indices, op);
  xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
  const bool keep_mask = ctx.recording() && ctx.needs_input_grad(0);
  if (keep_mask) {
    // The STE mask on the original x, cached for backward as one byte per
    // element, packed into the T array that Context can hold.
    const std::size_t n = x.numel();
    detail::quant_dequant_kernel(x.data().data(), n, levels.data(), levels.size(), out.data(),
                                 detail::saved_mask(ctx, n, true), -alpha, alpha);
  } else {
    detail::quant_dequant_kernel(x.data().data(), x.numel(), levels.data(), levels.size(),
                                 out.data());
  }
  return out;
}

template <class T>
std::vector<xt::xarray<T>> fake_quantize_function::backward(Context<T>& ctx,
                                                            xt::xarray<T> grad_out) {
  std::vector<xt::xarray<T>> grads(2);
  if (ctx.needs_input_grad(0)) grads[0] = detail::masked_gradient(ctx, std::move(grad_out));
  // The qparams get no gradient (zero if the levels were marked as requiring one).
  if (ctx.needs_input_grad(1)) grads[1] = xgrad::detail::new_zeros<T>(ctx.input_shape(1));
  return grads;
}

#define XGRAD_FQ_INSTANTIATE(T)                                                        \
  template xt::xarray<T> fake_quantize_function::forward<T>(                           \
      Context<T>&, const Tensor<T>&, scalar_t<T>, scalar_t<T>, const Tensor<T>&,       \
      const xt::xarray<std::int64_t>&);                                                \
  template std::vector<xt::xarray<T>> fake_quantize_function::backward<T>(Context<T>&, \
                                                                          xt::xarray<T>);

XGRAD_FQ_INSTANTIATE(float)
XGRAD_FQ_INSTANTIATE(double)

}  // namespace xgrad::quant
