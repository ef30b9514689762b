// LutMatrix: a low-bit weight matrix ready for the lookup-table kernels
// (internal; what a converted Linear or Conv2d holds): [rows, cols] codes
// packed at their bit width (packed_codes.hpp), the level table, optional
// per-row scale and offset, optional bias. forward computes
//
//   y[n, o] = row_scale[o] * sum_j table[code[o, j]] * x[n, j]
//             + row_offset[o] * sum_j x[n, j] + bias[o]
//
// (each term only when given), so the weight is row_scale[o] * table[c] +
// row_offset[o]: a per-tensor table (APoT levels), per-channel scales of a
// shared table, or per-channel affine codes (table[c] = c, row_scale = scale,
// row_offset = -scale * zero_point).
//
// Arithmetic, the same on every instruction set, batch size and thread count
// (the bits agree by construction): each sum over j is one float accumulator
// updated by fma(table[c], x, acc) for j = 0, 1, ... in order (padding
// columns add 0 * table[0]); sum_j x[n, j] is a float sum in order; then
// r = acc; r = r * row_scale; r = r + row_offset * xsum; r = r + bias, each
// rounded. Against exact arithmetic, the sum is within gamma_K * sum_j
// |table[c] * x[n, j]| (gamma_K = K u / (1 - K u), u = 2^-24).
//
// Batch 1 with 2-bit codes may take the T-MAC-style pair path instead
// (LutPath::pairs, lut_kernels.hpp), whose sums group the terms in pairs:
// within the same bound, the same bits on every instruction set and thread
// count, but not the bits of the decode path. LutPath::automatic (the
// default) takes it where it is the faster: AVX-512 (1.45x the decode path
// at 4096 x 4096, 1.17x at 1024) and scalar (4x), not AVX2 (0.86-0.96x).
// So for 2-bit batch 1 the default path's bits depend on the instruction
// set; every explicit path's do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "packed_codes.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

enum class LutPath {
  automatic,  // the faster: pairs for 2-bit batch 1 where it wins, else decode
  decode,     // decode every weight through the table, fma with x (any batch)
  pairs,      // batch 1, 2-bit codes: sums of column pairs looked up by code
};

// How a batch lies in memory: a Linear's [batch, features] (sample_rows), or
// one image of a convolution, whose im2col columns are [C kh kw, OH OW] and
// whose output is [O, OH OW] (sample_columns: one sample per column).
enum class LutLayout { sample_rows, sample_columns };

// Where element j of sample n of a batch of `batch` vectors of `width` is:
// n * sample + j * element.
struct LutStrides {
  std::size_t sample, element;
};
inline LutStrides strides_of(LutLayout layout, std::size_t batch, std::size_t width) {
  return layout == LutLayout::sample_rows ? LutStrides{width, 1} : LutStrides{1, batch};
}

class LutMatrix {
 public:
  // ValueError (naming LutMatrix, the argument and the bad value) when the
  // table does not have 2^bits entries or holds a non-finite value, when
  // row_scale, row_offset or bias is neither empty nor of `rows` elements, or
  // holds a non-finite value.
  LutMatrix(PackedCodes codes, std::vector<float> table, std::vector<float> row_scale = {},
            std::vector<float> row_offset = {}, std::vector<float> bias = {});

  // y for n < batch (see above) from x, in `layout` (sample_rows: x[n * cols
  // + j] and y[n * rows + o]; sample_columns: x[j * batch + n] and y[o *
  // batch + n]; the same bits either way). ValueError when batch is 0,
  // x_size != batch * cols or y_size != batch * rows; LutPath::pairs needs
  // batch 1 and 2-bit codes (else ValueError). Threads split the rows
  // (xgrad/parallel.hpp).
  void forward(const float* x, std::size_t x_size, std::size_t batch, float* y, std::size_t y_size,
               LutPath path = LutPath::automatic, LutLayout layout = LutLayout::sample_rows) const;

  const PackedCodes& codes() const { return codes_; }
  const std::vector<float>& table() const { return table_; }
  const std::vector<float>& row_scale() const { return row_scale_; }
  const std::vector<float>& row_offset() const { return row_offset_; }
  const std::vector<float>& bias() const { return bias_; }
  std::size_t rows() const { return codes_.rows; }
  std::size_t cols() const { return codes_.cols; }
  // Bytes of the packed codes, table, scales, offsets and bias.
  std::size_t storage_bytes() const;

 private:
  void forward_pairs(const float* x, float* y) const;
  void finish(const float* acc, std::size_t ld, std::size_t g0, std::size_t groups,
              const float* xsum, std::size_t n0, std::size_t nr, float* y, LutStrides ys) const;

  PackedCodes codes_;
  std::vector<float> table_, table16_, row_scale_, row_offset_, bias_;
};

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
