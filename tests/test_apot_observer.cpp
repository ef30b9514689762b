// APoTObserver and the level sets behind it: PyTorch's upstream observer tests
// (test/quantization/core/experimental/test_nonuniform_observer.py), our
// validation, the code-word structure, and the paper's sign-magnitude sets.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <set>
#include <vector>

#include "test_util.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"

BOOST_AUTO_TEST_SUITE(test_apot_observer)

using namespace xgrad;
using namespace xgrad::quant;

namespace {

APoTQParams<float> qparams_01(int b, int k, bool signed_) {
  APoTObserver<float> obs(b, k);
  obs.set_min_val(tensor<float>({0.0f}));
  obs.set_max_val(tensor<float>({1.0f}));
  return obs.calculate_qparams(signed_);
}

std::set<std::int64_t> unique_of(const xt::xarray<std::int64_t>& a) {
  return std::set<std::int64_t>(a.begin(), a.end());
}

}  // namespace

// ---- upstream: test_calculate_qparams_invalids ----
BOOST_AUTO_TEST_CASE(invalid_b_and_k_raise_value_error) {
  BOOST_CHECK_THROW(APoTObserver<float>(0, 0), ValueError);
  BOOST_CHECK_THROW(APoTObserver<float>(0, 2), ValueError);
  BOOST_CHECK_THROW(APoTObserver<float>(4, 0), ValueError);
  BOOST_CHECK_THROW(APoTObserver<float>(-4, 2), ValueError);
  BOOST_CHECK_THROW(APoTObserver<float>(4, -2), ValueError);
  // b % k != 0: refused when the levels are computed (b=5, k=2 is valid for
  // the sign-magnitude scheme, whose magnitude has b-1 = 4 bits).
  APoTObserver<float> obs(5, 2);
  obs.set_min_val(0.0f);
  obs.set_max_val(1.0f);
  BOOST_CHECK_THROW(obs.calculate_qparams(false), ValueError);
  BOOST_CHECK_THROW(obs.calculate_qparams(true), ValueError);
  BOOST_CHECK_NO_THROW(obs.calculate_qparams(LevelScheme::sign_magnitude));
  try {
    obs.calculate_qparams(false);
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("b=5") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(oversized_level_counts_raise_value_error) {
  // 2^16 levels is the documented bound; one more bit is refused.
  BOOST_CHECK_NO_THROW(apot_level_set(16, 2, 1.0, LevelScheme::unsigned_levels));
  BOOST_CHECK_THROW(apot_level_set(18, 2, 1.0, LevelScheme::unsigned_levels), ValueError);
  BOOST_CHECK_THROW(apot_level_set(64, 1, 1.0, LevelScheme::unsigned_levels), ValueError);
  // PyTorch's signed sets grow as (2^(k+1) - 1)^n: 7^8 entries for b=16, k=2.
  BOOST_CHECK_THROW(apot_level_set(16, 2, 1.0, LevelScheme::signed_per_term), ValueError);
  APoTObserver<float> obs(20, 4);
  obs.set_min_val(0.0f);
  obs.set_max_val(1.0f);
  BOOST_CHECK_THROW(obs.calculate_qparams(false), ValueError);
  BOOST_TEST(apot_level_count(64, 1, LevelScheme::unsigned_levels) ==
             std::numeric_limits<std::size_t>::max());
}

BOOST_AUTO_TEST_CASE(calculate_before_observing_raises_state_error) {
  APoTObserver<float> obs(4, 2);
  BOOST_TEST(!obs.has_observed());
  BOOST_TEST(obs.min_val().numel() == 0u);
  BOOST_CHECK_THROW(obs.calculate_qparams(false), StateError);
  try {
    obs.calculate_qparams(false);
  } catch (const StateError& e) {
    BOOST_TEST(std::string(e.what()).find("nothing observed") != std::string::npos);
  }
  obs.set_min_val(0.0f);  // max still missing
  BOOST_CHECK_THROW(obs.calculate_qparams(false), StateError);
}

BOOST_AUTO_TEST_CASE(bad_min_max_raise_value_error) {
  APoTObserver<float> obs(4, 2);
  BOOST_CHECK_THROW(obs.set_min_val(std::nanf("")), ValueError);
  BOOST_CHECK_THROW(obs.set_min_val(tensor<float>({0.0f, 1.0f})), ValueError);
  obs.set_min_val(2.0f);
  obs.set_max_val(1.0f);
  BOOST_CHECK_THROW(obs.calculate_qparams(false), ValueError);
}

// ---- upstream: test_calculate_qparams_2terms ----
BOOST_AUTO_TEST_CASE(unsigned_b4_k2_two_terms) {
  auto [alpha, gamma, quantization_levels, level_indices] = qparams_01(4, 2, false);
  BOOST_TEST(alpha == 1.0f);  // max(-min_val, max_val)
  BOOST_TEST(gamma == 1.0f / (1.0f + 0.5f));
  BOOST_TEST(quantization_levels.numel() == 16u);
  BOOST_TEST(unique_of(level_indices).size() == 16u);
}

// ---- upstream: test_calculate_qparams_3terms ----
BOOST_AUTO_TEST_CASE(unsigned_b6_k2_three_terms) {
  auto [alpha, gamma, quantization_levels, level_indices] = qparams_01(6, 2, false);
  BOOST_TEST(alpha == 1.0f);
  BOOST_TEST(gamma == 1.0f / (1.0f + 0.5f + 0.25f));
  BOOST_TEST(quantization_levels.numel() == 64u);
  BOOST_TEST(unique_of(level_indices).size() == 64u);
}

// ---- upstream: test_calculate_qparams_signed ----
BOOST_AUTO_TEST_CASE(signed_b4_k2_per_term_signs) {
  auto [alpha, gamma, quantization_levels, level_indices] = qparams_01(4, 2, true);
  BOOST_TEST(alpha == 1.0f);
  BOOST_TEST(gamma == 1.0f / (1.0f + 0.5f));
  // (2^(k+1) - 1)^n = 7^2 entries, 39 distinct values.
  BOOST_TEST(quantization_levels.numel() == 49u);
  BOOST_TEST(unique_of(level_indices).size() == 49u);
  const xt::xarray<float>& lv = quantization_levels.data();
  BOOST_TEST(std::set<float>(lv.begin(), lv.end()).size() == 39u);
  // The negation of every level is a level.
  for (float v : lv) BOOST_TEST((std::find(lv.begin(), lv.end(), -v) != lv.end()), "level " << v);
  // Stable sort: equal levels ordered by index.
  for (std::size_t r = 1; r < lv.size(); ++r)
    if (lv(r) == lv(r - 1)) BOOST_TEST(level_indices(r) > level_indices(r - 1));
}

// ---- upstream: test_calculate_qparams_k1 ----
BOOST_AUTO_TEST_CASE(k1_b6_is_a_uniform_grid) {
  auto [alpha, gamma, quantization_levels, level_indices] = qparams_01(6, 1, false);
  double denom = 0;
  for (int i = 0; i < 6; ++i) denom += std::ldexp(1.0, -i);
  BOOST_TEST(gamma == static_cast<float>(1.0 / denom));
  BOOST_TEST(quantization_levels.numel() == 64u);
  BOOST_TEST(unique_of(level_indices).size() == 64u);
  // k = 1: level r is r * gamma * 2^-5 exactly, and its index is r.
  for (std::size_t r = 0; r < 64; ++r) {
    BOOST_TEST(level_indices(r) == static_cast<std::int64_t>(r));
    BOOST_TEST(quantization_levels.data()(r) ==
               gamma * static_cast<float>(std::ldexp(static_cast<double>(r), -5)));
  }
}

// ---- upstream: test_forward ----
BOOST_AUTO_TEST_CASE(forward_returns_input_and_tracks_alpha) {
  APoTObserver<float> obs(4, 2);
  const Tensor<float> x = tensor<float>({0.0f, -100.23f, -37.18f, 3.42f, 8.93f, 9.21f, 87.92f});
  const Tensor<float> y = obs.forward(x);
  BOOST_TEST(xgrad_test::equal_arrays(y.data(), x.data()));
  BOOST_TEST((y.storage() == x.storage()));  // the same tensor, untouched
  auto [alpha, gamma, quantization_levels, level_indices] = obs.calculate_qparams(true);
  BOOST_TEST(alpha == 100.23f);
  BOOST_TEST(obs.min_val().item() == -100.23f);
  BOOST_TEST(obs.max_val().item() == 87.92f);
}

BOOST_AUTO_TEST_CASE(forward_keeps_a_running_global_min_and_max) {
  APoTObserver<float> obs(4, 2);
  obs.forward(tensor<float>({1.0f, 2.0f}));
  obs.forward(tensor<float>({-0.5f, 1.5f}));
  obs.forward(tensor<float>({0.0f}));
  BOOST_TEST(obs.min_val().item() == -0.5f);
  BOOST_TEST(obs.max_val().item() == 2.0f);
  // Empty input changes nothing.
  obs.forward(Tensor<float>(xt::xarray<float>::from_shape({0})));
  BOOST_TEST(obs.min_val().item() == -0.5f);
  BOOST_TEST(obs.max_val().item() == 2.0f);
}

BOOST_AUTO_TEST_CASE(forward_ignores_non_finite_values) {
  APoTObserver<float> obs(4, 2);
  const float inf = std::numeric_limits<float>::infinity();
  obs.forward(tensor<float>({std::nanf(""), -inf, inf}));
  BOOST_TEST(!obs.has_observed());
  obs.forward(tensor<float>({std::nanf(""), 0.25f, inf, -0.75f}));
  BOOST_TEST(obs.min_val().item() == -0.75f);
  BOOST_TEST(obs.max_val().item() == 0.25f);
}

BOOST_AUTO_TEST_CASE(min_and_max_are_saved_buffers) {
  APoTObserver<float> obs(4, 2);
  obs.forward(tensor<float>({-1.0f, 3.0f}));
  const auto sd = obs.state_dict();
  BOOST_REQUIRE(sd.size() == 2u);
  BOOST_TEST(sd[0].first == "min_val");
  BOOST_TEST(sd[1].first == "max_val");
  APoTObserver<float> fresh(4, 2);
  fresh.load_state_dict(sd);  // shapes {0} -> {1}: the buffers are not fixed-shape
  BOOST_TEST(fresh.min_val().item() == -1.0f);
  BOOST_TEST(fresh.calculate_qparams(false).alpha == 3.0f);
}

// The index of an unsigned level is its b-bit code word: n fields of k bits,
// term 0 most significant, field j + 1 selecting 2^-(i + j n).
BOOST_AUTO_TEST_CASE(unsigned_index_is_the_apot_code_word) {
  const int b = 6, k = 2, n = 3;
  const LevelSet set = apot_level_set(b, k, 1.0, LevelScheme::unsigned_levels);
  const float g = static_cast<float>(set.scale);
  for (std::size_t r = 0; r < set.levels.size(); ++r) {
    const std::int64_t code = set.codes[r];
    float sum = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int f = static_cast<int>((code >> (k * (n - 1 - i))) & 3);
      if (f > 0) sum += static_cast<float>(std::ldexp(1.0, -(i + (f - 1) * n)));
    }
    BOOST_TEST(set.levels[r] == g * sum, "code " << code);
  }
  const APoTCodeBook book = apot_codebook(b, k);
  BOOST_TEST(book.bits() == 6);
  BOOST_TEST(book.terms.size() == 3u);
  BOOST_TEST(book.terms[1].exponents == (std::vector<int>{1, 4, 7}));
  BOOST_TEST(book.field(0b011001, 0) == 1);
  BOOST_TEST(book.exponent(0b011001, 1) == 4);  // field 2 of term 1: 2^-(1 + 1*3)
  BOOST_TEST(book.exponent(0b011001, 2) == 2);
  BOOST_TEST(book.exponent(0, 2) == -1);
  BOOST_CHECK_THROW(book.field(64, 0), ValueError);
  BOOST_CHECK_THROW(book.field(-1, 0), ValueError);
}

BOOST_AUTO_TEST_CASE(unsigned_sets_are_distinct_while_float32_exact) {
  // Exponent span (n-1) + (2^k - 2) n <= 24: every code gives a distinct level.
  for (auto [b, k] : std::vector<std::pair<int, int>>{{8, 2}, {16, 2}, {9, 3}, {12, 1}}) {
    const LevelSet set = apot_level_set(b, k, 1.0, LevelScheme::unsigned_levels);
    BOOST_TEST(std::set<float>(set.levels.begin(), set.levels.end()).size() == set.levels.size(),
               "b=" << b << " k=" << k);
    BOOST_TEST(set.levels.back() == 1.0f);
  }
  // Beyond it float32 sums collapse, as in PyTorch: b=8, k=4 has 247 distinct.
  const LevelSet set = apot_level_set(8, 4, 1.0, LevelScheme::unsigned_levels);
  BOOST_TEST(std::set<float>(set.levels.begin(), set.levels.end()).size() == 247u);
}

// ---- the paper's sign-magnitude sets (docs/apot-training.md, "Level sets") ----
BOOST_AUTO_TEST_CASE(sign_magnitude_normalized_levels_match_the_paper) {
  struct Case {
    int b;
    std::vector<double> magnitudes;  // normalized, ascending
  };
  std::vector<double> b6;
  for (int m : {0,  1,  2,  3,  4,  5,  6,  7,  8,  10, 12, 14, 16, 17, 20, 21,
                24, 28, 32, 34, 36, 38, 48, 52, 64, 65, 68, 69, 72, 76, 96, 100})
    b6.push_back(m / 100.0);
  const std::vector<Case> cases = {
      {3, {0, 0.25, 0.5, 1}},
      {4, {0, .1, .2, .3, .4, .6, .8, 1}},
      {5,
       {0, 1 / 48., 1 / 24., 1 / 16., 1 / 12., 1 / 8., 1 / 6., 3 / 16., 1 / 4., 1 / 3., 3 / 8.,
        1 / 2., 2 / 3., 11 / 16., 3 / 4., 1}},
      {6, b6},
  };
  for (const auto& c : cases) {
    const LevelSet set = apot_level_set(c.b, 2, 1.0, LevelScheme::sign_magnitude);
    // 2^b - 1 values symmetric around 0: -m_last .. -m_1, 0, m_1 .. m_last.
    const std::size_t M = c.magnitudes.size();
    BOOST_REQUIRE(set.levels.size() == 2 * M - 1);
    BOOST_TEST(set.levels.size() == (std::size_t(1) << c.b) - 1);
    for (std::size_t i = 0; i < M; ++i) {
      // float32 levels of normalized magnitudes: within one float32 rounding.
      BOOST_TEST(std::abs(set.levels[M - 1 + i] - c.magnitudes[i]) <= 1e-7,
                 "b=" << c.b << " i=" << i);
      BOOST_TEST(set.levels[M - 1 - i] == -set.levels[M - 1 + i]);
    }
  }
}

BOOST_AUTO_TEST_CASE(sign_magnitude_codes_are_sign_bit_plus_magnitude_word) {
  const int b = 5;  // magnitude = the unsigned b=4, k=2 set
  const LevelSet sm = apot_level_set(b, 2, 1.0, LevelScheme::sign_magnitude);
  const LevelSet mag = apot_level_set(b - 1, 2, 1.0, LevelScheme::unsigned_levels);
  for (std::size_t r = 0; r < sm.levels.size(); ++r) {
    const std::int64_t code = sm.codes[r];
    const std::int64_t m = code & 15;
    const bool negative = (code >> 4) & 1;
    BOOST_TEST(!(negative && m == 0));  // no "-0" level
    const auto it = std::find(mag.codes.begin(), mag.codes.end(), m);
    const float v = mag.levels[static_cast<std::size_t>(it - mag.codes.begin())];
    BOOST_TEST(sm.levels[r] == (negative ? -v : v), "code " << code);
  }
  // Odd magnitude width: B = 3 is a 2-bit term plus the trailing 1-bit term.
  const APoTCodeBook book = apot_sign_magnitude_codebook(4, 2);
  BOOST_REQUIRE(book.terms.size() == 2u);
  BOOST_TEST(book.terms[0].exponents == (std::vector<int>{0, 1, 3}));
  BOOST_TEST(book.terms[1].exponents == (std::vector<int>{2}));
  BOOST_TEST(book.bits() == 3);
}

BOOST_AUTO_TEST_CASE(sign_magnitude_edge_cases) {
  // b = 2 (magnitude width 1): the ternary set {-alpha, 0, alpha}.
  const LevelSet t = apot_level_set(2, 2, 3.0, LevelScheme::sign_magnitude);
  BOOST_TEST(t.values<float>() == (std::vector<float>{-3.0f, 0.0f, 3.0f}));
  BOOST_CHECK_THROW(apot_level_set(1, 1, 1.0, LevelScheme::sign_magnitude), ValueError);
  BOOST_CHECK_THROW(apot_level_set(5, 3, 1.0, LevelScheme::sign_magnitude), ValueError);
  BOOST_CHECK_THROW(apot_level_set(5, 0, 1.0, LevelScheme::sign_magnitude), ValueError);
  // Observers offer the scheme by name.
  APoTObserver<float> obs(4, 2);
  obs.set_min_val(-2.0f);
  obs.set_max_val(1.0f);
  auto [alpha, gamma, levels, indices] = obs.calculate_qparams(LevelScheme::sign_magnitude);
  BOOST_TEST(alpha == 2.0f);
  BOOST_TEST(levels.numel() == 15u);
  BOOST_TEST(levels.data()(0) == -2.0f);
  BOOST_TEST(levels.data()(14) == 2.0f);
  BOOST_TEST(gamma == 2.0f / 1.25f);
}

BOOST_AUTO_TEST_CASE(bad_alpha_raises_value_error) {
  BOOST_CHECK_THROW(apot_level_set(4, 2, -1.0, LevelScheme::unsigned_levels), ValueError);
  BOOST_CHECK_THROW(apot_level_set(4, 2, std::nan(""), LevelScheme::unsigned_levels), ValueError);
  BOOST_CHECK_THROW(apot_level_set(4, 2, INFINITY, LevelScheme::unsigned_levels), ValueError);
  // alpha = 0 (all observed values 0) is allowed: every level is 0.
  const LevelSet z = apot_level_set(4, 2, 0.0, LevelScheme::unsigned_levels);
  BOOST_TEST(z.levels.back() == 0.0f);
}

BOOST_AUTO_TEST_CASE(double_observer_uses_the_same_float32_levels) {
  APoTObserver<double> od(6, 2);
  APoTObserver<float> of(6, 2);
  od.forward(tensor<double>({-0.3, 2.7}));
  of.forward(tensor<float>({-0.3f, 2.7f}));
  const auto qd = od.calculate_qparams(false);
  const auto qf = of.calculate_qparams(false);
  BOOST_TEST(qd.alpha == 2.7);
  // Both hold float32 levels; the double observer scales them by its double
  // alpha: one rounding apart, below 1e-6 of alpha.
  for (std::size_t i = 0; i < 64; ++i)
    BOOST_TEST(std::abs(qd.quantization_levels.data()(i) - qf.quantization_levels.data()(i)) <=
               1e-6 * 2.7);
  BOOST_TEST(qd.level_indices == qf.level_indices);
}

// Levels are float32 values: a double observer that saw values beyond
// float32's range cannot make them (inf and inf * 0 = NaN levels otherwise).
BOOST_AUTO_TEST_CASE(alpha_beyond_float32_range_raises_value_error) {
  APoTObserver<double> od(4, 2);
  od.forward(tensor<double>({0.0, 1e300}));
  BOOST_CHECK_THROW(od.calculate_qparams(false), ValueError);
  BOOST_CHECK_THROW(od.calculate_qparams(true), ValueError);
  BOOST_TEST(xgrad_test::contains(xgrad_test::message_of([&] { od.calculate_qparams(false); }),
                                  "alpha=1e+300"));
  // The largest float is still fine: its top level is alpha itself.
  APoTObserver<float> of(4, 2);
  of.forward(tensor<float>({0.0f, std::numeric_limits<float>::max()}));
  const auto q = of.calculate_qparams(true);
  BOOST_TEST(q.quantization_levels.data()(48) == std::numeric_limits<float>::max());
}

BOOST_AUTO_TEST_CASE(undefined_input_raises_value_error) {
  APoTObserver<float> obs(4, 2);
  BOOST_CHECK_THROW(obs.forward(Tensor<float>()), ValueError);
  BOOST_TEST(!obs.has_observed());
}

// APoTCodeBook is a plain struct: a hand-built one of the wrong shape is
// refused instead of shifting or indexing out of range.
BOOST_AUTO_TEST_CASE(malformed_code_books_raise_value_error) {
  APoTCodeBook short_exponents;
  short_exponents.terms.push_back(APoTTerm{2, {0, 1}});  // 2 bits need 3 exponents
  BOOST_CHECK_THROW(short_exponents.exponent(3, 0), ValueError);
  BOOST_CHECK_THROW(short_exponents.top_sum(), ValueError);
  APoTCodeBook no_exponents;
  no_exponents.terms.push_back(APoTTerm{1, {}});
  BOOST_CHECK_THROW(no_exponents.top_sum(), ValueError);
  APoTCodeBook too_wide;
  for (int i = 0; i < 3; ++i)  // 3 x 21 = 63 bits
    too_wide.terms.push_back(APoTTerm{21, std::vector<int>((1 << 21) - 1, 0)});
  BOOST_CHECK_THROW(too_wide.field(0, 0), ValueError);
  APoTCodeBook zero_bits;
  zero_bits.terms.push_back(APoTTerm{0, {}});
  BOOST_CHECK_THROW(zero_bits.sum(0), ValueError);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  r.push_back({"apot_level_set: k = 0",
               raises<ValueError>("apot_level_count", {"k must be >= 1", "got k=0"}),
               [] { apot_level_set(4, 0, 1.0, LevelScheme::unsigned_levels); }});
  r.push_back({"apot_level_set: b not a multiple of k",
               raises<ValueError>("apot_level_count", {"multiple of k", "got b=5, k=2"}),
               [] { apot_level_set(5, 2, 1.0, LevelScheme::unsigned_levels); }});
  r.push_back({"apot_level_set: NaN alpha",
               raises<ValueError>("apot_level_set", {"alpha", "got nan"}),
               [] { apot_level_set(4, 2, kNaN, LevelScheme::unsigned_levels); }});
  r.push_back({"apot_level_set: negative alpha",
               raises<ValueError>("apot_level_set", {"alpha", "got -1"}),
               [] { apot_level_set(4, 2, -1.0, LevelScheme::unsigned_levels); }});
  r.push_back({"apot_level_set: too many levels",
               raises<ValueError>("apot_level_set", {"b=40, k=2", "1099511627776 levels"}),
               [] { apot_level_set(40, 2, 1.0, LevelScheme::unsigned_levels); }});
  r.push_back({"apot_level_set: sign_magnitude b = 1",
               raises<ValueError>("apot_level_count", {"b >= 2", "got b=1"}),
               [] { apot_level_set(1, 1, 1.0, LevelScheme::sign_magnitude); }});
  r.push_back({"apot_codebook: b = 0",
               raises<ValueError>("apot_codebook", {"b must be >= 1", "got b=0"}),
               [] { apot_codebook(0, 1); }});
  r.push_back({"apot_sign_magnitude_codebook: k = 3 not dividing",
               raises<ValueError>("apot_sign_magnitude_codebook", {"k=3", "b-1=4"}),
               [] { apot_sign_magnitude_codebook(5, 3); }});
  r.push_back({"APoTCodeBook::field: code out of range",
               raises<ValueError>("APoTCodeBook::field", {"code 1024"}),
               [] { apot_codebook(4, 2).field(1 << 10, 0); }});
  r.push_back({"APoTObserver: k = 0",
               raises<ValueError>("APoTObserver", {"k must be >= 1", "got k=0"}),
               [] { APoTObserver<double>(4, 0); }});
  r.push_back({"APoTObserver: b = 0",
               raises<ValueError>("APoTObserver", {"b must be >= 1", "got b=0"}),
               [] { APoTObserver<double>(0, 1); }});
  auto obs = std::make_shared<APoTObserver<double>>(4, 2);
  r.push_back({"APoTObserver: qparams before observing",
               raises<StateError>("APoTObserver::calculate_qparams", {"nothing observed"}),
               [obs] { obs->calculate_qparams(false); },
               {},
               {obs}});
  r.push_back(forward_of_undefined(obs, "APoTObserver::forward", "x"));
  r.push_back({"APoTObserver: set_min_val NaN",
               raises<ValueError>("APoTObserver::set_min_val", {"min_val is NaN"}),
               [obs] { obs->set_min_val(kNaN); },
               {},
               {obs}});
  r.push_back({"APoTObserver: set_max_val of two elements",
               raises<ValueError>("APoTObserver::set_max_val", {"max_val", "got shape [2]"}),
               [obs] { obs->set_max_val(zeros<double>({2})); },
               {},
               {obs}});
  auto seen = std::make_shared<APoTObserver<double>>(5, 2);
  seen->forward(tensor<double>({-1.0, 2.0}));
  r.push_back({"APoTObserver: b not a multiple of k",
               raises<ValueError>("apot_level_count", {"multiple of k", "got b=5, k=2"}),
               [seen] { seen->calculate_qparams(false); },
               {},
               {seen}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_apot_observer
