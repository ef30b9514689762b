// Quantize to APoT codes and back, like PyTorch's
// torch.ao.quantization.experimental.quantizer (quantize_APoT,
// dequantize_APoT, TensorAPoT.int_repr).
//
// Nearest-level rule (exactly PyTorch's in float32): the distance |level - x| is
// computed in T (float32 for Tensor<float>); among equal distances the lower
// level wins, so a midpoint can go either way as float32 rounding decides.
// Small inputs: a branch-free binary search over the sorted levels plus a check
// of the two neighbours with those same distances (O(log L) per element).
// Large inputs: the exact float threshold between each pair of neighbouring
// levels is found once (bisection over the float ordering) and a bucket grid
// leaves about one comparison per element; both give identical answers (see
// src/quant/kernels/apot_reference.hpp). For Tensor<double> the distances are computed
// in double, so results agree with the float path except within rounding of
// a midpoint.
//
// Differences from PyTorch, all deliberate:
// - Out of range: x above the top level gets the top level, x below the bottom
//   level the bottom one; infinities clip the same way (PyTorch returns the
//   clip value truncated to an integer code).
// - NaN: quantize_APoT throws ValueError naming the first NaN's flat position
//   (PyTorch maps it to code 0); quant_dequant / fake quantize propagate NaN.
// - Inputs are never modified; outputs keep the input's float type; nothing is
//   printed; quant_dequant works (PyTorch's raises).
// - Empty inputs give empty results of the same shape.
// - Bad qparams (levels empty, not 1-D, unsorted or non-finite; indices of a
//   different length; alpha NaN or negative; gamma not finite) and an undefined
//   x are ValueError.
#pragma once

#include <cstdint>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// An APoT-quantized tensor: integer codes (level indices) plus the qparams
// needed to map them back.
template <class T>
class TensorAPoT {
 public:
  // Validates the qparams and that every code is one of level_indices
  // (ValueError otherwise).
  TensorAPoT(xt::xarray<std::int64_t> codes, APoTQParams<T> qparams);

  // The integer codes, in the input's shape.
  const xt::xarray<std::int64_t>& int_repr() const { return codes_; }
  // Level value of every code, same shape, type T.
  Tensor<T> dequantize() const;

  const APoTQParams<T>& qparams() const { return qparams_; }
  T alpha() const { return qparams_.alpha; }
  T gamma() const { return qparams_.gamma; }
  const Shape& shape() const { return codes_.shape(); }

 private:
  xt::xarray<std::int64_t> codes_;
  APoTQParams<T> qparams_;
};

template <class T>
TensorAPoT<T> quantize_APoT(const Tensor<T>& x, scalar_t<T> alpha, scalar_t<T> gamma,
                            const Tensor<T>& quantization_levels,
                            const xt::xarray<std::int64_t>& level_indices);
template <class T>
TensorAPoT<T> quantize_APoT(const Tensor<T>& x, const APoTQParams<T>& qparams);

// Maps codes back to levels; ValueError for a code outside the level set.
template <class T>
Tensor<T> dequantize_APoT(const TensorAPoT<T>& t);

// Straight to the nearest level values (quantize then dequantize), NaN
// propagating; no autograd (see fake_quantize_function for the STE).
template <class T>
Tensor<T> quant_dequant(const Tensor<T>& x, scalar_t<T> alpha, scalar_t<T> gamma,
                        const Tensor<T>& quantization_levels,
                        const xt::xarray<std::int64_t>& level_indices);
template <class T>
Tensor<T> quant_dequant(const Tensor<T>& x, const APoTQParams<T>& qparams);

XGRAD_EXTERN_TEMPLATE_CLASS(TensorAPoT);

}  // namespace xgrad::quant
