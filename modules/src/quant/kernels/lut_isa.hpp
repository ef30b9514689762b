// The intrinsic vocabulary of the lookup-table kernels (lut_kernels_impl.hpp),
// one struct per instruction set: the only place with intrinsics for them.
// Included only by the per-ISA files, each compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "lut_int_kernels.hpp"

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
  static I load_bytes(const std::int8_t* p) { return _mm512_loadu_si512(p); }
  static I broadcast_bytes(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static constexpr long pair_limit = 1L << 30;  // 32-bit sums: the caller bounds them
  // lut_int_kernels.hpp's step codes, 16 elements a vector: a count of masks,
  // then the code table by permutation.
  static bool step_codes(const float* x, std::size_t n, const std::int32_t* thresholds,
                         std::size_t m, const std::uint8_t* code_of_step, std::uint8_t* out) {
    std::int32_t tab[32] = {};
    for (std::size_t k = 0; k <= m; ++k) tab[k] = code_of_step[k];
    const I lo = _mm512_loadu_si512(tab), hi = _mm512_loadu_si512(tab + 16);
    const I sign = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const I one = _mm512_set1_epi32(1);
    __mmask16 nan = 0;
    for (std::size_t i = 0; i < n; i += 16) {
      const __mmask16 live = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
      const I b = _mm512_maskz_loadu_epi32(live, x + i);
      nan |= _mm512_cmpgt_epi32_mask(_mm512_and_si512(b, sign), inf);
      const I key = _mm512_xor_si512(b, _mm512_and_si512(_mm512_srai_epi32(b, 31), sign));
      I count = _mm512_setzero_si512();
      for (std::size_t k = 0; k < m; ++k) {
        const __mmask16 ge = _mm512_cmpge_epi32_mask(key, _mm512_set1_epi32(thresholds[k]));
        count = _mm512_mask_add_epi32(count, ge, count, one);
      }
      const I codes = _mm512_permutex2var_epi32(lo, count, hi);
      _mm512_mask_cvtepi32_storeu_epi8(out + i, live, codes);
    }
    return nan == 0;
  }
  // lut_int_kernels.hpp's near form: the guess in float, two gathers of
  // thresholds, a gather of codes.
  static bool step_codes_near(const float* x, std::size_t n, const std::int32_t* padded,
                              std::size_t m, float origin, float inverse_step,
                              const std::uint8_t* code_of_step, std::uint8_t* out) {
    alignas(64) std::int32_t tab[256 + 16];
    for (std::size_t k = 0; k <= m && k < 256; ++k) tab[k] = code_of_step[k];
    if (m > 255)
      return scalar_step_codes_near(x, n, padded, m, origin, inverse_step, code_of_step, out);
    const I sign = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const I one = _mm512_set1_epi32(1);
    const __m512 o = _mm512_set1_ps(origin), s = _mm512_set1_ps(inverse_step);
    const __m512 lo = _mm512_setzero_ps(), hi = _mm512_set1_ps(float(m));
    __mmask16 nan = 0;
    for (std::size_t i = 0; i < n; i += 16) {
      const __mmask16 live = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
      const I b = _mm512_maskz_loadu_epi32(live, x + i);
      nan |= _mm512_cmpgt_epi32_mask(_mm512_and_si512(b, sign), inf);
      const I key = _mm512_xor_si512(b, _mm512_and_si512(_mm512_srai_epi32(b, 31), sign));
      const __m512 v = _mm512_castsi512_ps(b);
      __m512 g = _mm512_add_ps(_mm512_roundscale_ps(_mm512_mul_ps(_mm512_sub_ps(v, o), s),
                                                    _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                               _mm512_set1_ps(1.0f));
      g = _mm512_min_ps(_mm512_max_ps(g, lo), hi);  // NaN: lo (refused anyway)
      I k = _mm512_cvttps_epi32(g);
      const I up = _mm512_i32gather_epi32(_mm512_add_epi32(k, one), padded, 4);
      const I at = _mm512_i32gather_epi32(k, padded, 4);
      k = _mm512_mask_add_epi32(k, _mm512_cmpge_epi32_mask(key, up), k, one);
      k = _mm512_mask_sub_epi32(k, _mm512_cmplt_epi32_mask(key, at), k, one);
      const I codes = _mm512_i32gather_epi32(k, tab, 4);
      _mm512_mask_cvtepi32_storeu_epi8(out + i, live, codes);
    }
    return nan == 0;
  }
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
  static I load_bytes(const std::int8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  static I broadcast_bytes(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static constexpr long pair_limit = 32767;  // a saturating vpmaddubsw pair
  // lut_int_kernels.hpp's step codes, 8 elements a vector, the table read
  // back per element.
  static bool step_codes(const float* x, std::size_t n, const std::int32_t* thresholds,
                         std::size_t m, const std::uint8_t* code_of_step, std::uint8_t* out) {
    const I sign = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
    I nan = _mm256_setzero_si256();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const I b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
      nan = _mm256_or_si256(nan, _mm256_cmpgt_epi32(_mm256_and_si256(b, sign), inf));
      const I key = _mm256_xor_si256(b, _mm256_and_si256(_mm256_srai_epi32(b, 31), sign));
      I count = _mm256_setzero_si256();
      for (std::size_t k = 0; k < m; ++k)  // key >= t: not (t > key); -1 per true
        count =
            _mm256_sub_epi32(count, _mm256_cmpgt_epi32(key, _mm256_set1_epi32(thresholds[k] - 1)));
      alignas(32) std::int32_t c[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(c), count);
      for (int j = 0; j < 8; ++j) out[i + std::size_t(j)] = code_of_step[c[j]];
    }
    const bool tail = scalar_step_codes(x + i, n - i, thresholds, m, code_of_step, out + i);
    return tail && _mm256_testz_si256(nan, nan);
  }
  static bool step_codes_near(const float* x, std::size_t n, const std::int32_t* padded,
                              std::size_t m, float origin, float inverse_step,
                              const std::uint8_t* code_of_step, std::uint8_t* out) {
    return scalar_step_codes_near(x, n, padded, m, origin, inverse_step, code_of_step, out);
  }
  // Pairs of products in 16 bits (exact below max_weight), pairs of pairs in 32.
  static I dot4(I acc, I a, I w) {
    const I pairs = _mm256_maddubs_epi16(a, w);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
};
#endif

}  // namespace
}  // namespace xgrad::quant::kernels
