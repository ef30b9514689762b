// The uniform fake quantize kernel behind fake_quantize_per_tensor_affine
// (internal; the APoT counterpart is detail::quant_dequant_kernel).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad {
namespace quant {
namespace detail {

// PyTorch's CPU kernel, element by element: q = zero_point + nearbyint(x *
// inv_scale) in T; out = (clamp(q, quant_min, quant_max) - zero_point) *
// scale, NaN where q is NaN; when mask != nullptr, mask[i] = 1 where the
// unclamped q lies in [quant_min, quant_max], else 0 (NaN: 0). Floats take
// the SIMD path chosen at load time (xgrad/quant/simd.hpp), same bits; large
// inputs are split over threads.
template <class T>
void fake_quantize_affine_kernel(const T* x, std::size_t n, T scale, T inv_scale, T zero_point,
                                 T quant_min, T quant_max, T* out, std::uint8_t* mask);

}  // namespace detail
}  // namespace quant
}  // namespace xgrad
