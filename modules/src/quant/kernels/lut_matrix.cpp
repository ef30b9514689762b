// LutMatrix: checks, and the driver of the tile kernels (lut_kernels.hpp):
// activations packed into panels, rows cut into tiles of row groups fixed by
// the kernel set (never by the thread count), columns into blocks, the
// threads splitting the tiles.
#include "lut_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "lut_kernels.hpp"
#include "lut_tiling.hpp"
#include "xgrad/errors.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

namespace {

// Columns per block of a product: the panel block (columns x up to 12 batch
// columns of floats, 24 KB) and the tile's codes stay in L1/L2 while a tile
// runs through all its batch panels.
constexpr std::size_t kBlockCols = 512;

void check_vector(const char* arg, const std::vector<float>& v, std::size_t rows) {
  if (!v.empty() && v.size() != rows) {
    throw ValueError(std::string("LutMatrix: ") + arg + " has " + std::to_string(v.size()) +
                     " elements, expected 0 or rows = " + std::to_string(rows));
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ValueError(std::string("LutMatrix: ") + arg + "[" + std::to_string(i) + "] is " +
                       number_text(v[i]) + ", must be finite");
    }
  }
}

void check_codes(const PackedCodes& c) {
  if (c.bits != 2 && c.bits != 3 && c.bits != 4) {
    throw ValueError("LutMatrix: codes.bits must be 2, 3 or 4, got " + std::to_string(c.bits));
  }
  if (c.rows == 0 || c.cols == 0 || c.words.size() != c.groups() * c.group_stride()) {
    throw ValueError("LutMatrix: codes holds " + std::to_string(c.words.size()) +
                     " words, not the packing of " + std::to_string(c.rows) + " x " +
                     std::to_string(c.cols) + " codes (use pack_codes)");
  }
  if (c.bits == 3) {  // 3-bit codes in 4-bit lanes: the high bit of each is 0
    for (std::size_t i = 0; i < c.words.size(); ++i) {
      if (c.words[i] & 0x88888888u) {
        throw ValueError("LutMatrix: codes holds a 3-bit code >= 8 in word " + std::to_string(i) +
                         " (use pack_codes)");
      }
    }
  }
}

// The table as the kernels read it: 16 entries indexed by the low 4 bits of
// a shifted word; 2-bit tables repeat (the next code's bits are above), 3-bit
// tables leave entries 8..15 unused.
std::vector<float> widen(const std::vector<float>& table, int bits) {
  std::vector<float> t16(16, 0.0f);
  for (std::size_t i = 0; i < 16; ++i) {
    if (bits == 2) {
      t16[i] = table[i & 3];
    } else if (i < table.size()) {
      t16[i] = table[i];
    }
  }
  return t16;
}

}  // namespace

LutMatrix::LutMatrix(PackedCodes codes, std::vector<float> table, std::vector<float> row_scale,
                     std::vector<float> row_offset, std::vector<float> bias)
    : codes_(std::move(codes)),
      table_(std::move(table)),
      row_scale_(std::move(row_scale)),
      row_offset_(std::move(row_offset)),
      bias_(std::move(bias)) {
  check_codes(codes_);
  const std::size_t levels = std::size_t(1) << codes_.bits;
  if (table_.size() != levels) {
    throw ValueError("LutMatrix: table has " + std::to_string(table_.size()) +
                     " entries, expected 2^bits = " + std::to_string(levels));
  }
  check_vector("table", table_, table_.size());
  check_vector("row_scale", row_scale_, codes_.rows);
  check_vector("row_offset", row_offset_, codes_.rows);
  check_vector("bias", bias_, codes_.rows);
  table16_ = widen(table_, codes_.bits);
}

std::size_t LutMatrix::storage_bytes() const {
  return codes_.bytes() +
         sizeof(float) * (table_.size() + row_scale_.size() + row_offset_.size() + bias_.size());
}

// y from the tile sums acc[n * ld + r] of row groups [g0, g0 + groups) and
// batch columns [n0, n0 + nr), in the order of the header.
void LutMatrix::finish(const float* acc, std::size_t ld, std::size_t g0, std::size_t groups,
                       const float* xsum, std::size_t n0, std::size_t nr, float* y,
                       LutStrides ys) const {
  const std::size_t rows = codes_.rows;
  const std::size_t o0 = g0 * kGroupRows, o1 = std::min(rows, (g0 + groups) * kGroupRows);
  for (std::size_t n = 0; n < nr; ++n) {
    float* out = y + (n0 + n) * ys.sample;
    for (std::size_t o = o0; o < o1; ++o) {
      float r = acc[n * ld + (o - o0)];
      if (!row_scale_.empty()) r = r * row_scale_[o];
      if (!row_offset_.empty()) {
        const float shift = row_offset_[o] * xsum[n0 + n];
        r = r + shift;
      }
      if (!bias_.empty()) r = r + bias_[o];
      out[o * ys.element] = r;
    }
  }
}

void LutMatrix::forward(const float* x, std::size_t x_size, std::size_t batch, float* y,
                        std::size_t y_size, LutPath path, LutLayout layout) const {
  const std::size_t rows = codes_.rows, cols = codes_.cols;
  check_forward_sizes("LutMatrix::forward", "x", x_size, batch, cols, y_size, rows);
  if (path == LutPath::automatic) {
    const bool pairs = batch == 1 && codes_.bits == 2 && active_lut_kernels().prefer_pairs;
    path = pairs ? LutPath::pairs : LutPath::decode;
  }
  if (path == LutPath::pairs) {
    if (batch != 1 || codes_.bits != 2) {
      throw ValueError(
          "LutMatrix::forward: the pairs path needs batch 1 and 2-bit codes, got batch " +
          std::to_string(batch) + " and " + std::to_string(codes_.bits) + "-bit codes");
    }
    forward_pairs(x, y);
    return;
  }
  const LutStrides xs = strides_of(layout, batch, cols), ys = strides_of(layout, batch, rows);
  const LutKernels& k = active_lut_kernels();
  const std::size_t pcols = codes_.padded_cols(), per_word = codes_.codes_per_word();
  const Panels panels = panels_of(batch, k.max_nr);
  const std::size_t max_nr = panels.size(0);

  // Panels: x[j * nr + n] per panel, zero past the last column.
  std::vector<float> xp(pcols * batch, 0.0f);
  for (std::size_t p = 0; p < panels.count; ++p) {
    const std::size_t nr = panels.size(p), n0 = panels.first(p);
    float* dst = xp.data() + pcols * n0;
    for (std::size_t n = 0; n < nr; ++n) {
      const float* src = x + (n0 + n) * xs.sample;
      for (std::size_t j = 0; j < cols; ++j) dst[j * nr + n] = src[j * xs.element];
    }
  }
  std::vector<float> xsum;
  if (!row_offset_.empty()) {
    xsum.assign(batch, 0.0f);
    for (std::size_t n = 0; n < batch; ++n) {
      float s = 0.0f;
      for (std::size_t j = 0; j < cols; ++j) s = s + x[n * xs.sample + j * xs.element];
      xsum[n] = s;
    }
  }

  const std::size_t tile_groups = batch == 1 ? k.gemv_groups : k.max_groups;
  const std::size_t block_words = std::max<std::size_t>(1, kBlockCols / per_word);
  const std::size_t word_cols = codes_.word_cols();
  for_each_row_tile(codes_.groups(), tile_groups, tile_groups * kGroupRows * cols * batch,
                    [&](std::size_t g0, std::size_t groups) {
                      const std::size_t ld = groups * kGroupRows;
                      std::vector<float> acc(panels.count * max_nr * ld);
                      for (std::size_t w0 = 0; w0 < word_cols; w0 += block_words) {
                        const std::size_t wn = std::min(block_words, word_cols - w0);
                        for (std::size_t p = 0; p < panels.count; ++p) {
                          const std::size_t nr = panels.size(p);
                          LutTile tile;
                          tile.words =
                              codes_.words.data() + g0 * codes_.group_stride() + w0 * kGroupRows;
                          tile.group_stride = codes_.group_stride();
                          tile.word_cols = wn;
                          tile.groups = groups;
                          tile.x = xp.data() + pcols * panels.first(p) + w0 * per_word * nr;
                          tile.nr = nr;
                          tile.acc = acc.data() + p * max_nr * ld;
                          tile.accumulate = w0 > 0;
                          tile.table16 = table16_.data();
                          tile.bits = codes_.bits;
                          k.tile(tile);
                        }
                      }
                      for (std::size_t p = 0; p < panels.count; ++p) {
                        finish(acc.data() + p * max_nr * ld, ld, g0, groups, xsum.data(),
                               panels.first(p), panels.size(p), y, ys);
                      }
                    });
}

void LutMatrix::forward_pairs(const float* x, float* y) const {
  const LutKernels& k = active_lut_kernels();
  const std::size_t cols = codes_.cols, word_cols = codes_.word_cols();
  const std::size_t pairs = word_cols * 8;
  // lut[pair * 16 + (c0 | c1 << 2)] = table[c0] * x0 + table[c1] * x1, each
  // product rounded, then the sum (no fma: the library has no FMA flags).
  std::vector<float> lut(pairs * 16);
  for (std::size_t q = 0; q < pairs; ++q) {
    const float x0 = 2 * q < cols ? x[2 * q] : 0.0f, x1 = 2 * q + 1 < cols ? x[2 * q + 1] : 0.0f;
    float p0[4], p1[4];
    for (int c = 0; c < 4; ++c) {
      p0[c] = table_[c] * x0;
      p1[c] = table_[c] * x1;
    }
    for (int i = 0; i < 16; ++i) lut[q * 16 + i] = p0[i & 3] + p1[i >> 2];
  }
  std::vector<float> xsum;
  if (!row_offset_.empty()) {
    float s = 0.0f;
    for (std::size_t j = 0; j < cols; ++j) s = s + x[j];
    xsum.assign(1, s);
  }
  for_each_row_tile(
      codes_.groups(), k.gemv_groups, k.gemv_groups * kGroupRows * cols,
      [&](std::size_t g0, std::size_t groups) {
        std::vector<float> acc(groups * kGroupRows);
        LutPairTile tile;
        tile.words = codes_.words.data() + g0 * codes_.group_stride();
        tile.group_stride = codes_.group_stride();
        tile.word_cols = word_cols;
        tile.groups = groups;
        tile.lut = lut.data();
        tile.acc = acc.data();
        tile.accumulate = false;
        k.pair_tile(tile);
        finish(acc.data(), groups * kGroupRows, g0, groups, xsum.data(), 0, 1, y, LutStrides{0, 1});
      });
}

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
