// LutMatrixInt8: checks, the integer table search, and the driver of the
// integer tile kernels (the same tiling as lut_matrix.cpp; integer sums make
// the result independent of it anyway).
#include "lut_int_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lut_int_kernels.hpp"
#include "lut_tiling.hpp"
#include "xgrad/errors.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

namespace {

constexpr std::size_t kIntBlockCols = 1024;

// Whether every level is float(q * unit) with |q| <= max_abs; fills values.
bool fits(const std::vector<float>& levels, float unit, int max_abs, std::vector<int>& values) {
  values.resize(levels.size());
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const double q = std::nearbyint(double(levels[i]) / double(unit));
    if (!(std::abs(q) <= max_abs) || float(q * double(unit)) != levels[i]) return false;
    values[i] = int(q);
  }
  return true;
}

}  // namespace

IntegerTable integer_table(const std::vector<float>& levels, int max_abs) {
  XGRAD_CHECK(!levels.empty() && max_abs >= 1 && max_abs <= 127, ValueError,
              "integer_table: needs levels and max_abs in [1, 127], got ", levels.size(),
              " levels and max_abs ", max_abs);
  for (std::size_t i = 0; i < levels.size(); ++i)
    XGRAD_CHECK(std::isfinite(levels[i]), ValueError, "integer_table: levels[", i, "] is ",
                levels[i], ", must be finite");
  IntegerTable best;
  for (float level : levels) {
    if (level == 0.0f) continue;
    for (int s = 0; s < 8; ++s) {
      const float unit = std::ldexp(std::abs(level), -s);
      std::vector<int> values;
      if (unit > best.unit && fits(levels, unit, max_abs, values)) {
        best.values = std::move(values);
        best.unit = unit;
      }
    }
  }
  if (best.values.empty()) {
    if (std::all_of(levels.begin(), levels.end(), [](float v) { return v == 0.0f; })) {
      return {std::vector<int>(levels.size(), 0), 1.0f};
    }
    throw_error<ValueError>("integer_table: the levels are not integers in [-", max_abs, ", ",
                            max_abs, "] times one unit (largest level ",
                            *std::max_element(levels.begin(), levels.end()),
                            "); use the float kernels (LutMatrix)");
  }
  return best;
}

LutMatrixInt8::LutMatrixInt8(PackedCodes codes, std::vector<int> table,
                             std::vector<float> weight_scale, std::vector<float> bias)
    : codes_(std::move(codes)),
      table_(std::move(table)),
      weight_scale_(std::move(weight_scale)),
      bias_(std::move(bias)) {
  const std::size_t rows = codes_.rows, cols = codes_.cols;
  XGRAD_CHECK((codes_.bits == 2 || codes_.bits == 3 || codes_.bits == 4) && rows > 0 && cols > 0 &&
                  codes_.words.size() == codes_.groups() * codes_.group_stride(),
              ValueError, "LutMatrixInt8: codes is not a packing of ", rows, " x ", cols, " ",
              codes_.bits, "-bit codes (use pack_codes)");
  const std::size_t levels = std::size_t(1) << codes_.bits;
  XGRAD_CHECK(table_.size() == levels, ValueError, "LutMatrixInt8: table has ", table_.size(),
              " entries, expected 2^bits = ", levels);
  for (std::size_t i = 0; i < levels; ++i) {
    XGRAD_CHECK(table_[i] >= -127 && table_[i] <= 127, ValueError, "LutMatrixInt8: table[", i,
                "] is ", table_[i], ", outside the int8 range [-127, 127]");
    max_abs_ = std::max(max_abs_, std::abs(table_[i]));
  }
  XGRAD_CHECK(double(cols) * max_abs_ * 255.0 < 2147483648.0, ValueError,
              "LutMatrixInt8: cols = ", cols, " with |table| up to ", max_abs_,
              " could overflow the int32 sums (cols * max|table| * 255 must stay below 2^31); "
              "use the float kernels (LutMatrix)");
  XGRAD_CHECK(weight_scale_.size() == 1 || weight_scale_.size() == rows, ValueError,
              "LutMatrixInt8: weight_scale has ", weight_scale_.size(),
              " elements, expected 1 or rows = ", rows);
  XGRAD_CHECK(bias_.empty() || bias_.size() == rows, ValueError, "LutMatrixInt8: bias has ",
              bias_.size(), " elements, expected 0 or rows = ", rows);
  for (std::size_t i = 0; i < weight_scale_.size(); ++i)
    XGRAD_CHECK(std::isfinite(weight_scale_[i]), ValueError, "LutMatrixInt8: weight_scale[", i,
                "] is ", weight_scale_[i], ", must be finite");
  for (std::size_t i = 0; i < bias_.size(); ++i)
    XGRAD_CHECK(std::isfinite(bias_[i]), ValueError, "LutMatrixInt8: bias[", i, "] is ", bias_[i],
                ", must be finite");
  if (codes_.bits == 3) {
    for (std::size_t i = 0; i < codes_.words.size(); ++i)
      XGRAD_CHECK(!(codes_.words[i] & 0x88888888u), ValueError,
                  "LutMatrixInt8: codes holds a 3-bit code >= 8 in word ", i, " (use pack_codes)");
  }
  table16_.assign(16, 0);
  for (std::size_t i = 0; i < 16; ++i) {
    table16_[i] = std::int8_t(codes_.bits == 2 ? table_[i & 3] : i < levels ? table_[i] : 0);
  }
  const std::vector<std::uint8_t> plain = unpack_codes(codes_);
  row_sums_.assign(rows, 0);
  for (std::size_t o = 0; o < rows; ++o) {
    for (std::size_t j = 0; j < cols; ++j) row_sums_[o] += table_[plain[o * cols + j]];
  }
}

void LutMatrixInt8::forward(const std::uint8_t* a, std::size_t a_size, std::size_t batch,
                            float x_scale, int x_zero_point, float* y, std::size_t y_size,
                            LutLayout layout) const {
  const std::size_t rows = codes_.rows, cols = codes_.cols;
  check_forward_sizes("LutMatrixInt8::forward", "a", a_size, batch, cols, y_size, rows);
  XGRAD_CHECK(std::isfinite(x_scale), ValueError, "LutMatrixInt8::forward: x_scale is ", x_scale,
              ", must be finite");
  XGRAD_CHECK(x_zero_point >= 0 && x_zero_point <= 255, ValueError,
              "LutMatrixInt8::forward: x_zero_point is ", x_zero_point, ", outside [0, 255]");
  const LutStrides as = strides_of(layout, batch, cols), ys = strides_of(layout, batch, rows);
  // Tables beyond a set's exact range take the scalar kernels.
  IntKernels k = active_int_kernels();
  if (max_abs_ > k.max_weight) k = int_scalar_kernels();

  const std::size_t per_word = codes_.codes_per_word(), fields = per_word / 4;
  const std::size_t word_cols = codes_.word_cols(), stride = fields;  // columns apart in a field
  const Panels panels = panels_of(batch, k.max_nr);
  const std::size_t max_nr = panels.size(0);

  // Panels of four activations per word: act[(w * fields + f) * nr + n].
  std::vector<std::uint32_t> act(word_cols * fields * batch, 0u);
  for (std::size_t p = 0; p < panels.count; ++p) {
    const std::size_t nr = panels.size(p), n0 = panels.first(p);
    std::uint32_t* dst = act.data() + word_cols * fields * n0;
    for (std::size_t n = 0; n < nr; ++n) {
      const std::uint8_t* src = a + (n0 + n) * as.sample;
      for (std::size_t w = 0; w < word_cols; ++w) {
        for (std::size_t f = 0; f < fields; ++f) {
          std::uint32_t v = 0;
          for (std::size_t b = 0; b < 4; ++b) {
            const std::size_t j = w * per_word + b * stride + f;
            if (j < cols) v |= std::uint32_t(src[j * as.element]) << (8 * b);
          }
          dst[(w * fields + f) * nr + n] = v;
        }
      }
    }
  }

  const std::size_t tile_groups = batch == 1 ? k.gemv_groups : k.max_groups;
  const std::size_t block_words = std::max<std::size_t>(1, kIntBlockCols / per_word);
  for_each_row_tile(
      codes_.groups(), tile_groups, tile_groups * kGroupRows * cols * batch,
      [&](std::size_t g0, std::size_t groups) {
        const std::size_t ld = groups * kGroupRows;
        std::vector<std::int32_t> acc(panels.count * max_nr * ld);
        for (std::size_t w0 = 0; w0 < word_cols; w0 += block_words) {
          for (std::size_t p = 0; p < panels.count; ++p) {
            const std::size_t nr = panels.size(p);
            IntTile tile;
            tile.words = codes_.words.data() + g0 * codes_.group_stride() + w0 * kGroupRows;
            tile.group_stride = codes_.group_stride();
            tile.word_cols = std::min(block_words, word_cols - w0);
            tile.groups = groups;
            tile.act = act.data() + word_cols * fields * panels.first(p) + w0 * fields * nr;
            tile.nr = nr;
            tile.acc = acc.data() + p * max_nr * ld;
            tile.accumulate = w0 > 0;
            tile.table16 = table16_.data();
            tile.bits = codes_.bits;
            k.tile(tile);
          }
        }
        // The exact integer sum, then x_scale * weight_scale, then the bias.
        const std::size_t o0 = g0 * kGroupRows, o1 = std::min(rows, o0 + ld);
        for (std::size_t p = 0; p < panels.count; ++p) {
          const std::int32_t* sums = acc.data() + p * max_nr * ld;
          for (std::size_t n = 0; n < panels.size(p); ++n) {
            float* out = y + (panels.first(p) + n) * ys.sample;
            for (std::size_t o = o0; o < o1; ++o) {
              const std::int64_t d =
                  std::int64_t(sums[n * ld + (o - o0)]) - std::int64_t(x_zero_point) * row_sums_[o];
              const float scale = x_scale * weight_scale_[weight_scale_.size() == 1 ? 0 : o];
              float r = float(d) * scale;
              if (!bias_.empty()) r = r + bias_[o];
              out[o * ys.element] = r;
            }
          }
        }
      });
}

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
