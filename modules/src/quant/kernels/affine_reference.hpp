// The scalar reference of the affine kernels (internal): the per-element math
// of PyTorch's uniform (affine) fake-quantize CPU kernels, shared by the
// per-tensor, per-channel and learnable (LSQ) ops. affine.cpp is its entry
// point (threads, per-ISA variants); the learnable backward runs it directly.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "kernel_table.hpp"
#include "select.hpp"

namespace xgrad::quant::detail {

// std::nearbyint under the default rounding mode (ties to even), without the
// library call it becomes on a baseline x86-64 target: below 2^(digits-1)
// adding and subtracting that power rounds |v| to an integer exactly; larger
// values, infinities and NaN are returned as they are (already integral or
// not numbers). The sign is copied back, so -0.3 gives -0 as nearbyint does.
template <class T>
inline T round_half_even(T v) {
  constexpr T big = T(1) / std::numeric_limits<T>::epsilon();  // 2^23 or 2^52
  const T a = std::fabs(v);
  const T r = std::copysign((a + big) - big, v);
  return select(a < big, r, v);  // a bit select: a branch would stop vectorization
}

// PyTorch's forward: q = zero_point + nearbyint(x * inv_scale), out =
// (clamp(q, quant_min, quant_max) - zero_point) * scale; in_range = [quant_min
// <= q <= quant_max]. NaN in -> NaN out (std::max / std::min keep a NaN first
// argument) and not in range. No branch: the loops below vectorize.
template <class T>
inline T fake_quant_affine(T x, const AffineGrid<T>& g, bool* in_range) {
  const T q = g.zero_point + round_half_even(x * g.inv_scale);
  *in_range = (q >= g.quant_min) & (q <= g.quant_max);
  return (std::min(std::max(q, g.quant_min), g.quant_max) - g.zero_point) * g.scale;
}

// out[i] for n contiguous elements of one grid; mask (one byte per element,
// 1 in range) may be null.
template <class T>
inline void fake_quant_affine_kernel(const T* x, std::size_t n, const AffineGrid<T>& g, T* out,
                                     std::uint8_t* mask) {
  bool in;
  if (mask) {
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = fake_quant_affine(x[i], g, &in);
      mask[i] = static_cast<std::uint8_t>(in);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = fake_quant_affine(x[i], g, &in);
  }
}

// PyTorch's learnable (LSQ) backward for one element (its
// fake_quantize_learnable_*_grad_kernel_cpu), with g.zero_point the
// backward's rounded zero point: xq = nearbyint(zero_point + x * inv_scale);
// inside [quant_min, quant_max]: dx = dy, dscale = dy * (xfq - x) * inv_scale
// * grad_factor, dzp = 0, xfq = (xq - zero_point) * scale; below / above:
// dx = 0, dscale = dy * (quant_min or quant_max - zero_point) * grad_factor,
// dzp = -dy * scale * grad_factor. NaN x: all 0. Returns (dscale, dzp) and
// writes dx.
template <class T>
inline std::pair<T, T> learnable_affine_grads(T x, T dy, const AffineGrid<T>& g, T grad_factor,
                                              T* dx) {
  const T q = round_half_even(g.zero_point + x * g.inv_scale);
  const bool below = q<g.quant_min, above = q> g.quant_max;
  const bool inside = (q >= g.quant_min) & (q <= g.quant_max);
  const T xfq = (q - g.zero_point) * g.scale;
  *dx = keep_if(inside, dy);
  const T dscale = keep_if(inside, dy * (xfq - x) * g.inv_scale * grad_factor) +
                   keep_if(below, dy * (g.quant_min - g.zero_point) * grad_factor) +
                   keep_if(above, dy * (g.quant_max - g.zero_point) * grad_factor);
  const T dzp = keep_if(below | above, dy * T(-1) * g.scale * grad_factor);
  return {dscale, dzp};
}

}  // namespace xgrad::quant::detail
