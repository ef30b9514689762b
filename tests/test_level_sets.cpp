// LevelSet, the one level-set model: every named normalized set of
// docs/apot-training.md ("Level sets") pinned as exact fractions (each rounded
// once), their codes, and the table of distinct values a converted layer
// stores.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/levels/level_set.hpp"

BOOST_AUTO_TEST_SUITE(test_level_sets)

using namespace xgrad;
using namespace xgrad::quant;

namespace {

using Fraction = std::pair<std::int64_t, std::int64_t>;  // numerator, denominator

// The set equals `expected` (ascending): each level is its fraction rounded
// once to double (distinct fractions this small never round alike).
boost::test_tools::predicate_result same_fractions(const LevelSet& s,
                                                   const std::vector<Fraction>& expected) {
  if (s.size() != expected.size()) {
    boost::test_tools::predicate_result r(false);
    r.message() << s.name << ": " << s.size() << " levels, expected " << expected.size();
    return r;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto [p, q] = expected[i];
    if (s.levels[i] != double(p) / double(q)) {
      boost::test_tools::predicate_result r(false);
      r.message() << s.name << ": level " << i << " is " << s.levels[i] << ", expected " << p << "/"
                  << q;
      return r;
    }
  }
  return true;
}

// {-m_last/q .. 0 .. m_last/q} from magnitudes m (ascending, starting at 0).
std::vector<Fraction> symmetric(const std::vector<std::int64_t>& m, std::int64_t q) {
  std::vector<Fraction> out;
  for (std::size_t i = m.size(); i-- > 1;) out.emplace_back(-m[i], q);
  for (auto v : m) out.emplace_back(v, q);
  return out;
}

std::vector<Fraction> over(const std::vector<std::int64_t>& m, std::int64_t q) {
  std::vector<Fraction> out;
  for (auto v : m) out.emplace_back(v, q);
  return out;
}

// The B = 4 magnitudes of the APoT paper: {0, 1/48, 1/24, 1/16, 1/12, 1/8, 1/6, 3/16,
// 1/4, 1/3, 3/8, 1/2, 2/3, 11/16, 3/4, 1}, over 48.
const std::vector<std::int64_t> kB4 = {0, 1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 33, 36, 48};
const std::vector<std::int64_t> kB3 = {0, 1, 2, 3, 4, 6, 8, 10};  // over 10
const std::vector<std::int64_t> kB5 = {0,  1,  2,  3,  4,  5,  6,  7,  8,  10, 12,
                                       14, 16, 17, 20, 21, 24, 28, 32, 34, 36, 38,
                                       48, 52, 64, 65, 68, 69, 72, 76, 96, 100};  // over 100

}  // namespace

BOOST_AUTO_TEST_CASE(paper_sign_magnitude_weight_sets) {
  struct Case {
    int b;
    std::vector<Fraction> expected;
  };
  const std::vector<Case> cases = {
      {2, {{-1, 1}, {0, 1}, {1, 1}}},   // B = 1: ternary fallback
      {3, symmetric({0, 1, 2, 4}, 4)},  // B = 2: {0, 1/4, 1/2, 1}
      {4, symmetric(kB3, 10)},          // B = 3: appended 1-bit term
      {5, symmetric(kB4, 48)},          // B = 4: two 2-bit terms
      {6, symmetric(kB5, 100)},         // B = 5: two 2-bit + one 1-bit
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("b=" << c.b) {
      const LevelSet s = apot_sign_magnitude_levels(c.b, 2);
      BOOST_TEST(same_fractions(s, c.expected));
      BOOST_TEST(s.is_signed);
      BOOST_TEST(s.size() == (std::size_t(1) << c.b) - 1);
      BOOST_TEST(s.bits == c.b);
    }
  }
}

BOOST_AUTO_TEST_CASE(unsigned_apot_sets) {
  struct Case {
    int b, k;
    std::vector<Fraction> expected;
  };
  const std::vector<Case> cases = {
      {2, 2, over({0, 1, 2, 4}, 4)},  // the experiment's 2-bit activations
      {3, 2, over(kB3, 10)},          // odd b, k = 2: the authors' 1-bit term
      {4, 2, over(kB4, 48)},          // the observer's b=4, k=2 set
      {5, 2, over(kB5, 100)},
      // k = 1: a uniform grid, sums of 2^-i for i < b, top 2 - 2^-(b-1).
      {3, 1, over({0, 1, 2, 3, 4, 5, 6, 7}, 7)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("b=" << c.b << " k=" << c.k) {
      const LevelSet s = apot_unsigned_levels(c.b, c.k);
      BOOST_TEST(same_fractions(s, c.expected));
      BOOST_TEST(!s.is_signed);
    }
  }
}

BOOST_AUTO_TEST_CASE(unsigned_apot_sets_have_two_to_the_b_levels_from_0_to_1) {
  for (auto [b, k] : std::vector<std::pair<int, int>>{{6, 2}, {6, 3}, {8, 2}, {8, 4}, {12, 3}}) {
    BOOST_TEST_CONTEXT("b=" << b << " k=" << k) {
      const LevelSet s = apot_unsigned_levels(b, k);
      BOOST_TEST(s.size() == (std::size_t(1) << b));
      BOOST_TEST(s.levels.front() == 0.0);
      BOOST_TEST(s.levels.back() == 1.0);
      for (std::size_t i = 1; i < s.size(); ++i) BOOST_TEST(s.levels[i - 1] < s.levels[i]);
    }
  }
}

BOOST_AUTO_TEST_CASE(uniform_grids) {
  BOOST_TEST(same_fractions(uniform_levels(2, false), over({0, 1, 2, 3}, 3)));
  BOOST_TEST(same_fractions(uniform_levels(3, true), symmetric({0, 1, 2, 3}, 3)));
  BOOST_TEST(uniform_levels(4, false).top_code() == 15);
  BOOST_TEST(uniform_levels(4, true).top_code() == 7);
  BOOST_TEST(uniform_levels(8, false).size() == 256u);
  BOOST_TEST(uniform_levels(8, true).size() == 255u);
}

BOOST_AUTO_TEST_CASE(plain_powers_of_two) {
  BOOST_TEST(same_fractions(power_of_two_levels(2, false), over({0, 1, 2, 4}, 4)));
  BOOST_TEST(same_fractions(power_of_two_levels(3, false), over({0, 1, 2, 4, 8, 16, 32, 64}, 64)));
  BOOST_TEST(same_fractions(power_of_two_levels(3, true), symmetric({0, 1, 2, 4}, 4)));
  // The paper's B = 2 weight magnitudes are plain powers of two.
  BOOST_TEST(apot_sign_magnitude_levels(3, 2).levels == power_of_two_levels(3, true).levels,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(values_round_each_fraction_once) {
  const LevelSet s = apot_sign_magnitude_levels(4, 2);
  const std::vector<Fraction> exact = symmetric(kB3, 10);
  const std::vector<float> f = s.values<float>();
  const std::vector<double> d = s.values<double>();
  BOOST_TEST_REQUIRE(f.size() == exact.size());
  for (std::size_t i = 0; i < exact.size(); ++i) {
    BOOST_TEST(f[i] == float(exact[i].first) / float(exact[i].second));
    BOOST_TEST(d[i] == double(exact[i].first) / double(exact[i].second));
  }
  BOOST_TEST(f.front() == -1.0f);
  BOOST_TEST(f.back() == 1.0f);
  BOOST_TEST(d[8] == 0.1);  // 1/10 rounded once
}

// The exact unsigned APoT set is PyTorch's observer set (apot_level_set) up
// to float32 rounding, code word for code word.
BOOST_AUTO_TEST_CASE(codes_are_the_code_words) {
  const LevelSet exact = apot_unsigned_levels(4, 2);
  const LevelSet pytorch = apot_level_set(4, 2, 1.0, LevelScheme::unsigned_levels);
  BOOST_TEST(exact.codes == pytorch.codes, boost::test_tools::per_element());
  for (std::size_t i = 0; i < exact.size(); ++i)
    BOOST_TEST(float(exact.levels[i]) == float(pytorch.levels[i]), "level " << i);
  BOOST_TEST(exact.scale == 1.0 / 1.5);  // 1 / top sum (2^0 + 2^-1)
  // Sign-magnitude: sign bit (bit b-1) | magnitude code word; -m before m.
  const LevelSet sm = apot_sign_magnitude_levels(3, 2);  // magnitudes {0, 1/4, 1/2, 1}
  BOOST_TEST(sm.codes == (std::vector<std::int64_t>{4 | 1, 4 | 2, 4 | 3, 0, 3, 2, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(uniform_levels(2, true).codes == (std::vector<std::int64_t>{-1, 0, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(power_of_two_levels(2, false).codes == (std::vector<std::int64_t>{0, 3, 2, 1}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(distinct_levels_keep_each_value_once_and_code_it_by_rank) {
  const std::vector<float> w = {0.5f, -0.0f, 0.5f, -1.0f, 0.0f, 0.5f};
  const LevelSet s = distinct_levels(w.data(), w.size(), "test");
  BOOST_TEST(s.values<float>() == (std::vector<float>{-1.0f, -0.0f, 0.0f, 0.5f}),
             boost::test_tools::per_element());
  BOOST_TEST(std::signbit(s.levels[1]));
  BOOST_TEST(!std::signbit(s.levels[2]));
  BOOST_TEST(s.codes == (std::vector<std::int64_t>{0, 1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(s.bits == 2);
  BOOST_TEST(s.is_signed);
  const std::vector<double> bad = {1.0, std::nan("")};
  BOOST_CHECK_EXCEPTION(distinct_levels(bad.data(), bad.size(), "op"), ValueError,
                        xgrad_test::mentions<ValueError>("op: the values hold NaN"));
}

BOOST_AUTO_TEST_CASE(names_say_what_the_set_is) {
  BOOST_TEST(apot_unsigned_levels(4, 2).name == "apot_unsigned(b=4,k=2)");
  BOOST_TEST(apot_sign_magnitude_levels(4).name == "apot_sign_magnitude(b=4,k=2)");
  BOOST_TEST(uniform_levels(4, true).name == "uniform_signed(b=4)");
  BOOST_TEST(power_of_two_levels(3, false).name == "power_of_two_unsigned(b=3)");
}

BOOST_AUTO_TEST_CASE(bad_bits_are_value_errors_naming_the_function) {
  using xgrad_test::mentions;
  BOOST_CHECK_EXCEPTION(apot_unsigned_levels(0, 2), ValueError,
                        mentions<ValueError>("apot_unsigned_levels"));
  BOOST_CHECK_EXCEPTION(apot_unsigned_levels(6, 4), ValueError, mentions<ValueError>("b=6"));
  BOOST_CHECK_EXCEPTION(apot_unsigned_levels(8, 8), ValueError, mentions<ValueError>("2^-254"));
  BOOST_CHECK_EXCEPTION(apot_sign_magnitude_levels(1, 2), ValueError,
                        mentions<ValueError>("apot_sign_magnitude_levels"));
  BOOST_CHECK_EXCEPTION(apot_sign_magnitude_levels(5, 3), ValueError, mentions<ValueError>("k=3"));
  BOOST_CHECK_EXCEPTION(uniform_levels(1, true), ValueError, mentions<ValueError>("b=1"));
  BOOST_CHECK_EXCEPTION(uniform_levels(17, false), ValueError, mentions<ValueError>("b=17"));
  BOOST_CHECK_EXCEPTION(power_of_two_levels(6, false), ValueError,
                        mentions<ValueError>("power_of_two_levels"));
  BOOST_CHECK_EXCEPTION(power_of_two_levels(0, false), ValueError, mentions<ValueError>("b=0"));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  r.push_back({"apot_unsigned_levels: b 0",
               raises<ValueError>("apot_unsigned_levels", {"b must be >= 1, got b=0"}),
               [] { apot_unsigned_levels(0, 2); }});
  r.push_back({"apot_sign_magnitude_levels: b 1",
               raises<ValueError>("apot_sign_magnitude_levels", {"b must be >= 2", "got b=1"}),
               [] { apot_sign_magnitude_levels(1); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_level_sets
