// LutMatrix: checks, and the driver of the tile kernels (lut_kernels.hpp):
// activations packed into panels, rows cut into tiles of row groups fixed by
// the kernel set (never by the thread count), columns into blocks, the
// threads splitting the tiles.
#include "lut_matrix.hpp"

#include <algorithm>
#include <cmath>

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
  XGRAD_CHECK(v.empty() || v.size() == rows, ValueError, "LutMatrix: ", arg, " has ", v.size(),
              " elements, expected 0 or rows = ", rows);
  for (std::size_t i = 0; i < v.size(); ++i)
    XGRAD_CHECK(std::isfinite(v[i]), ValueError, "LutMatrix: ", arg, "[", i, "] is ", v[i],
                ", must be finite");
}

void check_codes(const PackedCodes& c) {
  XGRAD_CHECK(c.bits == 2 || c.bits == 3 || c.bits == 4, ValueError,
              "LutMatrix: codes.bits must be 2, 3 or 4, got ", c.bits);
  XGRAD_CHECK(c.rows > 0 && c.cols > 0 && c.words.size() == c.groups() * c.group_stride(),
              ValueError, "LutMatrix: codes holds ", c.words.size(), " words, not the packing of ",
              c.rows, " x ", c.cols, " codes (use pack_codes)");
  if (c.bits == 3) {  // 3-bit codes in 4-bit lanes: the high bit of each is 0
    for (std::size_t i = 0; i < c.words.size(); ++i)
      XGRAD_CHECK(!(c.words[i] & 0x88888888u), ValueError,
                  "LutMatrix: codes holds a 3-bit code >= 8 in word ", i, " (use pack_codes)");
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
  XGRAD_CHECK(table_.size() == levels, ValueError, "LutMatrix: table has ", table_.size(),
              " entries, expected 2^bits = ", levels);
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
  auto one = [&](std::size_t n, std::size_t o) {
    float r = acc[n * ld + (o - o0)];
    if (!row_scale_.empty()) r = r * row_scale_[o];
    if (!row_offset_.empty()) {
      const float shift = row_offset_[o] * xsum[n0 + n];
      r = r + shift;
    }
    if (!bias_.empty()) r = r + bias_[o];
    y[(n0 + n) * ys.sample + o * ys.element] = r;
  };
  // Writes in the output's memory order (the same values either way).
  if (ys.sample == 1) {
    for (std::size_t o = o0; o < o1; ++o)
      for (std::size_t n = 0; n < nr; ++n) one(n, o);
  } else {
    for (std::size_t n = 0; n < nr; ++n)
      for (std::size_t o = o0; o < o1; ++o) one(n, o);
  }
}

namespace {

// Per-thread buffers reused across calls (no allocation per forward once
// grown): the packed panels or padded tail, and each tile's sums.
std::vector<float>& panel_scratch(std::size_t n) {
  thread_local std::vector<float> v;
  if (v.size() < n) v.resize(n);
  return v;
}
std::vector<float>& acc_scratch(std::size_t n) {
  thread_local std::vector<float> v;
  if (v.size() < n) v.resize(n);
  return v;
}

}  // namespace

void LutMatrix::forward(const float* x, std::size_t x_size, std::size_t batch, float* y,
                        std::size_t y_size, LutPath path, LutLayout layout) const {
  const std::size_t rows = codes_.rows, cols = codes_.cols;
  check_forward_sizes("LutMatrix::forward", "x", x_size, batch, cols, y_size, rows);
  if (path == LutPath::automatic) {
    const bool pairs = batch == 1 && codes_.bits == 2 && active_lut_kernels().prefer_pairs;
    path = pairs ? LutPath::pairs : LutPath::decode;
  }
  if (path == LutPath::pairs) {
    XGRAD_CHECK(batch == 1 && codes_.bits == 2, ValueError,
                "LutMatrix::forward: the pairs path needs batch 1 and 2-bit codes, got batch ",
                batch, " and ", codes_.bits, "-bit codes");
    forward_pairs(x, y);
    return;
  }
  const LutStrides xs = strides_of(layout, batch, cols), ys = strides_of(layout, batch, rows);
  const LutKernels& k = active_lut_kernels();
  const std::size_t pcols = codes_.padded_cols(), per_word = codes_.codes_per_word();
  const Panels panels = panels_of(batch, k.max_nr);
  const std::size_t max_nr = panels.size(0);
  const std::size_t word_cols = codes_.word_cols();

  // x[j * batch + n] (one sample per column, or a single sample) is read in
  // place for the whole word columns; the last, partial one from a copy
  // padded with zeros. Other batches are packed into panels x[j * nr + n],
  // zero past the last column. The kernels read the same values either way.
  const bool in_place = layout == LutLayout::sample_columns || batch == 1;
  const std::size_t full_words = in_place ? cols / per_word : word_cols;
  std::vector<float>& buffer = panel_scratch(in_place ? per_word * batch : pcols * batch);
  float* xp = buffer.data();
  if (in_place) {
    if (full_words < word_cols) {
      std::fill(xp, xp + per_word * batch, 0.0f);
      const std::size_t j0 = full_words * per_word;
      std::copy(x + j0 * batch, x + cols * batch, xp);
    }
  } else {
    for (std::size_t p = 0; p < panels.count; ++p) {
      const std::size_t nr = panels.size(p), n0 = panels.first(p);
      float* dst = xp + pcols * n0;
      for (std::size_t n = 0; n < nr; ++n) {
        const float* src = x + (n0 + n) * xs.sample;
        for (std::size_t j = 0; j < cols; ++j) dst[j * nr + n] = src[j * xs.element];
      }
      std::fill(dst + cols * nr, dst + pcols * nr, 0.0f);
    }
  }
  // Where panel p's columns from word column w start, and their stride.
  auto panel_x = [&](std::size_t p, std::size_t w) -> std::pair<const float*, std::size_t> {
    const std::size_t n0 = panels.first(p), nr = panels.size(p);
    if (!in_place) return {xp + pcols * n0 + w * per_word * nr, nr};
    if (w < full_words) return {x + n0 + w * per_word * batch, batch};
    return {xp + n0, batch};  // the padded last word column
  };
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
  for_each_row_tile(codes_.groups(), tile_groups, tile_groups * kGroupRows * cols * batch,
                    [&](std::size_t g0, std::size_t groups) {
                      const std::size_t ld = groups * kGroupRows;
                      float* acc = acc_scratch(panels.count * max_nr * ld).data();
                      for (std::size_t w0 = 0; w0 < word_cols;) {
                        // Blocks never straddle the in-place columns and the padded copy.
                        const std::size_t end = w0 < full_words ? full_words : word_cols;
                        const std::size_t wn = std::min(block_words, end - w0);
                        for (std::size_t p = 0; p < panels.count; ++p) {
                          const auto [px, ldx] = panel_x(p, w0);
                          LutTile tile;
                          tile.words =
                              codes_.words.data() + g0 * codes_.group_stride() + w0 * kGroupRows;
                          tile.group_stride = codes_.group_stride();
                          tile.word_cols = wn;
                          tile.groups = groups;
                          tile.x = px;
                          tile.nr = panels.size(p);
                          tile.ldx = ldx;
                          tile.acc = acc + p * max_nr * ld;
                          tile.accumulate = w0 > 0;
                          tile.table16 = table16_.data();
                          tile.bits = codes_.bits;
                          k.tile(tile);
                        }
                        w0 += wn;
                      }
                      for (std::size_t p = 0; p < panels.count; ++p) {
                        finish(acc + p * max_nr * ld, ld, g0, groups, xsum.data(), panels.first(p),
                               panels.size(p), y, ys);
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
