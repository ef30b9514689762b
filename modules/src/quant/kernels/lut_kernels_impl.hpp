// The lookup-table tile kernels, written once against an instruction-set
// struct V of lut_isa.hpp and instantiated by each per-ISA file. Lanes are
// rows: a register holds one word column of 16 (AVX2: 8) rows; shifting it
// by p code widths and permuting the table by the low bits gives the rows'
// weights of column p, which multiply the broadcast activations of that
// column. Each output keeps one accumulator through all columns in order
// (lut_kernels.hpp), so the tile sizes below are free choices of speed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lut_isa.hpp"
#include "lut_kernels.hpp"
#include "lut_unroll.hpp"
#include "packed_codes.hpp"

namespace xgrad::quant::kernels {
namespace {

// One pass over the columns per register of a row group (AVX2: two halves
// of 8 rows), so a pass holds G x NR accumulators: more batch columns per
// table lookup than holding both halves at once.
template <class V, int Bits, int G, int NR>
void lut_tile(const LutTile& t) {
  using F = typename V::F;
  using I = typename V::I;
  constexpr int H = int(kGroupRows) / V::lanes;  // registers per row group
  constexpr int W = lane_bits(Bits), CPW = 32 / W;
  constexpr std::size_t ld = std::size_t(G) * kGroupRows;
  const typename V::Table table = V::table(t.table16);
  for (int h = 0; h < H; ++h) {
    float* out = t.acc + h * V::lanes;
    F acc[G][NR];
#pragma GCC unroll 64
    for (int i = 0; i < G * NR; ++i) {
      const int g = i / NR, n = i % NR;
      acc[g][n] = t.accumulate ? V::load(out + n * ld + g * kGroupRows) : V::zero();
    }
    const std::uint32_t* words = t.words + h * V::lanes;
    const float* x = t.x;
    const std::size_t ldx = t.ldx;
    for (std::size_t w = 0; w < t.word_cols; ++w, words += kGroupRows, x += CPW * ldx) {
      I c[G];
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) c[g] = V::load_words(words + g * t.group_stride);
      each_position(
          [&](auto p) {
            constexpr int pos = decltype(p)::value;
            F d[G];
#pragma GCC unroll 8
            for (int g = 0; g < G; ++g) {
              d[g] = V::template lookup<Bits>(table, V::template shift_right<pos * W>(c[g]));
            }
#pragma GCC unroll 16
            for (int n = 0; n < NR; ++n) {
              const F b = V::broadcast(x + pos * ldx + n);
#pragma GCC unroll 8
              for (int g = 0; g < G; ++g) acc[g][n] = V::fma(d[g], b, acc[g][n]);
            }
          },
          std::make_integer_sequence<int, CPW>{});
    }
#pragma GCC unroll 64
    for (int i = 0; i < G * NR; ++i) {
      const int g = i / NR, n = i % NR;
      V::store(out + n * ld + g * kGroupRows, acc[g][n]);
    }
  }
}

// The T-MAC-style pair variant (lut_kernels.hpp): 8 pairs of 2-bit codes per
// word, pair q's 4 bits at [4q, 4q + 4).
template <class V, int G>
void lut_pair_tile(const LutPairTile& t) {
  using F = typename V::F;
  using I = typename V::I;
  constexpr int H = int(kGroupRows) / V::lanes;
  F acc[G][H];
#pragma GCC unroll 16
  for (int i = 0; i < G * H; ++i) {
    acc[i / H][i % H] = t.accumulate ? V::load(t.acc + i * V::lanes) : V::zero();
  }
  const std::uint32_t* words = t.words;
  const float* lut = t.lut;
  for (std::size_t w = 0; w < t.word_cols; ++w, words += kGroupRows, lut += 8 * 16) {
    I c[G][H];
#pragma GCC unroll 8
    for (int i = 0; i < G * H; ++i) {
      c[i / H][i % H] = V::load_words(words + (i / H) * t.group_stride + (i % H) * V::lanes);
    }
    each_position(
        [&](auto q) {
          constexpr int pair = decltype(q)::value;
          const typename V::Table table = V::table(lut + pair * 16);
#pragma GCC unroll 8
          for (int i = 0; i < G * H; ++i) {
            acc[i / H][i % H] = V::add(
                acc[i / H][i % H],
                V::template lookup<4>(table, V::template shift_right<pair * 4>(c[i / H][i % H])));
          }
        },
        std::make_integer_sequence<int, 8>{});
  }
#pragma GCC unroll 16
  for (int i = 0; i < G * H; ++i) V::store(t.acc + i * V::lanes, acc[i / H][i % H]);
}

// Instantiations: NR = 1 .. MaxNR with 1 or MaxG groups, and GemvG groups at
// NR = 1 (lut_matrix.cpp asks for nothing else).
template <class V, int Bits, int MaxNR, int MaxG, int GemvG>
void lut_tile_entry(const LutTile& t) {
  LutTileFn fn = nullptr;
  if (t.nr == 1 && t.groups == std::size_t(GemvG)) {
    fn = &lut_tile<V, Bits, GemvG, 1>;
  } else if (t.groups == 1) {
    fn = pick_nr<MaxNR>(t.nr, [](auto nr) { return &lut_tile<V, Bits, 1, decltype(nr)::value>; });
  } else if (t.groups == std::size_t(MaxG)) {
    fn =
        pick_nr<MaxNR>(t.nr, [](auto nr) { return &lut_tile<V, Bits, MaxG, decltype(nr)::value>; });
  }
  if (fn) fn(t);  // never null: lut_kernels_of instantiates every size asked for
}

template <class V, int MaxNR, int MaxG, int GemvG>
void lut_tile_any(const LutTile& t) {
  if (t.bits == 2) {
    lut_tile_entry<V, 2, MaxNR, MaxG, GemvG>(t);
  } else if (t.bits == 3 && V::narrow_lookup) {  // else a 3-bit code is a 4-bit one
    lut_tile_entry<V, 3, MaxNR, MaxG, GemvG>(t);
  } else {
    lut_tile_entry<V, 4, MaxNR, MaxG, GemvG>(t);
  }
}

template <class V, int GemvG>
void lut_pair_tile_any(const LutPairTile& t) {
  if (t.groups == std::size_t(GemvG)) {
    lut_pair_tile<V, GemvG>(t);
  } else if (t.groups == 1) {
    lut_pair_tile<V, 1>(t);
  }
}

// A set's kernels and tile sizes from one place: tiles of MaxNR batch
// columns x MaxG row groups, GemvG row groups for batch 1 (and the pairs).
template <class V, int MaxNR, int MaxG, int GemvG>
LutKernels lut_kernels_of(bool prefer_pairs) {
  return {&lut_tile_any<V, MaxNR, MaxG, GemvG>,
          &lut_pair_tile_any<V, GemvG>,
          MaxNR,
          MaxG,
          GemvG,
          prefer_pairs};
}

}  // namespace
}  // namespace xgrad::quant::kernels
