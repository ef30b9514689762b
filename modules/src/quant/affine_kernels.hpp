// Internal: the per-element math of PyTorch's uniform (affine) fake-quantize
// CPU kernels, shared by the per-tensor, per-channel and learnable (LSQ) ops.
// Pointer-level so threads and SIMD variants have one place to plug in.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace xgrad::quant::detail {

// One channel's (or the tensor's) quantization grid, in the element type.
template <class T>
struct AffineGrid {
  T scale, inv_scale;  // inv_scale = 1 / scale, rounded once, as PyTorch
  T zero_point;        // an integer value
  T quant_min, quant_max;
};

// PyTorch's forward: q = zero_point + nearbyint(x * inv_scale), out =
// (clamp(q, quant_min, quant_max) - zero_point) * scale; mask = [quant_min <=
// q <= quant_max]. NaN in -> NaN out with mask 0.
template <class T>
inline T fake_quant_affine(T x, const AffineGrid<T>& g, std::uint8_t* mask) {
  const T q = g.zero_point + std::nearbyint(x * g.inv_scale);
  if (std::isnan(q)) {
    *mask = 0;
    return q;
  }
  *mask = static_cast<std::uint8_t>(q >= g.quant_min && q <= g.quant_max);
  return (std::min(std::max(q, g.quant_min), g.quant_max) - g.zero_point) * g.scale;
}

// out[i] for n contiguous elements of one grid; mask may be null.
template <class T>
inline void fake_quant_affine_kernel(const T* x, std::size_t n, const AffineGrid<T>& g, T* out,
                                     std::uint8_t* mask) {
  std::uint8_t m;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = fake_quant_affine(x[i], g, mask ? mask + i : &m);
  }
}

// PyTorch's learnable (LSQ) backward for one element (its
// fake_quantize_learnable_*_grad_kernel_cpu), with g.zero_point the
// backward's rounded zero point: xq = nearbyint(zero_point + x * inv_scale);
// inside [quant_min, quant_max]: dx = dy, dscale = dy * (xfq - x) * inv_scale
// * grad_factor, dzp = 0; outside: dx = 0, dscale = dy * (quant_min or quant_max
// - zero_point) * grad_factor, dzp = -dy * scale * grad_factor. NaN x: all 0.
template <class T>
inline void learnable_affine_grads(T x, T dy, const AffineGrid<T>& g, T grad_factor, T* dx,
                                   T* dscale, T* dzp) {
  const T q = std::nearbyint(g.zero_point + x * g.inv_scale);
  if (std::isnan(q)) {
    *dx = *dscale = *dzp = T(0);
    return;
  }
  if (q < g.quant_min || q > g.quant_max) {
    *dx = T(0);
    *dzp = dy * T(-1) * g.scale * grad_factor;
    *dscale = dy * ((q < g.quant_min ? g.quant_min : g.quant_max) - g.zero_point) * grad_factor;
  } else {
    const T xfq = (q - g.zero_point) * g.scale;
    *dx = dy;
    *dzp = T(0);
    *dscale = dy * (xfq - x) * g.inv_scale * grad_factor;
  }
}

}  // namespace xgrad::quant::detail
