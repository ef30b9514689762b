// The kernel table (internal): the pointer-level signature of every float
// quantization kernel that has per-ISA variants, the plain structs they take,
// and one getter per instruction-set file (avx2.cpp, avx512.cpp, each
// compiled with its own flags). dispatch.cpp picks one table, once; each
// kernel's entry point (affine.cpp, apot.cpp, qat/weight_norm.cpp) is its
// only caller and runs the scalar reference (<kernel>_reference.hpp, or the
// fused loop itself) where the table has no variant.
// Every variant gives the reference's bits.
//
// Adding a kernel (the packed-code lookup-table GEMV of converted layers, for
// one): its scalar reference in <kernel>_reference.hpp, its body once in
// simd_kernels.hpp against the vocabulary of isa_ops.hpp, a signature and a
// field here filled by each per-ISA getter, and one entry point <kernel>.cpp.
//
// Only plain structs here: this header is also compiled with AVX flags, and
// an inline function emitted there could replace the generic one elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::detail {

// One channel's (or the tensor's) uniform quantization grid in the element
// type, as the affine kernels compute with it (PyTorch's arithmetic).
template <class T>
struct AffineGrid {
  T scale, inv_scale;  // inv_scale = 1 / scale, rounded once, as PyTorch
  T zero_point;        // an integer value
  T quant_min, quant_max;
};

// PyTorch's fake_quantize_per_tensor_affine over n contiguous floats; mask
// (if not null) marks the unclamped q inside [quant_min, quant_max].
using AffineFn = void (*)(const float* x, std::size_t n, const AffineGrid<float>& g, float* out,
                          std::uint8_t* mask);

// A NearestTable (apot_reference.hpp) seen by the vector kernels.
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

// The QAT RCF weight path's per-element scalars (qat/weight_norm.cpp's
// StandardizedRcfFn), rounded to float once by its caller.
struct RcfWeightArgs {
  float mu, inv, alpha, std;  // x = (w - mu) * inv; u = x / alpha; y = alpha * level * std
  float t_lo, t_hi, lo;       // the STE range of x and the lowest level
  bool rescale;               // the gradient is g * std, the output q * std
};

// Forward, before the level search: out[i] = ((w[i] - mu) * inv) / alpha.
using RcfNormalizeFn = void (*)(const float* w, std::size_t n, const RcfWeightArgs& a, float* out);

// Forward, after the level search: q[i] = alpha * q[i], and out[i] = q[i] *
// std when rescale (else out[i] = q[i]; out may equal q).
using RcfScaleFn = void (*)(float* q, std::size_t n, const RcfWeightArgs& a, float* out);

// Backward's dW pass: g[i] = a * g[i] + b + c * (w[i] - mu).
using RcfWeightGradFn = void (*)(float* g, const float* w, std::size_t n, float a, float b, float c,
                                 float mu);

// Backward's sums pass over one full chunk of RcfChunkSumsFn::kChunk = 4096
// elements at w, q, g (g rewritten with the masked gradient): sums[0..1] the
// alpha sums as block_sums (blocked_sums.hpp) computes them, sums[2..5] the
// normalization's sum(g2), sum(g2 (w - mu)) over each half as weight_norm.cpp's
// chunk_sums computes them (same lanes, same order: the same bits).
using RcfChunkSumsFn = void (*)(const float* w, const float* q, float* g, const RcfWeightArgs& a,
                                double* sums);

// The kernels of one instruction set; a null entry means the scalar reference.
struct KernelTable {
  ApotFn apot;
  AffineFn affine;
  RcfNormalizeFn rcf_normalize;
  RcfChunkSumsFn rcf_chunk_sums;
  RcfScaleFn rcf_scale;
  RcfWeightGradFn rcf_weight_grad;
};

KernelTable avx2_kernels();    // needs AVX2 + BMI2
KernelTable avx512_kernels();  // needs AVX-512 F + BW + VL

}  // namespace xgrad::quant::detail
