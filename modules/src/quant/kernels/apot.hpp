// The APoT nearest-level kernels' entry point (internal), behind
// quantize_APoT, quant_dequant, fake_quantize_function and RCF: plain loops
// over contiguous data with the search of apot_reference.hpp (PyTorch's
// float32 rule), large inputs split over threads, floats on the kernel
// table's variant (dispatch.hpp) when it has one. Neither changes a bit.
// Levels ascending, size L >= 1, finite (the callers validate them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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

// quant_dequant_kernel's search prepared once (table, kernel variant) for a
// level set and `total` elements, then run block by block on the calling
// thread: for loops that fuse the search with work before and after it while
// a block is in cache (the QAT weight path). quant_dequant_kernel is this,
// over threads. out may equal x.
template <class T>
class NearestLevels {
 public:
  NearestLevels(const T* levels, std::size_t L, std::size_t total);
  ~NearestLevels();
  NearestLevels(const NearestLevels&) = delete;
  NearestLevels& operator=(const NearestLevels&) = delete;
  void operator()(const T* x, std::size_t n, T* out, std::uint8_t* mask = nullptr, T lo = 0,
                  T hi = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xgrad::quant::detail
