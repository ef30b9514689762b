// The scalar reference of the lookup-table kernels (lut_kernels.hpp): the
// same operations per output as the SIMD files, one element at a time.
// std::fma rounds once, as the vector FMA does, so the bits agree.
#include <cmath>

#include "lut_kernels.hpp"
#include "packed_codes.hpp"

namespace xgrad::quant::kernels {

namespace {

void scalar_lut_tile(const LutTile& t) {
  const int w = lane_bits(t.bits), per_word = 32 / w;
  const std::size_t ld = t.groups * kGroupRows;
  for (std::size_t g = 0; g < t.groups; ++g) {
    for (std::size_t r = 0; r < kGroupRows; ++r) {
      const std::uint32_t* words = t.words + g * t.group_stride + r;
      for (std::size_t n = 0; n < t.nr; ++n) {
        float& out = t.acc[n * ld + g * kGroupRows + r];
        float a = t.accumulate ? out : 0.0f;
        const float* x = t.x + n;
        for (std::size_t c = 0; c < t.word_cols; ++c) {
          const std::uint32_t word = words[c * kGroupRows];
          for (int p = 0; p < per_word; ++p, x += t.ldx) {
            // The low 4 bits, as vpermps reads them (table16 repeats 2-bit tables).
            a = std::fma(t.table16[word >> (p * w) & 15u], *x, a);
          }
        }
        out = a;
      }
    }
  }
}

void scalar_lut_pair_tile(const LutPairTile& t) {
  for (std::size_t g = 0; g < t.groups; ++g) {
    for (std::size_t r = 0; r < kGroupRows; ++r) {
      const std::uint32_t* words = t.words + g * t.group_stride + r;
      float& out = t.acc[g * kGroupRows + r];
      float a = t.accumulate ? out : 0.0f;
      const float* lut = t.lut;
      for (std::size_t c = 0; c < t.word_cols; ++c) {
        const std::uint32_t word = words[c * kGroupRows];
        for (int q = 0; q < 8; ++q, lut += 16) a = a + lut[word >> (4 * q) & 15u];
      }
      out = a;
    }
  }
}

}  // namespace

LutKernels lut_scalar_kernels() {
  // Tiles as AVX-512's: the sizes change nothing but speed. Pairs: 4x the
  // decode loop (std::fma is a call without FMA flags).
  return {&scalar_lut_tile, &scalar_lut_pair_tile, 16, 1, 4, true};
}

}  // namespace xgrad::quant::kernels
