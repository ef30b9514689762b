// The scalar reference of the integer lookup-table kernels: the same exact
// int32 sums, one product at a time (lut_int_kernels.hpp has the layout).
#include <cmath>
#include <cstring>

#include "lut_int_kernels.hpp"
#include "packed_codes.hpp"

namespace xgrad::quant::kernels {

namespace {

void scalar_int_tile(const IntTile& t) {
  const int w = lane_bits(t.bits), fields = 32 / w / 4;
  const std::uint32_t mask = (1u << w) - 1;
  const std::size_t ld = t.groups * kGroupRows;
  for (std::size_t g = 0; g < t.groups; ++g) {
    for (std::size_t r = 0; r < kGroupRows; ++r) {
      const std::uint32_t* words = t.words + g * t.group_stride + r;
      for (std::size_t n = 0; n < t.nr; ++n) {
        std::int32_t& out = t.acc[n * ld + g * kGroupRows + r];
        std::int64_t a = t.accumulate ? out : 0;
        for (std::size_t c = 0; c < t.word_cols; ++c) {
          const std::uint32_t word = words[c * kGroupRows];
          for (int k = 0; k < fields; ++k) {
            const std::uint32_t x = t.act[(c * std::size_t(fields) + std::size_t(k)) * t.nr + n];
            for (int b = 0; b < 4; ++b) {  // byte b: the code at bits 8b + k*w
              const std::uint32_t code = word >> (8 * b + k * w) & mask;
              a += std::int64_t(t.table16[code]) * std::int64_t(x >> (8 * b) & 0xFFu);
            }
          }
        }
        out = std::int32_t(a);  // in range: LutMatrixInt8 bounds every sum
      }
    }
  }
}

void scalar_rows16(const IntRows16& t) {
  for (std::size_t l = 0; l < t.cols; ++l) {
    const std::uint8_t* a = t.a + t.col[l];
    std::int32_t s[16];
    for (std::size_t r = 0; r < 16; ++r) {
      s[r] = 0;  // in range: the caller bounds every sum
      for (std::size_t q = 0; q < t.kq; ++q) {
        const std::int8_t* w = t.w + (q * 16 + r) * 4;
        for (std::size_t i = 0; i < 4; ++i)
          s[r] += std::int32_t(w[i]) * std::int32_t(a[t.quad[q] + i]);
      }
    }
    for (std::size_t r = 0; r < t.rows; ++r) {
      if (t.in_float) {
        const float d = float(s[r]) + t.fshift[r] * float(s[t.ones]) - t.foffset[r];  // exact
        const float p = d * t.fscale[r];
        t.y[l * t.y_col + r] = p + t.bias[r];
      } else {
        t.y[l * t.y_col + r] =
            float((double(s[r]) + t.shift[r] * double(s[t.ones]) - t.offset[r]) * t.scale[r]) +
            t.bias[r];
      }
    }
  }
}

// x's bits as an int32 that orders like the float (negatives flipped below
// the positives); a NaN sets `nan` (its key is meaningless, the call fails).
inline std::int32_t ordered_key(float x, bool& nan) {
  std::int32_t b;
  std::memcpy(&b, &x, 4);
  nan |= (b & 0x7FFFFFFF) > 0x7F800000;
  return b ^ ((b >> 31) & 0x7FFFFFFF);
}

}  // namespace

bool scalar_step_codes(const float* x, std::size_t n, const std::int32_t* thresholds, std::size_t m,
                       const std::uint8_t* code_of_step, std::uint8_t* out) {
  bool nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t key = ordered_key(x[i], nan);
    std::size_t k = 0;
    for (std::size_t t = 0; t < m; ++t) k += std::size_t(key >= thresholds[t]);
    out[i] = code_of_step[k];
  }
  return !nan;
}

bool scalar_step_codes_near(const float* x, std::size_t n, const std::int32_t* padded,
                            std::size_t m, float origin, float inverse_step,
                            const std::uint8_t* code_of_step, std::uint8_t* out) {
  bool nan = false;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t key = ordered_key(x[i], nan);
    // fmax/fmin put NaN at 0 (the result is refused anyway).
    const float g =
        std::fmin(std::fmax(std::floor((x[i] - origin) * inverse_step) + 1.0f, 0.0f), float(m));
    std::size_t k = std::size_t(g);
    k = k + std::size_t(key >= padded[k + 1]) - std::size_t(key < padded[k]);
    out[i] = code_of_step[k];
  }
  return !nan;
}

IntKernels int_scalar_kernels() {
  return {&scalar_int_tile,        16,      1, 4, 127, &scalar_rows16, &scalar_step_codes,
          &scalar_step_codes_near, 1L << 30};
}

}  // namespace xgrad::quant::kernels
