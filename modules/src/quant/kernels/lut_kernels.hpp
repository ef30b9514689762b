// The lookup-table kernels of low-bit linear layers (internal): pointer-level
// signatures and one getter per instruction-set file (lut_avx2.cpp,
// lut_avx512.cpp, each compiled with its own flags; lut_scalar.cpp is the
// reference). lut_dispatch.cpp hands out the set of the instruction set in
// use (xgrad/quant/kernels/simd_isa.hpp). Only plain structs here: this header is also
// compiled with AVX flags, and an inline function emitted there could
// replace the generic one elsewhere.
//
// The tile kernel computes, for a block of row groups and a block of word
// columns (packed_codes.hpp), acc[n][r] = sum_j table16[code(r, j)] * x[j][n]
// with ONE accumulator per output, updated as acc = fma(w, x, acc) for the
// columns j in ascending order, starting from 0 (or from acc). Every
// instruction set does exactly that sequence for every output, whatever the
// tile sizes, so all paths, batch sizes and thread counts give the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::kernels {

struct LutTile {
  const std::uint32_t* words;  // word column w0 of the first row group
  std::size_t group_stride;    // words from one row group to the next
  std::size_t word_cols;       // word columns in this block
  std::size_t groups;          // row groups in this tile (1 .. LutKernels::max_groups)
  const float* x;              // panel: x[j * ldx + n], j from the block's first column
  std::size_t nr;              // panel columns (1 .. LutKernels::max_nr)
  std::size_t ldx;             // floats from one column j to the next (>= nr): a packed
                               // panel's nr, or the batch of a matrix read in place
  float* acc;                  // acc[n * groups * 16 + r]
  bool accumulate;             // start from acc (else from 0)
  const float* table16;        // the level table widened to 16 entries (lut_matrix.cpp)
  int bits;                    // 2, 3 or 4
};

using LutTileFn = void (*)(const LutTile& t);

// T-MAC-style variant for 2-bit codes: per pair of columns, the 16 sums
// table[c0] * x0 + table[c1] * x1 are computed once (lut[pair][16], one
// panel column at a time), then each row looks its pair's sum up by the 4
// bits of its two codes and adds it: acc = acc + lut[pair][idx], pairs in
// ascending order. nr must be 1; bits must be 2.
struct LutPairTile {
  const std::uint32_t* words;
  std::size_t group_stride, word_cols, groups;
  const float* lut;  // 16 floats per column pair, from the block's first pair
  float* acc;        // acc[r]
  bool accumulate;
};
using LutPairTileFn = void (*)(const LutPairTile& t);

struct LutKernels {
  LutTileFn tile;
  LutPairTileFn pair_tile;
  std::size_t max_nr;       // batch columns per tile
  std::size_t max_groups;   // row groups per tile
  std::size_t gemv_groups;  // row groups per tile for batch 1
  bool prefer_pairs;        // the pair tile is the faster for 2-bit batch 1
};

LutKernels lut_scalar_kernels();
LutKernels lut_avx2_kernels();    // needs AVX2 + FMA
LutKernels lut_avx512_kernels();  // needs AVX-512 F (+ BW, VL for the build flags)

// The set for the instruction set in use (xgrad/quant/kernels/simd_isa.hpp).
const LutKernels& active_lut_kernels();

}  // namespace xgrad::quant::kernels
