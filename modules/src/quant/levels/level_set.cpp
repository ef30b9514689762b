#include "xgrad/quant/levels/level_set.hpp"

#include <algorithm>
#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"

namespace xgrad::quant {

namespace {

// Exponents beyond this would make 2^E inexact in a double.
constexpr int kMaxExponent = 52;

std::string with_bits(const char* what, int b) {
  return std::string(what) + "(b=" + std::to_string(b) + ")";
}

void require_bits(int b, int lowest, int highest, const char* op) {
  if (b < lowest || b > highest)
    throw ValueError(std::string(op) + ": b must be in [" + std::to_string(lowest) + ", " +
                     std::to_string(highest) + "], got b=" + std::to_string(b));
}

// Magnitudes of every code of `book` as integers over 2^E (E = the largest
// exponent), normalized by the top sum: returns the sorted distinct
// numerators and sets *den.
std::vector<std::int64_t> magnitudes(const APoTCodeBook& book, const char* op, std::int64_t* den) {
  int E = 0;
  for (const auto& t : book.terms)
    for (int e : t.exponents) E = std::max(E, e);
  if (E > kMaxExponent)
    throw ValueError(std::string(op) + ": the levels span 2^-" + std::to_string(E) +
                     ", beyond the 2^-" + std::to_string(kMaxExponent) + " an exact set supports");
  std::int64_t top = 0;
  for (const auto& t : book.terms)
    top += std::int64_t(1) << (E - *std::min_element(t.exponents.begin(), t.exponents.end()));
  std::vector<std::int64_t> out;
  const std::int64_t codes = std::int64_t(1) << book.bits();
  for (std::int64_t c = 0; c < codes; ++c) {
    std::int64_t s = 0;
    for (std::size_t t = 0; t < book.terms.size(); ++t) {
      const int e = book.exponent(c, t);
      if (e >= 0) s += std::int64_t(1) << (E - e);
    }
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  *den = top;
  return out;
}

// {-m_last .. -m_1, 0, m_1 .. m_last} from ascending magnitudes starting at 0.
std::vector<std::int64_t> mirrored(const std::vector<std::int64_t>& mags) {
  std::vector<std::int64_t> out;
  for (std::size_t i = mags.size(); i-- > 1;) out.push_back(-mags[i]);
  out.insert(out.end(), mags.begin(), mags.end());
  return out;
}

}  // namespace

std::int64_t LevelSet::top_code() const {
  return is_signed ? (std::int64_t(1) << (bits - 1)) - 1 : (std::int64_t(1) << bits) - 1;
}

template <class T>
std::vector<T> LevelSet::values() const {
  std::vector<T> v(numerators.size());
  const T den = static_cast<T>(denominator);
  const bool den_exact = static_cast<std::int64_t>(den) == denominator;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const T num = static_cast<T>(numerators[i]);
    // Integers exact in T divide with one rounding; others go through double.
    v[i] =
        den_exact && static_cast<std::int64_t>(num) == numerators[i]
            ? num / den
            : static_cast<T>(static_cast<double>(numerators[i]) / static_cast<double>(denominator));
  }
  return v;
}

namespace {

// The code book from apot_codebook.hpp, its errors renamed after `op`.
template <class F>
APoTCodeBook book_for(const char* op, F make) {
  try {
    return make();
  } catch (const ValueError& e) {
    throw ValueError(std::string(op) + ": " + e.what());
  }
}

}  // namespace

LevelSet apot_unsigned_levels(int b, int k) {
  const char* op = "apot_unsigned_levels";
  LevelSet s;
  s.name = "apot_unsigned(b=" + std::to_string(b) + ",k=" + std::to_string(k) + ")";
  s.bits = b;
  // Odd b with k = 2: the magnitude book of a (b+1)-bit sign-magnitude set,
  // i.e. the authors' extra 1-bit term (their 3-bit activations).
  const bool odd_with_pairs = k == 2 && b >= 1 && b % 2 == 1;
  const APoTCodeBook book = book_for(op, [&] {
    return odd_with_pairs ? apot_sign_magnitude_codebook(b + 1, k) : apot_codebook(b, k);
  });
  s.numerators = magnitudes(book, op, &s.denominator);
  return s;
}

LevelSet apot_sign_magnitude_levels(int b, int k) {
  const char* op = "apot_sign_magnitude_levels";
  LevelSet s;
  s.name = "apot_sign_magnitude(b=" + std::to_string(b) + ",k=" + std::to_string(k) + ")";
  s.bits = b;
  s.is_signed = true;
  const APoTCodeBook book = book_for(op, [&] { return apot_sign_magnitude_codebook(b, k); });
  s.numerators = mirrored(magnitudes(book, op, &s.denominator));
  return s;
}

LevelSet uniform_levels(int b, bool is_signed) {
  const char* op = "uniform_levels";
  require_bits(b, is_signed ? 2 : 1, 16, op);
  LevelSet s;
  s.name = with_bits(is_signed ? "uniform_signed" : "uniform_unsigned", b);
  s.bits = b;
  s.is_signed = is_signed;
  s.denominator = s.top_code();
  for (std::int64_t j = is_signed ? -s.denominator : 0; j <= s.denominator; ++j)
    s.numerators.push_back(j);
  return s;
}

LevelSet power_of_two_levels(int b, bool is_signed) {
  const char* op = "power_of_two_levels";
  // 2^B - 2 octaves for B magnitude bits: B <= 5 keeps them within 2^-52.
  require_bits(b, is_signed ? 2 : 1, is_signed ? 6 : 5, op);
  const int B = is_signed ? b - 1 : b;
  const int E = (1 << B) - 2;
  std::vector<std::int64_t> mags{0};
  for (int j = E; j >= 0; --j) mags.push_back(std::int64_t(1) << (E - j));
  LevelSet s;
  s.name = with_bits(is_signed ? "power_of_two_signed" : "power_of_two_unsigned", b);
  s.bits = b;
  s.is_signed = is_signed;
  s.denominator = std::int64_t(1) << E;
  s.numerators = is_signed ? mirrored(mags) : mags;
  return s;
}

template std::vector<float> LevelSet::values<float>() const;
template std::vector<double> LevelSet::values<double>() const;

}  // namespace xgrad::quant
