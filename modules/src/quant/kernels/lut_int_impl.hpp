// The integer tile kernel (lut_int_kernels.hpp), written once against an
// instruction-set struct of lut_isa.hpp: per word column and field k, the
// masked field bytes index the int8 table (vpshufb), and each lane's four
// weights meet the broadcast four activations of its sample in one dot4.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lut_int_kernels.hpp"
#include "lut_isa.hpp"
#include "lut_unroll.hpp"
#include "packed_codes.hpp"

namespace xgrad::quant::kernels {
namespace {

// One pass over the columns per register of a row group, as lut_tile.
template <class V, int Bits, int G, int NR>
void int_tile(const IntTile& t) {
  using I = typename V::I;
  constexpr int H = int(kGroupRows) / V::lanes;
  constexpr int W = lane_bits(Bits), Fields = 32 / W / 4;
  constexpr std::size_t ld = std::size_t(G) * kGroupRows;
  const I table = V::byte_table(t.table16);
  const I mask = V::set(W == 4 ? 0x0F0F0F0Fu : 0x03030303u);
  for (int h = 0; h < H; ++h) {
    std::int32_t* out = t.acc + h * V::lanes;
    I acc[G][NR];
#pragma GCC unroll 64
    for (int i = 0; i < G * NR; ++i) {
      const int g = i / NR, n = i % NR;
      acc[g][n] = t.accumulate ? V::load(out + n * ld + g * kGroupRows) : V::zero();
    }
    const std::uint32_t* words = t.words + h * V::lanes;
    const std::uint32_t* act = t.act;
    for (std::size_t w = 0; w < t.word_cols; ++w, words += kGroupRows, act += Fields * NR) {
      I c[G];
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) c[g] = V::load_words(words + g * t.group_stride);
      each_position(
          [&](auto k) {
            constexpr int field = decltype(k)::value;
            I wk[G];
#pragma GCC unroll 8
            for (int g = 0; g < G; ++g) {
              wk[g] = V::lookup(table, V::bit_and(V::template shift_right<field * W>(c[g]), mask));
            }
#pragma GCC unroll 16
            for (int n = 0; n < NR; ++n) {
              const I a = V::broadcast(act + field * NR + n);
#pragma GCC unroll 8
              for (int g = 0; g < G; ++g) acc[g][n] = V::dot4(acc[g][n], a, wk[g]);
            }
          },
          std::make_integer_sequence<int, Fields>{});
    }
#pragma GCC unroll 64
    for (int i = 0; i < G * NR; ++i) {
      const int g = i / NR, n = i % NR;
      V::store(out + n * ld + g * kGroupRows, acc[g][n]);
    }
  }
}

// Tiles: nr = 1 .. MaxNR with one row group, or GemvG groups at nr = 1
// (lut_int_matrix.cpp asks for nothing else). A 3-bit code is a 4-bit one
// here: the byte lookup costs the same.
template <class V, int MaxNR, int GemvG>
void int_tile_any(const IntTile& t) {
  const bool gemv = t.nr == 1 && t.groups == std::size_t(GemvG);
  IntTileFn fn = nullptr;
  if (t.bits == 2) {
    fn = gemv ? &int_tile<V, 2, GemvG, 1> : pick_nr<MaxNR>(t.nr, [](auto nr) {
      return &int_tile<V, 2, 1, decltype(nr)::value>;
    });
  } else {
    fn = gemv ? &int_tile<V, 4, GemvG, 1> : pick_nr<MaxNR>(t.nr, [](auto nr) {
      return &int_tile<V, 4, 1, decltype(nr)::value>;
    });
  }
  if (fn) fn(t);  // never null: int_kernels_of instantiates every size asked for
}

// A set's kernel and tile sizes from one place: MaxNR batch columns x 1 row
// group, GemvG row groups for batch 1.
// rows16 (lut_int_kernels.hpp): C columns at a time, each with its own
// accumulators for the 16 rows (V::lanes rows a register), the weights of a
// quad loaded once for all C.
template <class V, int C>
void rows16_block(const IntRows16& t, std::size_t l0) {
  using I = typename V::I;
  constexpr int H = 16 / V::lanes;
  I acc[C][H];
  const std::uint8_t* a[C];
  for (int c = 0; c < C; ++c) {
    a[c] = t.a + t.col[l0 + std::size_t(c)];
    for (int h = 0; h < H; ++h) acc[c][h] = V::zero();
  }
  for (std::size_t q = 0; q < t.kq; ++q) {
    I w[H];
    for (int h = 0; h < H; ++h) w[h] = V::load_bytes(t.w + q * 64 + h * 4 * V::lanes);
    const std::size_t off = t.quad[q];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const I x = V::broadcast_bytes(a[c] + off);
      for (int h = 0; h < H; ++h) acc[c][h] = V::dot4(acc[c][h], x, w[h]);
    }
  }
  for (int c = 0; c < C; ++c) {
    alignas(64) std::int32_t s[16];
    for (int h = 0; h < H; ++h) V::store(s + h * V::lanes, acc[c][h]);
    float* y = t.y + (l0 + std::size_t(c)) * t.y_col;
    // Vectorized by the compiler under this file's flags.
    alignas(64) float out[16];
    if (t.in_float) {
      const float ones = float(s[t.ones]);
      for (int r = 0; r < 16; ++r) {
        const float d = float(s[r]) + t.fshift[r] * ones - t.foffset[r];  // exact
        out[r] = d * t.fscale[r] + t.bias[r];
      }
    } else {
      const double ones = double(s[t.ones]);
      for (int r = 0; r < 16; ++r)
        out[r] = float((double(s[r]) + t.shift[r] * ones - t.offset[r]) * t.scale[r]) + t.bias[r];
    }
    for (std::size_t r = 0; r < t.rows; ++r) y[r] = out[r];
  }
}

template <class V>
void rows16(const IntRows16& t) {
  constexpr int C = V::lanes == 16 ? 8 : 4;
  std::size_t l = 0;
  for (; l + C <= t.cols; l += C) rows16_block<V, C>(t, l);
  for (; l < t.cols; ++l) rows16_block<V, 1>(t, l);
}

template <class V, int MaxNR, int GemvG>
IntKernels int_kernels_of() {
  return {&int_tile_any<V, MaxNR, GemvG>,
          MaxNR,
          1,
          GemvG,
          V::max_weight,
          &rows16<V>,
          &V::step_codes,
          &V::step_codes_near,
          V::pair_limit};
}

}  // namespace
}  // namespace xgrad::quant::kernels
