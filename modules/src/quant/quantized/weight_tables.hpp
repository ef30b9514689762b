// Internal to quantized layers: how a QAT layer's fake-quantized weights
// become codes and tables (the distinct levels in a sign-aware order, the bits
// a table needs) and when per-channel rows factor into one shared integer
// table times a unit per row, the form the lookup-table kernels take.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "../kernels/lut_int_matrix.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant::quantized::tables {

namespace kn = xgrad::quant::kernels;

// A bit order that keeps -0 and +0 apart, -0 first (distinct_levels' order).
template <class T>
bool before(T a, T b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}

// The fewest bits, at least 2, whose 2^b codes hold n levels.
inline int bits_for(std::size_t n) {
  int b = 2;
  while ((std::size_t(1) << b) < n) ++b;
  return b;
}

// The distinct values of v[0, n), ascending (-0 before +0).
template <class T>
std::vector<T> distinct(const T* v, std::size_t n) {
  std::vector<T> out(v, v + n);
  std::sort(out.begin(), out.end(), before<T>);
  out.erase(std::unique(out.begin(), out.end(),
                        [](T a, T b) { return a == b && std::signbit(a) == std::signbit(b); }),
            out.end());
  return out;
}

// Per-channel weights as the kernels take them: every row's levels are
// integers times the row's unit (as uniform per-channel quantizers make
// them: level = float(q * scale)), and the integers of all rows together are
// at most 16. Then table = those integers ascending, row_scale = the units,
// codes = each weight's integer's position, and the weight is float(table[c]
// * row_scale[o]) bit for bit. Returns the codes' bits (2 to 4), or 0 (nothing
// written) when the levels do not factor so.
template <class Rt>
int row_scaled_table(const Rt& rt, std::vector<std::uint8_t>& codes, std::vector<float>& table,
                     std::vector<float>& row_scale) {
  const std::size_t width = std::size_t(1) << rt.bits;
  std::vector<std::vector<int>> q(rt.rows);  // by row, the integer of each code
  std::vector<float> unit(rt.rows);
  std::vector<int> all;
  for (std::size_t o = 0; o < rt.rows; ++o) {
    std::vector<bool> used(width, false);
    for (std::size_t j = 0; j < rt.cols; ++j) used[rt.codes[o * rt.cols + j]] = true;
    std::vector<float> levels;
    std::vector<std::size_t> which;
    for (std::size_t c = 0; c < width; ++c) {
      if (!used[c]) continue;
      levels.push_back(float(rt.level(o, std::uint8_t(c))));
      which.push_back(c);
    }
    kn::IntegerTable it;
    try {
      it = kn::integer_table(levels, 127);
    } catch (const ValueError&) {
      return 0;  // not integers times one unit
    }
    q[o].assign(width, 0);
    for (std::size_t i = 0; i < which.size(); ++i) q[o][which[i]] = it.values[i];
    unit[o] = it.unit;
    all.insert(all.end(), it.values.begin(), it.values.end());
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    if (all.size() > 16) return 0;
  }
  const int bits = bits_for(all.size());
  table.assign(std::size_t(1) << bits, float(all.back()));  // padding: never a code
  for (std::size_t i = 0; i < all.size(); ++i) table[i] = float(all[i]);
  codes.resize(rt.codes.size());
  for (std::size_t o = 0; o < rt.rows; ++o) {
    for (std::size_t j = 0; j < rt.cols; ++j) {
      const int v = q[o][rt.codes[o * rt.cols + j]];
      codes[o * rt.cols + j] =
          std::uint8_t(std::lower_bound(all.begin(), all.end(), v) - all.begin());
    }
  }
  row_scale = std::move(unit);
  return bits;
}

}  // namespace xgrad::quant::quantized::tables
