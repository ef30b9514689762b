// The intrinsic vocabulary of the SIMD quantization kernels, one struct per
// instruction set (the only place with #ifdef and intrinsics). Each op is the
// exact SIMD counterpart of the scalar expression named in its comment, so the
// kernels written against these structs (simd_kernels.hpp) give the scalar
// path's bits. Included only by the per-ISA files.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace xgrad::quant::detail {
namespace {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
struct Avx512 {
  static constexpr std::size_t lanes = 16;
  static constexpr std::size_t table = 32;   // entries a register lookup reaches
  static constexpr bool fast_gather = true;  // gathers beat the scalar search
  using F = __m512;
  using I = __m512i;
  using M = __mmask16;
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F set(float v) { return _mm512_set1_ps(v); }
  static I seti(int v) { return _mm512_set1_epi32(v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }  // a > b ? a : b
  static F min(F a, F b) { return _mm512_min_ps(a, b); }  // a < b ? a : b
  static M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static M le(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static M both(M a, M b) { return static_cast<M>(a & b); }
  static M isnan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static F select(M m, F yes, F no) { return _mm512_mask_blend_ps(m, no, yes); }
  static F nearbyint(F a) {  // std::nearbyint: current rounding mode, no exception
    return _mm512_roundscale_ps(a, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  }
  static I trunc(F a) { return _mm512_cvttps_epi32(a); }  // int(a), |a| < 2^31
  static I mini(I a, I b) { return _mm512_min_epi32(a, b); }
  static I add_where(I r, M m, I s) { return _mm512_mask_add_epi32(r, m, r, s); }
  static I addi(I a, I b) { return _mm512_add_epi32(a, b); }
  static I gather(const std::uint32_t* p, I idx) {
    return _mm512_i32gather_epi32(idx, reinterpret_cast<const int*>(p), 4);
  }
  static F gather(const float* p, I idx) { return _mm512_i32gather_ps(idx, p, 4); }
  // Up to 32 floats in two registers, looked up by index.
  struct Table {
    F a, b;
  };
  static Table table_of(const float* p) { return {load(p), load(p + 16)}; }
  static F lookup(const Table& t, I idx) { return _mm512_permutex2var_ps(t.a, idx, t.b); }
  static void store_mask(std::uint8_t* p, M m) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_maskz_mov_epi8(m, _mm_set1_epi8(1)));
  }
};
#endif

#if defined(__AVX2__) && defined(__BMI2__)
struct Avx2 {
  static constexpr std::size_t lanes = 8;
  static constexpr std::size_t table = 16;
  static constexpr bool fast_gather = false;
  using F = __m256;
  using I = __m256i;
  using M = __m256;  // all-ones lanes
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set(float v) { return _mm256_set1_ps(v); }
  static I seti(int v) { return _mm256_set1_epi32(v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }  // a > b ? a : b
  static F min(F a, F b) { return _mm256_min_ps(a, b); }  // a < b ? a : b
  static M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static M le(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static M both(M a, M b) { return _mm256_and_ps(a, b); }
  static M isnan(F a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static F select(M m, F yes, F no) { return _mm256_blendv_ps(no, yes, m); }
  static F nearbyint(F a) {
    return _mm256_round_ps(a, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
  }
  static I trunc(F a) { return _mm256_cvttps_epi32(a); }
  static I mini(I a, I b) { return _mm256_min_epi32(a, b); }
  static I add_where(I r, M m, I s) {
    return _mm256_add_epi32(r, _mm256_and_si256(_mm256_castps_si256(m), s));
  }
  static I addi(I a, I b) { return _mm256_add_epi32(a, b); }
  static I gather(const std::uint32_t* p, I idx) {
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(p), idx, 4);
  }
  static F gather(const float* p, I idx) { return _mm256_i32gather_ps(p, idx, 4); }
  // Up to 16 floats in two registers: permute each, pick by index bit 3.
  struct Table {
    F a, b;
  };
  static Table table_of(const float* p) { return {load(p), load(p + 8)}; }
  static F lookup(const Table& t, I idx) {
    const F lo = _mm256_permutevar8x32_ps(t.a, idx), hi = _mm256_permutevar8x32_ps(t.b, idx);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
  }
  static void store_mask(std::uint8_t* p, M m) {
    const std::uint64_t bytes =
        _pdep_u64(static_cast<unsigned>(_mm256_movemask_ps(m)), 0x0101010101010101ULL);
    __builtin_memcpy(p, &bytes, 8);
  }
};
#endif

#if defined(__AVX2__)
// Eight float lanes on any of the sets above: sums whose lane structure is
// fixed at eight (blocked_sums.hpp) use these in every set.
struct Lanes8 {
  using F = __m256;  // comparisons give all-ones lanes
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F set(float v) { return _mm256_set1_ps(v); }
  static F zero() { return _mm256_setzero_ps(); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F keep_if(F m, F v) { return _mm256_and_ps(m, v); }  // detail::keep_if
  static F ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static F le(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static F gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static F lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F both(F a, F b) { return _mm256_and_ps(a, b); }
};
#endif

}  // namespace
}  // namespace xgrad::quant::detail
