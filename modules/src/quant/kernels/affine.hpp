// The uniform fake quantize kernels behind fake_quantize_per_tensor_affine,
// fake_quantize_per_channel_affine and the learnable (LSQ) forwards (internal; the APoT counterpart
// is detail::quant_dequant_kernel): affine_kernels.hpp's scalar reference, with the SIMD variants
// and the thread split around it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "affine_reference.hpp"

namespace xgrad::quant::detail {

// detail::fake_quant_affine_kernel's results (same bits): floats take the
// SIMD path chosen at load time (xgrad/quant/kernels/simd_isa.hpp); large inputs are split
// over threads. mask (one byte per element, 1 in range) may be null.
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
