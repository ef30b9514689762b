// LutMatrixInt8: a low-bit weight matrix whose levels are integers times one
// unit, for layers whose inputs are quantized to uint8 too (internal). Each
// code looks up an int8 weight; products with the u8 activations are summed
// exactly in int32 (AVX-512 VNNI, AVX2 vpmaddubsw, scalar: the same integers
// on every path, batch size and thread count):
//
//   y[n, o] = (x_scale * weight_scale[o]) *
//             (sum_j table[code[o, j]] * (a[n, j] - x_zero_point)) + bias[o]
//
// with the integer sum exact, converted to float once, then one product and
// one sum, each rounded: within gamma_3 * (|y - bias| + |bias|) of exact.
// weight_scale holds one element (per tensor) or one per row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lut_matrix.hpp"
#include "packed_codes.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

// levels[i] == float(values[i] * unit) for every i (as a float rounds the
// exact product), |values[i]| <= max_abs.
struct IntegerTable {
  std::vector<int> values;
  float unit = 0;
};

// The largest unit that writes `levels` so: one of |levels[i]| / 2^s, s < 8
// (APoT levels are gamma times sums of powers of two, so a power-of-two
// level over 2^s is gamma times a power of two). ValueError naming the first
// level that fits no unit when the levels are not integers times one unit
// within max_abs (then use the float path, LutMatrix).
IntegerTable integer_table(const std::vector<float>& levels, int max_abs = 127);

class LutMatrixInt8 {
 public:
  // ValueError (naming LutMatrixInt8, the argument and the value) when the
  // table does not have 2^bits entries or has one outside [-127, 127], when
  // weight_scale has neither 1 nor `rows` elements or a non-finite one, when
  // bias is neither empty nor of `rows` elements or holds a non-finite value,
  // or when cols * max|table| * 255 >= 2^31 (the int32 sums could overflow).
  LutMatrixInt8(PackedCodes codes, std::vector<int> table, std::vector<float> weight_scale,
                std::vector<float> bias = {});

  // y from a (above), both in `layout` (LutMatrix::forward). ValueError
  // when batch is 0, the sizes differ from batch * cols and batch * rows,
  // x_scale is not finite, or x_zero_point is outside [0, 255].
  void forward(const std::uint8_t* a, std::size_t a_size, std::size_t batch, float x_scale,
               int x_zero_point, float* y, std::size_t y_size,
               LutLayout layout = LutLayout::sample_rows) const;

  const PackedCodes& codes() const { return codes_; }
  std::size_t rows() const { return codes_.rows; }
  std::size_t cols() const { return codes_.cols; }
  // Bytes of the packed codes, int8 table, scales and bias.
  std::size_t storage_bytes() const {
    return codes_.bytes() + table_.size() + sizeof(float) * (weight_scale_.size() + bias_.size());
  }

 private:
  PackedCodes codes_;
  std::vector<int> table_;
  std::vector<std::int8_t> table16_;
  std::vector<float> weight_scale_, bias_;
  std::vector<std::int64_t> row_sums_;  // sum_j table[code[o, j]]
  int max_abs_ = 0;
};

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
