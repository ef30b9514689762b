// The float quantization kernels that have SIMD variants (internal): their
// pointer-level signatures, and one getter per instruction-set file
// (avx2.cpp, avx512.cpp, each compiled with its own flags). dispatch.cpp
// picks one set at run time; the scalar reference is the generic code in
// apot_tensor.cpp and affine_kernels.hpp. Every variant gives the same bits.
// Only plain structs here: this header is also compiled with AVX flags, and
// an inline function emitted there could replace the generic one elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::detail::simd {

// A NearestTable (apot_nearest.hpp) seen by the SIMD kernels.
struct ApotTable {
  const float* values;  // unique levels ascending, `unique` of them
  std::size_t unique;
  const float* thr;  // unique - 1 thresholds ascending, then +inf padding
  float lo, hi, inv_w;
  const std::uint32_t* start;  // bucket grid: thresholds below each bucket
  std::size_t buckets;
  int m;  // comparisons per element after the grid
};

// out[i] = nearest level of x[i] (NaN stays NaN); mask (if not null) gets
// mask[i] = mask_lo <= x[i] <= mask_hi. Returns false, touching nothing, when
// this variant would be slower than the scalar table search (AVX2's gathers:
// measured 0.8x of scalar for 256 levels); with n = 0 it only answers that.
using ApotFn = bool (*)(const float* x, std::size_t n, const ApotTable& t, float* out,
                        std::uint8_t* mask, float mask_lo, float mask_hi);

struct UniformParams {
  float scale, inv_scale, zero_point, quant_min, quant_max;
};
// PyTorch's fake_quantize_per_tensor_affine; mask (if not null) marks the
// unclamped q inside [quant_min, quant_max].
using UniformFn = void (*)(const float* x, std::size_t n, const UniformParams& p, float* out,
                           std::uint8_t* mask);

struct Kernels {
  ApotFn apot;
  UniformFn uniform;
};

Kernels avx2_kernels();    // needs AVX2 + BMI2
Kernels avx512_kernels();  // needs AVX-512 F + BW + VL

}  // namespace xgrad::quant::detail::simd
