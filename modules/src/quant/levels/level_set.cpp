#include "xgrad/quant/levels/level_set.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "xgrad/errors.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"

namespace xgrad::quant {

namespace {

// Exponents beyond this would make 2^E inexact in a double.
constexpr int kMaxExponent = 52;

// One level of a normalized set before its division: numerator / denominator.
struct Exact {
  std::int64_t numerator;
  std::int64_t code;
};

std::string with_bits(const char* what, int b) {
  return std::string(what) + "(b=" + std::to_string(b) + ")";
}

void require_bits(int b, int lowest, int highest, const char* op) {
  XGRAD_CHECK(b >= lowest && b <= highest, ValueError, op, ": b must be in [", lowest, ", ",
              highest, "], got b=", b);
}

// Every code of `book` with its magnitude as an integer over 2^E (E = the
// largest exponent), ascending, distinct magnitudes only (the lowest code of
// equal ones); *den = the top sum over 2^E, *E_out = E.
std::vector<Exact> magnitudes(const APoTCodeBook& book, const char* op, std::int64_t* den,
                              int* E_out) {
  int E = 0;
  for (const auto& t : book.terms)
    for (int e : t.exponents) E = std::max(E, e);
  XGRAD_CHECK(E <= kMaxExponent, ValueError, op, ": the levels span 2^-", E, ", beyond the 2^-",
              kMaxExponent, " an exact set supports");
  std::int64_t top = 0;
  for (const auto& t : book.terms)
    top += std::int64_t(1) << (E - *std::min_element(t.exponents.begin(), t.exponents.end()));
  std::vector<Exact> out;
  const std::int64_t codes = std::int64_t(1) << book.bits();
  for (std::int64_t c = 0; c < codes; ++c) {
    std::int64_t s = 0;
    for (std::size_t t = 0; t < book.terms.size(); ++t) {
      const int e = book.exponent(c, t);
      if (e >= 0) s += std::int64_t(1) << (E - e);
    }
    out.push_back({s, c});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Exact& a, const Exact& b) { return a.numerator < b.numerator; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Exact& a, const Exact& b) { return a.numerator == b.numerator; }),
            out.end());
  *den = top;
  *E_out = E;
  return out;
}

// {-m_last .. -m_1, 0, m_1 .. m_last} from ascending magnitudes starting at
// 0; a negative level's code is its magnitude's with the sign bit set.
std::vector<Exact> mirrored(const std::vector<Exact>& mags, std::int64_t sign_bit) {
  std::vector<Exact> out;
  for (std::size_t i = mags.size(); i-- > 1;)
    out.push_back({-mags[i].numerator, sign_bit | mags[i].code});
  out.insert(out.end(), mags.begin(), mags.end());
  return out;
}

// The set of exact levels numerator / den, each rounded once to double.
LevelSet exact_set(std::string name, int bits, bool is_signed, const std::vector<Exact>& exact,
                   std::int64_t den, double scale) {
  LevelSet s;
  s.name = std::move(name);
  s.bits = bits;
  s.is_signed = is_signed;
  s.scale = scale;
  for (const Exact& e : exact) {
    s.levels.push_back(static_cast<double>(e.numerator) / static_cast<double>(den));
    s.codes.push_back(e.code);
  }
  return s;
}

// The code book from apot_codebook.hpp, its errors renamed after `op`.
template <class F>
APoTCodeBook book_for(const char* op, F make) {
  try {
    return make();
  } catch (const ValueError& e) {
    throw_error<ValueError>(op, ": ", e.what());
  }
}

// A bit order that keeps -0 and +0 apart, -0 first.
template <class T>
bool before(T a, T b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}

}  // namespace

std::int64_t LevelSet::top_code() const {
  return is_signed ? (std::int64_t(1) << (bits - 1)) - 1 : (std::int64_t(1) << bits) - 1;
}

template <class T>
std::vector<T> LevelSet::values() const {
  std::vector<T> v(levels.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(levels[i]);
  return v;
}

LevelSet apot_unsigned_levels(int b, int k) {
  const char* op = "apot_unsigned_levels";
  // Odd b with k = 2: the magnitude book of a (b+1)-bit sign-magnitude set,
  // i.e. the authors' extra 1-bit term (their 3-bit activations).
  const bool odd_with_pairs = k == 2 && b >= 1 && b % 2 == 1;
  const APoTCodeBook book = book_for(op, [&] {
    return odd_with_pairs ? apot_sign_magnitude_codebook(b + 1, k) : apot_codebook(b, k);
  });
  std::int64_t den = 1;
  int E = 0;
  const std::vector<Exact> mags = magnitudes(book, op, &den, &E);
  return exact_set("apot_unsigned(b=" + std::to_string(b) + ",k=" + std::to_string(k) + ")", b,
                   false, mags, den, std::ldexp(1.0, E) / double(den));
}

LevelSet apot_sign_magnitude_levels(int b, int k) {
  const char* op = "apot_sign_magnitude_levels";
  const APoTCodeBook book = book_for(op, [&] { return apot_sign_magnitude_codebook(b, k); });
  std::int64_t den = 1;
  int E = 0;
  const std::vector<Exact> mags = magnitudes(book, op, &den, &E);
  return exact_set("apot_sign_magnitude(b=" + std::to_string(b) + ",k=" + std::to_string(k) + ")",
                   b, true, mirrored(mags, std::int64_t(1) << book.bits()), den,
                   std::ldexp(1.0, E) / double(den));
}

LevelSet uniform_levels(int b, bool is_signed) {
  const char* op = "uniform_levels";
  require_bits(b, is_signed ? 2 : 1, 16, op);
  const std::int64_t top =
      is_signed ? (std::int64_t(1) << (b - 1)) - 1 : (std::int64_t(1) << b) - 1;
  std::vector<Exact> grid;
  for (std::int64_t j = is_signed ? -top : 0; j <= top; ++j) grid.push_back({j, j});
  return exact_set(with_bits(is_signed ? "uniform_signed" : "uniform_unsigned", b), b, is_signed,
                   grid, top, 1.0 / double(top));
}

LevelSet power_of_two_levels(int b, bool is_signed) {
  const char* op = "power_of_two_levels";
  // 2^B - 2 octaves for B magnitude bits: B <= 5 keeps them within 2^-52.
  require_bits(b, is_signed ? 2 : 1, is_signed ? 6 : 5, op);
  const int B = is_signed ? b - 1 : b;
  const int E = (1 << B) - 2;
  // Field value j + 1 selects 2^-j (apot_codebook(B, B): one term).
  std::vector<Exact> mags{{0, 0}};
  for (int j = E; j >= 0; --j) mags.push_back({std::int64_t(1) << (E - j), j + 1});
  return exact_set(with_bits(is_signed ? "power_of_two_signed" : "power_of_two_unsigned", b), b,
                   is_signed, is_signed ? mirrored(mags, std::int64_t(1) << B) : mags,
                   std::int64_t(1) << E, 1.0);
}

template <class T>
LevelSet distinct_levels(const T* values, std::size_t n, const char* op) {
  XGRAD_CHECK(n != 0, ValueError, op, ": no values to make a level set of");
  std::vector<T> v(values, values + n);
  XGRAD_CHECK(std::none_of(v.begin(), v.end(), [](T x) { return std::isnan(x); }), ValueError, op,
              ": the values hold NaN");
  std::sort(v.begin(), v.end(), before<T>);
  v.erase(std::unique(v.begin(), v.end(),
                      [](T a, T b) { return a == b && std::signbit(a) == std::signbit(b); }),
          v.end());
  LevelSet s;
  s.name = "distinct(" + std::to_string(v.size()) + ")";
  while ((std::size_t(1) << s.bits) < v.size()) ++s.bits;
  s.is_signed = v.front() < T(0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    s.levels.push_back(static_cast<double>(v[i]));  // exact for float and double
    s.codes.push_back(static_cast<std::int64_t>(i));
  }
  return s;
}

template std::vector<float> LevelSet::values<float>() const;
template std::vector<double> LevelSet::values<double>() const;
template LevelSet distinct_levels(const float*, std::size_t, const char*);
template LevelSet distinct_levels(const double*, std::size_t, const char*);

}  // namespace xgrad::quant
