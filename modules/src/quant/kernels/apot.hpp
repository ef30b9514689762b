// The APoT nearest-level kernels' entry point (internal), behind
// quantize_APoT, quant_dequant, fake_quantize_function and RCF: plain loops
// over contiguous data with the search of apot_reference.hpp (PyTorch's
// float32 rule), large inputs split over threads, floats on the kernel
// table's variant (dispatch.hpp) when it has one. Neither changes a bit.
// Levels ascending, size L >= 1, finite (the callers validate them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::detail {

// rank_out[i] = rank (position in `levels`) of the nearest level of x[i];
// returns the first NaN position, or n when there is none.
template <class T>
std::size_t nearest_ranks(const T* x, std::size_t n, const T* levels, std::size_t L,
                          std::int64_t* rank_out);

// out[i] = nearest level of x[i] (NaN stays NaN); when mask != nullptr also
// mask[i] = (lo <= x[i] <= hi) ? 1 : 0 (one byte per element).
template <class T>
void quant_dequant_kernel(const T* x, std::size_t n, const T* levels, std::size_t L, T* out,
                          std::uint8_t* mask = nullptr, T lo = 0, T hi = 0);

}  // namespace xgrad::quant::detail
