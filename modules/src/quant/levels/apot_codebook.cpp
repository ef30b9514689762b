#include "xgrad/quant/levels/apot_codebook.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "../enum_name.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

// 2^-e rounded to float32, as PyTorch stores each term element.
float power_of_two_f32(int e) { return static_cast<float>(std::ldexp(1.0, -e)); }

// a * b saturating at SIZE_MAX.
std::size_t mul_sat(std::size_t a, std::size_t b) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
    return std::numeric_limits<std::size_t>::max();
  return a * b;
}

std::size_t pow_sat(std::size_t base, int exponent) {
  std::size_t r = 1;
  for (int i = 0; i < exponent; ++i) r = mul_sat(r, base);
  return r;
}

void check_count(std::size_t count, int b, int k, LevelScheme scheme, const char* op) {
  XGRAD_CHECK(count <= kMaxAPoTLevels, ValueError, op, ": b=", b, ", k=", k, " (",
              to_string(scheme), ") gives ",
              count == std::numeric_limits<std::size_t>::max() ? "too many" : format_message(count),
              " levels; at most ", kMaxAPoTLevels, " are supported");
}

}  // namespace

const char* to_string(LevelScheme scheme) {
  return detail::enum_name(scheme, {"unsigned", "signed_per_term", "sign_magnitude"});
}

int APoTCodeBook::bits() const {
  int total = 0;
  for (const auto& t : terms) total += t.bits;
  return total;
}

// APoTCodeBook is a plain struct a caller may fill: refuse shapes that would
// make the shifts or the exponent lookups undefined.
static void check_term(const APoTTerm& t, std::size_t i, const char* op) {
  XGRAD_CHECK(t.bits >= 1 && t.bits <= 30, ValueError, op, ": term ", i, " has ", t.bits,
              " bits (1 to 30 supported)");
  XGRAD_CHECK(t.exponents.size() == (std::size_t(1) << t.bits) - 1, ValueError, op, ": term ", i,
              " of ", t.bits, " bits needs ", (std::size_t(1) << t.bits) - 1, " exponents, got ",
              t.exponents.size());
}

double APoTCodeBook::top_sum() const {
  double s = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) check_term(terms[i], i, "APoTCodeBook::top_sum");
  for (const auto& t : terms) {
    int e = *std::min_element(t.exponents.begin(), t.exponents.end());
    s += static_cast<double>(power_of_two_f32(e));
  }
  return s;
}

int APoTCodeBook::field(std::int64_t code, std::size_t term) const {
  XGRAD_CHECK(term < terms.size(), ValueError, "APoTCodeBook::field: term ", term,
              " out of range (", terms.size(), " terms)");
  for (std::size_t t = 0; t < terms.size(); ++t) check_term(terms[t], t, "APoTCodeBook::field");
  const int width = bits();
  XGRAD_CHECK(width <= 62, ValueError, "APoTCodeBook::field: code width ", width,
              " bits exceeds 62");
  XGRAD_CHECK(code >= 0 && code < (std::int64_t(1) << width), ValueError,
              "APoTCodeBook::field: code ", code, " outside [0, 2^", width, ")");
  int shift = 0;
  for (std::size_t t = terms.size(); t-- > term + 1;) shift += terms[t].bits;
  return static_cast<int>((code >> shift) & ((std::int64_t(1) << terms[term].bits) - 1));
}

int APoTCodeBook::exponent(std::int64_t code, std::size_t term) const {
  const int f = field(code, term);
  return f == 0 ? -1 : terms[term].exponents[static_cast<std::size_t>(f - 1)];
}

float APoTCodeBook::sum(std::int64_t code) const {
  float s = 0.0f;  // float32, term 0 first: PyTorch's accumulation order
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const int e = exponent(code, t);
    s += e < 0 ? 0.0f : power_of_two_f32(e);
  }
  return s;
}

void validate_apot_bits(int b, int k, const char* op) {
  XGRAD_CHECK(k >= 1, ValueError, op, ": k must be >= 1, got k=", k);
  XGRAD_CHECK(b >= 1, ValueError, op, ": b must be >= 1, got b=", b);
  XGRAD_CHECK(b % k == 0, ValueError, op, ": b must be a multiple of k, got b=", b, ", k=", k);
}

APoTCodeBook apot_codebook(int b, int k) {
  validate_apot_bits(b, k, "apot_codebook");
  check_count(pow_sat(2, b), b, k, LevelScheme::unsigned_levels, "apot_codebook");
  const int n = b / k;
  APoTCodeBook book;
  for (int i = 0; i < n; ++i) {
    APoTTerm term;
    term.bits = k;
    for (int j = 0; j <= (1 << k) - 2; ++j) term.exponents.push_back(i + j * n);
    book.terms.push_back(std::move(term));
  }
  return book;
}

APoTCodeBook apot_sign_magnitude_codebook(int b, int k) {
  XGRAD_CHECK(k >= 1, ValueError, "apot_sign_magnitude_codebook: k must be >= 1, got k=", k);
  XGRAD_CHECK(
      b >= 2, ValueError,
      "apot_sign_magnitude_codebook: b must be >= 2 (a sign bit plus a magnitude), got b=", b);
  const int B = b - 1;
  if (B % k == 0) return apot_codebook(B, k);
  XGRAD_CHECK(k == 2, ValueError, "apot_sign_magnitude_codebook: k=", k,
              " must divide the magnitude width b-1=", B,
              " (only k=2 has the paper's extra 1-bit term)");
  check_count(pow_sat(2, b), b, k, LevelScheme::sign_magnitude, "apot_sign_magnitude_codebook");
  // Odd magnitude width with 2-bit terms: (B-1)/2 two-bit terms plus a trailing
  // 1-bit term; exponents dealt in three rounds, the 1-bit term first in the last.
  const int n2 = (B - 1) / 2;
  APoTCodeBook book;
  book.terms.resize(static_cast<std::size_t>(n2) + 1);
  for (int t = 0; t < n2; ++t) book.terms[static_cast<std::size_t>(t)].bits = 2;
  APoTTerm& one_bit = book.terms.back();
  one_bit.bits = 1;
  int e = 0;
  for (int round = 0; round < 3; ++round) {
    if (round == 2) one_bit.exponents.push_back(e++);
    for (int t = 0; t < n2; ++t) book.terms[static_cast<std::size_t>(t)].exponents.push_back(e++);
  }
  return book;
}

std::size_t apot_level_count(int b, int k, LevelScheme scheme) {
  switch (scheme) {
    case LevelScheme::unsigned_levels:
      validate_apot_bits(b, k, "apot_level_count");
      return pow_sat(2, b);
    case LevelScheme::signed_per_term:
      validate_apot_bits(b, k, "apot_level_count");
      if (k >= 62) return std::numeric_limits<std::size_t>::max();
      return pow_sat((std::size_t(1) << (k + 1)) - 1, b / k);
    case LevelScheme::sign_magnitude: {
      XGRAD_CHECK(k >= 1, ValueError, "apot_level_count: k must be >= 1, got k=", k);
      XGRAD_CHECK(b >= 2, ValueError, "apot_level_count: sign_magnitude needs b >= 2, got b=", b);
      XGRAD_CHECK((b - 1) % k == 0 || k == 2, ValueError,
                  "apot_level_count: sign_magnitude needs k | b-1 or k = 2, got b=", b, ", k=", k);
      const std::size_t p = pow_sat(2, b);
      return p == std::numeric_limits<std::size_t>::max() ? p : p - 1;
    }
  }
  throw_error<ValueError>("apot_level_count: unknown scheme");
}

LevelSet apot_level_set(int b, int k, double alpha, LevelScheme scheme) {
  const char* op = "apot_level_set";
  XGRAD_CHECK(std::isfinite(alpha) && alpha >= 0, ValueError, op,
              ": alpha must be finite and >= 0, got ", alpha);
  check_count(apot_level_count(b, k, scheme), b, k, scheme, op);

  // (value, index) entries in index order; sorted stably below.
  std::vector<std::pair<float, std::int64_t>> entries;
  LevelSet set;
  set.name = format_message("apot_level_set(b=", b, ",k=", k, ",", to_string(scheme),
                            ",alpha=", alpha, ")");
  set.bits = b;
  set.is_signed = scheme != LevelScheme::unsigned_levels;
  if (scheme == LevelScheme::sign_magnitude) {
    const APoTCodeBook book = apot_sign_magnitude_codebook(b, k);
    set.scale = alpha / book.top_sum();  // gamma
    const float g = static_cast<float>(set.scale);
    const std::int64_t mags = std::int64_t(1) << book.bits();
    entries.emplace_back(0.0f, 0);
    for (std::int64_t m = 1; m < mags; ++m) entries.emplace_back(g * book.sum(m), m);
    for (std::int64_t m = 1; m < mags; ++m) entries.emplace_back(-(g * book.sum(m)), mags | m);
  } else {
    const APoTCodeBook book = apot_codebook(b, k);
    set.scale = alpha / book.top_sum();  // gamma
    const float g = static_cast<float>(set.scale);
    if (scheme == LevelScheme::unsigned_levels) {
      const std::int64_t count = std::int64_t(1) << b;
      for (std::int64_t c = 0; c < count; ++c) entries.emplace_back(g * book.sum(c), c);
    } else {
      // Each term: {0, +p_j, -p_j} in descending order; mixed-radix product order.
      std::vector<std::vector<float>> term_values;
      for (const auto& t : book.terms) {
        std::vector<float> v{0.0f};
        for (int e : t.exponents) {
          v.push_back(power_of_two_f32(e));
          v.push_back(-power_of_two_f32(e));
        }
        std::stable_sort(v.begin(), v.end(), [](float a, float c) { return a > c; });
        term_values.push_back(std::move(v));
      }
      const std::size_t m = term_values.front().size(), n = term_values.size();
      const std::size_t count = pow_sat(m, static_cast<int>(n));
      std::vector<std::size_t> pos(n, 0);
      for (std::size_t idx = 0; idx < count; ++idx) {
        float s = 0.0f;
        for (std::size_t t = 0; t < n; ++t) s += term_values[t][pos[t]];
        entries.emplace_back(g * s, static_cast<std::int64_t>(idx));
        for (std::size_t t = n; t-- > 0;) {  // increment, last term fastest
          if (++pos[t] < m) break;
          pos[t] = 0;
        }
      }
    }
  }
  // Levels are float32 values: an alpha beyond float32's range (possible from a
  // double observer) would give inf and NaN (inf * 0) levels.
  for (const auto& e : entries)
    XGRAD_CHECK(std::isfinite(e.first), ValueError, op, ": alpha=", alpha,
                " gives levels beyond the float32 range");
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& c) { return a.first < c.first; });
  set.levels.reserve(entries.size());
  set.codes.reserve(entries.size());
  for (const auto& e : entries) {
    set.levels.push_back(e.first);
    set.codes.push_back(e.second);
  }
  return set;
}

}  // namespace xgrad::quant
