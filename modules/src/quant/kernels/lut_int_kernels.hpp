// The integer lookup-table kernels (internal): u8 activations times int8
// weights looked up from the codes, summed exactly in int32 (LutMatrixInt8,
// lut_int_matrix.hpp). One getter per instruction-set file: AVX-512 VNNI
// (vpdpbusd, lut_int_avx512vnni.cpp), AVX2 (vpmaddubsw + vpmaddwd,
// lut_int_avx2.cpp), scalar (lut_int_scalar.cpp). Integer sums are exact, so
// every path gives the same result. Only plain structs here (see
// lut_kernels.hpp).
//
// Activation panel: the codes of a word (packed_codes.hpp) are taken 4 at a
// time, one per byte: the fields (word >> k*w) & mask for k < 32 / w / 4 hold
// columns k, k + s, k + 2s, k + 3s (s = 32 / w / 4: 2 for 4-bit lanes, 4 for
// 2-bit ones), and act[(word_col * fields + k) * nr + n] holds sample n's four
// u8 activations of those columns, in that byte order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::kernels {

struct IntTile {
  const std::uint32_t* words;  // word column w0 of the first row group
  std::size_t group_stride, word_cols, groups;
  const std::uint32_t* act;  // panel (above), from the block's first word column
  std::size_t nr;
  std::int32_t* acc;  // acc[n * groups * 16 + r]
  bool accumulate;
  const std::int8_t* table16;  // the int8 table, 16 entries (2-bit: repeated)
  int bits;
};

using IntTileFn = void (*)(const IntTile& t);

struct IntKernels {
  IntTileFn tile;
  std::size_t max_nr, max_groups, gemv_groups;
  int max_weight;  // largest |table entry| the products stay exact for
};

IntKernels int_scalar_kernels();
IntKernels int_avx2_kernels();        // needs AVX2
IntKernels int_avx512vnni_kernels();  // needs AVX-512 F, BW, VNNI

// The set for the instruction set in use (xgrad/quant/kernels/simd_isa.hpp): AVX-512 uses
// VNNI where the CPU has it, else AVX2's kernels.
const IntKernels& active_int_kernels();

}  // namespace xgrad::quant::kernels
