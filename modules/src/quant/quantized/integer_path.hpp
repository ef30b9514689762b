// The converted layers' integer path (internal; quantized_layer.cpp,
// linear.cpp, conv2d.cpp). Where a layer's weight levels are int8 integers
// ([-128, 127]) times a unit per row (APoT levels are sums of powers of two:
// gamma times dyadic fractions; uniform levels are integers times the scale)
// and its kept input quantizer's levels are integers times one unit that fit
// a byte after a zero point (the frozen quantizer's steps, input_steps.hpp:
// up to 31 counted, or evenly spaced ones such as an 8-bit quantizer's 255
// by a guess and a correction), the product runs on the integers:
//
//   y[o] = float(double(sum_k w[o, k] (a[k] - zp)) * (x_unit w_unit[o])) + bias[o]
//
// the codes a = the step of each input plus zp, found by the steps' count
// (input_steps.hpp), the sum exact in int32 (every kernel set: VNNI
// vpdpbusd, AVX2 vpmaddubsw within its exact range, scalar), so results are
// the same on every instruction set, batch split and thread count by
// construction. The units are doubles that put integer * unit within
// 2^-23 (about an ulp) of every level (quantizers round their levels, so
// the integers are exact only up to that). Against exact arithmetic on the
// dequantized operands the output is so within (2^-22 + 2^-46) sum |w x|
// (the two levels: 4u, u = 2^-24) plus the double scale and product
// (2^-52), the float rounding and the bias sum (u each): within
// gamma_7 (sum |w x| + |b|), inside the float path's gamma_{K+1} bound for
// the K >= 8 weights a row the layers take this path from.
//
// A Conv2d (groups 1, dilation 1) runs as an implicit GEMM: the weights are
// laid out by (channel, kernel row, quad of 4 kernel columns, zero past kw),
// and a column's quad is 4 neighbouring bytes of the sample's code image,
// padded with the code of 0 (the float path pads the quantized input with
// 0): no im2col. A Linear is the same with one "kernel row" of length in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "../kernels/lut_int_kernels.hpp"
#include "input_steps.hpp"

namespace xgrad::quant::quantized {

// The weights as the kernel reads them, for a geometry of `channels` x
// `kh` lines of `kw` weights (a Linear: 1 x 1 x in).
struct IntegerWeights {
  std::size_t rows = 0, channels = 0, kh = 0, kw = 0;
  std::size_t quads_per_line = 0, kq = 0, blocks = 0;  // kq quads per row block
  std::vector<std::int8_t> w;                          // [blocks][kq][16][4], zero padding
  std::vector<double> unit;                            // per row
  std::vector<std::int64_t> row_sums;                  // per row: sum of its integers
  // Rows whose integers span more than int8 from 0 (affine 8-bit weights:
  // -zp to 255 - zp) are stored shifted into [-128, 127] by shift[o]; then
  // row `rows` (one block only) holds weights 1 and the kernel adds shift[o]
  // times a column's code sum back (lut_int_kernels.hpp).
  std::vector<double> shift;
  bool ones_row = false;
  int max_abs = 0;  // of the stored int8 weights
};

// level(o, k): the level of row o's weight k (k < channels kh kw, row
// major). Null when some row's levels are not integers times one unit
// spanning at most 256 values, or need a shift in a layer of 16 rows or more.
std::shared_ptr<const IntegerWeights> integer_weights(
    std::size_t rows, std::size_t channels, std::size_t kh, std::size_t kw,
    const std::function<float(std::size_t, std::size_t)>& level);

struct IntegerInput {
  std::shared_ptr<const InputSteps<float>> steps;
  std::vector<std::uint8_t> code_of_step;  // a_int + zero_point per step
  int zero_point = 0;                      // the code of the level 0
  int max_code = 0;
  double unit = 0;
};

// Null when the steps' values are not integers times one unit spanning at
// most 255 (after the zero point), or 0 is not one of them.
std::shared_ptr<const IntegerInput> integer_input(std::shared_ptr<const InputSteps<float>> steps);

// A layer's integer path, checked for its sums: int32 holds every sum. Each
// run takes the kernel set of the instruction set in use, or the scalar one
// when 2 max|w| max a passes the set's exact range (AVX2's vpmaddubsw).
struct IntegerPlan {
  std::shared_ptr<const IntegerWeights> weights;
  std::shared_ptr<const IntegerInput> input;
  // By row, padded to whole blocks of 16: x_unit w_unit[o], zp row_sums[o]
  // and the bias (0 without).
  std::vector<double> scale, offset, shift;
  // The same in float, used when every term is below 2^24 (in_float): the
  // integer part is then exact in float and float(scale) adds one rounding.
  std::vector<float> fscale, foffset, fshift;
  bool in_float = false;
  std::vector<float> bias;
  long pair = 0;  // 2 max|w| max a

  // y for `cols` columns whose bytes start at a + col[l] (quad offsets
  // `quad`, one per weight quad), written to y[l * y_col + o] (a column's
  // outputs contiguous).
  void run(const std::uint8_t* a, const std::size_t* quad, const std::size_t* col, std::size_t cols,
           float* y, std::size_t y_col) const;
};

// Null when the sums could overflow int32.
std::shared_ptr<const IntegerPlan> integer_plan(std::shared_ptr<const IntegerWeights> weights,
                                                std::shared_ptr<const IntegerInput> input,
                                                const std::vector<float>& bias);

}  // namespace xgrad::quant::quantized
