// The affine (uniform) fake-quantize kernels' entry point (internal), behind
// fake_quantize_per_tensor_affine, fake_quantize_per_channel_affine and the
// learnable (LSQ) forwards: affine_reference.hpp's results (the same bits),
// floats on the kernel table's variant (dispatch.hpp), large inputs split
// over threads. The APoT counterpart is apot.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "affine_reference.hpp"

namespace xgrad::quant::detail {

// out[i] for n contiguous elements of one grid; mask (one byte per element,
// 1 in range) may be null.
template <class T>
void fake_quantize_affine_kernel(const T* x, std::size_t n, const AffineGrid<T>& g, T* out,
                                 std::uint8_t* mask);

// The per-channel form: x is [outer, channels, inner] (contiguous), channel c
// on grids[c]; rows split over threads.
template <class T>
void fake_quantize_per_channel_kernel(const T* x, std::size_t outer, std::size_t channels,
                                      std::size_t inner, const AffineGrid<T>* grids, T* out,
                                      std::uint8_t* mask);

}  // namespace xgrad::quant::detail
