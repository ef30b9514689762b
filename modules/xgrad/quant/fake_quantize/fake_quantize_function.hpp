// fake_quantize_function: APoT fake quantization as a differentiable op of the
// engine, named and called like PyTorch's
// torch.ao.quantization.experimental.fake_quantize_function:
//
//   auto y = fake_quantize_function::apply(x, alpha, gamma, quantization_levels, level_indices);
//
// Forward: quant_dequant(x) (nearest level, PyTorch's float32 rule, clipping to
// the top/bottom level, NaN in -> NaN out); see apot/quantizer.hpp.
// Backward: the clipped straight-through estimator
//   dx = dy * [-alpha <= x <= alpha]   (inclusive; NaN x -> 0),
// with the mask computed on the ORIGINAL x and cached in forward (one byte per
// element) only when a node is recorded. It is applied as a selection, like
// clamp's backward: where x is clipped even a NaN or inf dy gives 0; inside the
// range dy passes unchanged (NaN stays NaN). No gradient flows to the qparams
// (a zero gradient is returned for quantization_levels if it requires grad).
// Its declared surrogate is clamp(x, -alpha, alpha): the backward equals that
// function's derivative away from +-alpha.
//
// Differences from PyTorch: its backward crashes and computes the mask on the
// codes; its forward always uses unsigned levels (ours takes any level set).
#pragma once

#include <cstdint>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/function.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"

namespace xgrad::quant {

struct fake_quantize_function : Function<fake_quantize_function> {
  static constexpr const char* name = "APoTFakeQuantizeBackward";

  // ValueError for bad qparams (see apot/quantizer.hpp).
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, scalar_t<T> alpha,
                               scalar_t<T> gamma, const Tensor<T>& quantization_levels,
                               const xt::xarray<std::int64_t>& level_indices);
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad_out);
};

// Same op with the qparams as returned by calculate_qparams.
template <class T>
Tensor<T> fake_quantize_APoT(const Tensor<T>& x, const APoTQParams<T>& qparams) {
  return fake_quantize_function::apply(x, qparams.alpha, qparams.gamma, qparams.quantization_levels,
                                       qparams.level_indices);
}

}  // namespace xgrad::quant
