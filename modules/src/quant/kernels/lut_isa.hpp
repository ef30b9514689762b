// The intrinsic vocabulary of the lookup-table kernels (lut_kernels_impl.hpp),
// one struct per instruction set: the only place with intrinsics for them.
// Included only by the per-ISA files, each compiled with its own flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace xgrad {
namespace quant {
namespace kernels {
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

}  // namespace
}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
