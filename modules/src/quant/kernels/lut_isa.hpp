// The intrinsic vocabulary of the lookup-table kernels (lut_kernels_impl.hpp),
// one struct per instruction set: the only place with intrinsics for them.
// Included only by the per-ISA files, each compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xgrad::quant::kernels {
namespace {

#if defined(__AVX512F__)
struct LutAvx512 {
  static constexpr int lanes = 16;
  static constexpr bool narrow_lookup = false;  // 8-entry tables cost no less
  using F = __m512;
  using I = __m512i;
  // A 16-entry table in one register.
  struct Table {
    F t;
  };
  static Table table(const float* t16) { return {_mm512_loadu_ps(t16)}; }
  // t[idx & 15] per lane: vpermps reads only the low 4 index bits.
  template <int Bits>
  static F lookup(const Table& t, I idx) {
    return _mm512_permutexvar_ps(idx, t.t);
  }
  static I load_words(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  template <int S>
  static I shift_right(I v) {
    return S == 0 ? v : _mm512_srli_epi32(v, S);
  }
  static F zero() { return _mm512_setzero_ps(); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }  // a * b + c, one rounding
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct LutAvx2 {
  static constexpr int lanes = 8;
  static constexpr bool narrow_lookup = true;  // 8-entry tables take one permute
  using F = __m256;
  using I = __m256i;
  // 16 entries in two registers: vpermps reads the low 3 index bits, bit 3
  // picks the register (moved to the sign bit for vblendvps).
  struct Table {
    F lo, hi;
  };
  static Table table(const float* t16) { return {_mm256_loadu_ps(t16), _mm256_loadu_ps(t16 + 8)}; }
  // Codes below 8 (2-bit codes with their table repeated, 3-bit codes) need
  // only the low register.
  template <int Bits>
  static F lookup(const Table& t, I idx) {
    const F lo = _mm256_permutevar8x32_ps(t.lo, idx);
    if (Bits < 4) return lo;
    const F hi = _mm256_permutevar8x32_ps(t.hi, idx);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
  }
  static I load_words(const std::uint32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  template <int S>
  static I shift_right(I v) {
    return S == 0 ? v : _mm256_srli_epi32(v, S);
  }
  static F zero() { return _mm256_setzero_ps(); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
};
#endif

// ---- integer products: u8 activations times s8 weights, exact int32 sums ----

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
struct IntVnni512 {
  static constexpr int lanes = 16;
  static constexpr int max_weight = 127;  // vpdpbusd sums in 32 bits
  using I = __m512i;
  // A 16-byte table in every 128-bit lane (vpshufb looks up within lanes).
  static I byte_table(const std::int8_t* t16) {
    // Four copies (GCC 12's _mm512_broadcast_i32x4 trips -Wuninitialized).
    std::int8_t t64[64];
    for (int i = 0; i < 64; ++i) t64[i] = t16[i % 16];
    return _mm512_loadu_si512(t64);
  }
  static I lookup(I table, I idx) { return _mm512_shuffle_epi8(table, idx); }  // idx bytes < 16
  static I load_words(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  template <int S>
  static I shift_right(I v) {
    return S == 0 ? v : _mm512_srli_epi32(v, S);
  }
  static I set(std::uint32_t v) { return _mm512_set1_epi32(int(v)); }
  static I bit_and(I a, I b) { return _mm512_and_si512(a, b); }
  static I zero() { return _mm512_setzero_si512(); }
  static I load(const std::int32_t* p) { return _mm512_loadu_si512(p); }
  static void store(std::int32_t* p, I v) { _mm512_storeu_si512(p, v); }
  static I broadcast(const std::uint32_t* p) { return _mm512_set1_epi32(int(*p)); }
  // acc + the sum of the 4 products a.u8[i] * w.s8[i] in each 32-bit lane.
  static I dot4(I acc, I a, I w) { return _mm512_dpbusd_epi32(acc, a, w); }
};
#endif

#if defined(__AVX2__)
struct IntAvx2 {
  static constexpr int lanes = 8;
  // vpmaddubsw saturates pairs at 2^15 - 1: 2 * 255 * 64 = 32640 fits.
  static constexpr int max_weight = 64;
  using I = __m256i;
  static I byte_table(const std::int8_t* t16) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t16)));
  }
  static I lookup(I table, I idx) { return _mm256_shuffle_epi8(table, idx); }
  static I load_words(const std::uint32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  template <int S>
  static I shift_right(I v) {
    return S == 0 ? v : _mm256_srli_epi32(v, S);
  }
  static I set(std::uint32_t v) { return _mm256_set1_epi32(int(v)); }
  static I bit_and(I a, I b) { return _mm256_and_si256(a, b); }
  static I zero() { return _mm256_setzero_si256(); }
  static I load(const std::int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static void store(std::int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static I broadcast(const std::uint32_t* p) { return _mm256_set1_epi32(int(*p)); }
  // Pairs of products in 16 bits (exact below max_weight), pairs of pairs in 32.
  static I dot4(I acc, I a, I w) {
    const I pairs = _mm256_maddubs_epi16(a, w);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
};
#endif

}  // namespace
}  // namespace xgrad::quant::kernels
