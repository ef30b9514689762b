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

// Sixteen output rows of plain int8 weights times columns of u8 codes, the
// converted layers' integer path (quantized/integer_path.hpp): an implicit
// GEMM. Weights w[(q * 16 + r) * 4 + i]: row r's weight for the i-th byte of
// quad q ([kq][16][4]: one 64-byte vector holds 16 rows times one quad).
// Column l's quad q is the 4 bytes at a + col[l] + quad[q] (a Linear's
// sample row, or 4 neighbours of a Conv2d's input image: no im2col). With
//   s[l, r] = sum_q sum_i w(q, r, i) * a[col[l] + quad[q] + i]
// exact in int32 (the caller bounds the sums), the output is
//   y[l * y_col + r] = float((double(s[l, r]) + shift[r] s[l, ones] - offset[r])
//                            * scale[r]) + bias[r]
// for r < rows (the same arithmetic on every set: the sum exact in double,
// its product correctly rounded, then float's). Row `ones` may hold weights 1
// (a column's code sum, for weights stored shifted by shift[r]); shift 0
// otherwise. With `in_float` the same in float (the caller sets it when
// every term of the sum is below 2^24, so float(s) and the sum are exact;
// then only the product with the float scale rounds, as in double):
//   y = (float(s) + fshift[r] float(s[ones]) - foffset[r]) * fscale[r] + bias[r]
struct IntRows16 {
  const std::int8_t* w;
  std::size_t kq;
  const std::uint8_t* a;
  const std::size_t* quad;
  const std::size_t* col;
  std::size_t cols;
  const double* offset;  // 16 each (padding rows: anything finite)
  const double* shift;
  std::size_t ones;
  const double* scale;
  const float* bias;
  float* y;
  std::size_t y_col, rows;
  bool in_float;
  const float *fscale, *fshift, *foffset;
};

using IntRows16Fn = void (*)(const IntRows16& t);

// The u8 codes of a frozen input quantizer's steps (quantized/input_steps.hpp)
// for the integer path: k = the number of thresholds (float keys in the
// order of input_steps.hpp, ascending) that key(x[i]) reaches, out[i] =
// code_of_step[k]. m <= 31. Returns false when x holds NaN (out then
// unspecified).
using IntStepCodesFn = bool (*)(const float* x, std::size_t n, const std::int32_t* thresholds,
                                std::size_t m, const std::uint8_t* code_of_step, std::uint8_t* out);

// The same for m evenly spaced thresholds (any m): the guess g =
// clamp(floor((x - origin) * inverse_step) + 1, 0, m) (in float), then
// g += key >= padded[g + 1], g -= key < padded[g] (padded: the thresholds
// between the lowest and the highest int32), exact when the guess is within
// 1 of the count (InputSteps checks that before choosing this form).
using IntStepCodesNearFn = bool (*)(const float* x, std::size_t n, const std::int32_t* padded,
                                    std::size_t m, float origin, float inverse_step,
                                    const std::uint8_t* code_of_step, std::uint8_t* out);

struct IntKernels {
  IntTileFn tile;
  std::size_t max_nr, max_groups, gemv_groups;
  int max_weight;  // largest |table entry| the products stay exact for
  IntRows16Fn rows16;
  IntStepCodesFn step_codes;
  IntStepCodesNearFn step_codes_near;
  // rows16's products are exact while 2 * max|w| * max a stays below this
  // (AVX2's vpmaddubsw saturates pairs at 2^15 - 1); else use the scalar set.
  long rows16_pair_limit;
};

IntKernels int_scalar_kernels();
bool scalar_step_codes(const float* x, std::size_t n, const std::int32_t* thresholds, std::size_t m,
                       const std::uint8_t* code_of_step, std::uint8_t* out);
bool scalar_step_codes_near(const float* x, std::size_t n, const std::int32_t* padded,
                            std::size_t m, float origin, float inverse_step,
                            const std::uint8_t* code_of_step, std::uint8_t* out);
IntKernels int_avx2_kernels();        // needs AVX2
IntKernels int_avx512vnni_kernels();  // needs AVX-512 F, BW, VNNI

// The set for the instruction set in use (xgrad/quant/kernels/simd_isa.hpp): AVX-512 uses
// VNNI where the CPU has it, else AVX2's kernels.
const IntKernels& active_int_kernels();

}  // namespace xgrad::quant::kernels
