// The integer lookup-table kernels (modules/src/quant/kernels/
// lut_int_matrix.hpp): APoT levels written as integers times one unit; u8
// activations times int8 weights summed exactly, so every instruction set
// (AVX-512 VNNI, AVX2, scalar), batch size and thread count gives the same
// bits, within four roundings of the exact value; bad arguments refused.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "../modules/src/quant/kernels/lut_int_matrix.hpp"
#include "isa_guard.hpp"
#include "test_util.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"

BOOST_AUTO_TEST_SUITE(test_lut_int_kernels)

using namespace xgrad::quant;
using namespace xgrad::quant::kernels;
using xgrad_test::IsaGuard;

namespace {

struct Case {
  std::size_t rows, cols, batch;
  int bits;
  std::vector<std::uint8_t> codes, a;
  std::vector<int> table;
  std::vector<float> scale, bias;
  float x_scale;
  int zero_point;
};

// Random codes, int table within +-max_abs, per-row scales and bias, u8 inputs.
Case make_case(std::size_t rows, std::size_t cols, std::size_t batch, int bits, int max_abs = 64) {
  Case c{rows, cols, batch, bits, {}, {}, {}, {}, {}, 0.0f, 0};
  std::mt19937 gen{static_cast<unsigned>(rows * 131 + cols * 17 + batch * 3 + unsigned(bits))};
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1), level(-max_abs, max_abs),
      byte(0, 255);
  std::uniform_real_distribution<float> u(0.01f, 1.0f);
  c.codes.resize(rows * cols);
  for (auto& v : c.codes) v = std::uint8_t(code(gen));
  c.table.resize(std::size_t(1) << bits);
  for (auto& v : c.table) v = level(gen);
  c.table[0] = max_abs;  // the bound is reached
  c.scale.resize(rows);
  c.bias.resize(rows);
  for (auto& v : c.scale) v = u(gen);
  for (auto& v : c.bias) v = u(gen) - 0.5f;
  c.a.resize(batch * cols);
  for (auto& v : c.a) v = std::uint8_t(byte(gen));
  c.x_scale = 0.0123f;
  c.zero_point = 100;
  return c;
}

LutMatrixInt8 matrix_of(const Case& c) {
  return LutMatrixInt8(pack_codes(c.codes, c.rows, c.cols, c.bits), c.table, c.scale, c.bias);
}

std::vector<float> run(const LutMatrixInt8& m, const Case& c) {
  std::vector<float> y(c.batch * c.rows);
  m.forward(c.a.data(), c.a.size(), c.batch, c.x_scale, c.zero_point, y.data(), y.size());
  return y;
}

// The definition in double; the float result rounds the exact integer sum,
// the scale product, the product and the bias sum: four roundings, each
// relative to at most |x_scale * scale * sum| + |bias| (gamma_4).
boost::test_tools::predicate_result within_bound(const std::vector<float>& y, const Case& c) {
  std::vector<double> value(y.size()), abs_sum(y.size());
  for (std::size_t n = 0; n < c.batch; ++n) {
    for (std::size_t o = 0; o < c.rows; ++o) {
      std::int64_t d = 0;
      for (std::size_t j = 0; j < c.cols; ++j) {
        d += std::int64_t(c.table[c.codes[o * c.cols + j]]) *
             (std::int64_t(c.a[n * c.cols + j]) - c.zero_point);
      }
      const double prod = double(c.x_scale) * double(c.scale[o]) * double(d);
      value[n * c.rows + o] = prod + c.bias[o];
      abs_sum[n * c.rows + o] = std::abs(prod) + std::abs(c.bias[o]);
    }
  }
  const std::vector<std::size_t> shape{y.size()};
  return xgrad_test::close_as_sums<float>(xt::adapt(y, shape), xt::adapt(value, shape),
                                          xt::adapt(abs_sum, shape), 4);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Dims {
  std::size_t rows, cols;
};
const Dims kShapes[] = {{1, 1}, {3, 7}, {17, 33}, {16, 8}, {33, 129}, {70, 17}, {21, 1037}};
const std::size_t kBatches[] = {1, 2, 5, 13, 30};

}  // namespace

// APoT levels are gamma times sums of powers of two: integers times one unit.
BOOST_AUTO_TEST_CASE(apot_levels_are_integers_times_a_unit) {
  for (LevelScheme scheme : {LevelScheme::unsigned_levels, LevelScheme::sign_magnitude}) {
    for (int b : {2, 3, 4}) {
      for (double alpha : {1.0, 0.37}) {
        BOOST_TEST_CONTEXT(to_string(scheme) << " b " << b << " alpha " << alpha) {
          const std::vector<float> levels =
              apot_level_set(b, b == 3 ? 1 : 2, alpha, scheme).values<float>();
          const IntegerTable t = integer_table(levels);
          BOOST_REQUIRE(t.values.size() == levels.size());
          for (std::size_t i = 0; i < levels.size(); ++i) {
            BOOST_TEST(float(double(t.values[i]) * double(t.unit)) == levels[i]);
            BOOST_TEST(std::abs(t.values[i]) <= 127);
          }
        }
      }
    }
  }
  const IntegerTable t = integer_table({0.0f, 0.25f, 0.5f, 1.5f});
  BOOST_TEST(t.unit == 0.25f);
  BOOST_TEST((t.values == std::vector<int>{0, 1, 2, 6}));
  BOOST_CHECK_EXCEPTION(integer_table({0.0f, 1.0f, 0.3f}), xgrad::ValueError,
                        xgrad_test::mentions<xgrad::ValueError>("not integers"));
}

BOOST_AUTO_TEST_CASE(every_instruction_set_gives_the_scalar_bits_within_the_bound) {
  IsaGuard guard;
  for (int bits : {2, 3, 4}) {
    for (const Dims& d : kShapes) {
      for (std::size_t batch : kBatches) {
        const Case c = make_case(d.rows, d.cols, batch, bits);
        const LutMatrixInt8 m = matrix_of(c);
        set_simd_isa(SimdIsa::scalar);
        const std::vector<float> scalar = run(m, c);
        BOOST_TEST_CONTEXT("scalar bits " << bits << ", " << d.rows << " x " << d.cols << ", batch "
                                          << batch) {
          BOOST_TEST(within_bound(scalar, c));
        }
        for (SimdIsa isa : supported_simd_isas()) {
          BOOST_TEST_CONTEXT(to_string(isa) << " bits " << bits << ", " << d.rows << " x " << d.cols
                                            << ", batch " << batch) {
            set_simd_isa(isa);
            BOOST_TEST(same_bits(run(m, c), scalar));
          }
        }
      }
    }
  }
}

// Weights beyond AVX2's exact range (|w| > 64) take the scalar kernels there.
BOOST_AUTO_TEST_CASE(full_int8_range_is_exact_on_every_set) {
  IsaGuard guard;
  const Case c = make_case(40, 300, 3, 4, 127);
  const LutMatrixInt8 m = matrix_of(c);
  set_simd_isa(SimdIsa::scalar);
  const std::vector<float> scalar = run(m, c);
  BOOST_TEST(within_bound(scalar, c));
  for (SimdIsa isa : supported_simd_isas()) {
    BOOST_TEST_CONTEXT(to_string(isa)) {
      set_simd_isa(isa);
      BOOST_TEST(same_bits(run(m, c), scalar));
    }
  }
}

BOOST_AUTO_TEST_CASE(one_two_and_three_threads_give_the_same_bits) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (std::size_t batch : {std::size_t(1), std::size_t(20)}) {
      const Case c = make_case(200, 300, batch, 4);
      const LutMatrixInt8 m = matrix_of(c);
      xgrad::set_num_threads(1);
      const std::vector<float> one = run(m, c);
      for (int t : {2, 3}) {
        BOOST_TEST_CONTEXT(to_string(isa) << " batch " << batch << " threads " << t) {
          xgrad::set_num_threads(t);
          BOOST_TEST(same_bits(run(m, c), one));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(sample_columns_layout_gives_the_same_bits_transposed) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (std::size_t batch : {std::size_t(1), std::size_t(30)}) {
      BOOST_TEST_CONTEXT(to_string(isa) << " batch " << batch) {
        const Case c = make_case(37, 600, batch, 4);
        const LutMatrixInt8 m = matrix_of(c);
        std::vector<std::uint8_t> at(c.a.size());
        for (std::size_t n = 0; n < batch; ++n)
          for (std::size_t j = 0; j < c.cols; ++j) at[j * batch + n] = c.a[n * c.cols + j];
        std::vector<float> y(batch * c.rows), back(y.size());
        m.forward(at.data(), at.size(), batch, c.x_scale, c.zero_point, y.data(), y.size(),
                  LutLayout::sample_columns);
        for (std::size_t n = 0; n < batch; ++n)
          for (std::size_t o = 0; o < c.rows; ++o) back[n * c.rows + o] = y[o * batch + n];
        BOOST_TEST(same_bits(back, run(m, c)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(exact_values_for_small_integers) {
  IsaGuard guard;
  // Weight [[3 -1 2] [0 2 -1]] (2-bit codes of table {-1, 0, 2, 3}), scale 0.5
  // per tensor, inputs a = [[10 12 14]] with zero point 10 and x_scale 0.25:
  // row 0: (3*0 - 2 + 2*4) * 0.125 = 0.75; row 1: (0 + 4 - 4) * 0.125 = 0;
  // plus the bias {1, -1}.
  const LutMatrixInt8 m(pack_codes({3, 0, 2, 1, 2, 0}, 2, 3, 2), {-1, 0, 2, 3}, {0.5f}, {1, -1});
  const std::vector<std::uint8_t> a{10, 12, 14};
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    std::vector<float> y(2);
    m.forward(a.data(), 3, 1, 0.25f, 10, y.data(), 2);
    BOOST_TEST_CONTEXT(to_string(isa)) { BOOST_TEST((y == std::vector<float>{1.75f, -1.0f})); }
  }
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const PackedCodes p = pack_codes(std::vector<std::uint8_t>(6, 1), 2, 3, 2);
  const std::vector<int> t{0, 1, 2, 3};
  const auto m = std::make_shared<const LutMatrixInt8>(p, t, std::vector<float>{1.0f});
  const auto a = std::make_shared<std::vector<std::uint8_t>>(6);
  const auto y = std::make_shared<std::vector<float>>(4);
  PackedCodes torn = p;
  torn.words.pop_back();
  PackedCodes three = pack_codes(std::vector<std::uint8_t>(6, 1), 2, 3, 3);
  three.words[0] |= 0x8u;  // a 3-bit code of 9
  r.push_back({"LutMatrixInt8: table size",
               raises<ValueError>("LutMatrixInt8", {"table has 2 entries", "2^bits = 4"}), [p] {
                 LutMatrixInt8(p, {1, 2}, {1.0f});
               }});
  r.push_back({"LutMatrixInt8: table 128",
               raises<ValueError>("LutMatrixInt8", {"table[2] is 128", "[-127, 127]"}), [p] {
                 LutMatrixInt8(p, {0, 1, 128, 3}, {1.0f});
               }});
  r.push_back({"LutMatrixInt8: table -128",
               raises<ValueError>("LutMatrixInt8", {"table[0] is -128", "[-127, 127]"}), [p] {
                 LutMatrixInt8(p, {-128, 1, 2, 3}, {1.0f});
               }});
  r.push_back({"LutMatrixInt8: int32 overflow",
               raises<ValueError>("LutMatrixInt8", {"cols = 70000", "2^31", "LutMatrix"}), [] {
                 const PackedCodes wide =
                     pack_codes(std::vector<std::uint8_t>(70000, 0), 1, 70000, 2);
                 LutMatrixInt8(wide, {127, 0, 0, 0}, {1.0f});
               }});
  r.push_back(
      {"LutMatrixInt8: scale size",
       raises<ValueError>("LutMatrixInt8", {"weight_scale has 3 elements", "1 or rows = 2"}),
       [p, t] {
         LutMatrixInt8(p, t, {1.0f, 2.0f, 3.0f});
       }});
  r.push_back({"LutMatrixInt8: NaN scale",
               raises<ValueError>("LutMatrixInt8", {"weight_scale[0] is nan"}),
               [p, t, nan] { LutMatrixInt8(p, t, {nan}); }});
  r.push_back({"LutMatrixInt8: bias size",
               raises<ValueError>("LutMatrixInt8", {"bias has 1 elements"}),
               [p, t] { LutMatrixInt8(p, t, {1.0f}, {1.0f}); }});
  r.push_back({"LutMatrixInt8: infinite bias",
               raises<ValueError>("LutMatrixInt8", {"bias[1] is inf"}), [p, t, inf] {
                 LutMatrixInt8(p, t, {1.0f}, {0.0f, inf});
               }});
  r.push_back({"LutMatrixInt8: torn codes",
               raises<ValueError>("LutMatrixInt8", {"2 x 3", "pack_codes"}),
               [torn, t] { LutMatrixInt8(torn, t, {1.0f}); }});
  r.push_back({"LutMatrixInt8: 3-bit code 9",
               raises<ValueError>("LutMatrixInt8", {"3-bit code >= 8", "word 0"}),
               [three] { LutMatrixInt8(three, std::vector<int>(8, 1), {1.0f}); }});
  r.push_back({"LutMatrixInt8::forward: batch 0",
               raises<ValueError>("LutMatrixInt8::forward", {"batch must be positive"}),
               [m, a, y] { m->forward(a->data(), 0, 0, 1.0f, 0, y->data(), 0); }});
  r.push_back({"LutMatrixInt8::forward: a size",
               raises<ValueError>("LutMatrixInt8::forward", {"a has 5 elements", "2 * 3"}),
               [m, a, y] { m->forward(a->data(), 5, 2, 1.0f, 0, y->data(), 4); }});
  r.push_back({"LutMatrixInt8::forward: y size",
               raises<ValueError>("LutMatrixInt8::forward", {"y has 5 elements", "2 * 2"}),
               [m, a, y] { m->forward(a->data(), 6, 2, 1.0f, 0, y->data(), 5); }});
  r.push_back({"LutMatrixInt8::forward: zero point 256",
               raises<ValueError>("LutMatrixInt8::forward", {"x_zero_point is 256"}),
               [m, a, y] { m->forward(a->data(), 6, 2, 1.0f, 256, y->data(), 4); }});
  r.push_back({"LutMatrixInt8::forward: zero point -1",
               raises<ValueError>("LutMatrixInt8::forward", {"x_zero_point is -1"}),
               [m, a, y] { m->forward(a->data(), 6, 2, 1.0f, -1, y->data(), 4); }});
  r.push_back({"LutMatrixInt8::forward: NaN x_scale",
               raises<ValueError>("LutMatrixInt8::forward", {"x_scale is nan"}),
               [m, a, y, nan] { m->forward(a->data(), 6, 2, nan, 0, y->data(), 4); }});
  r.push_back({"integer_table: levels of no unit",
               raises<ValueError>("integer_table", {"not integers", "LutMatrix"}), [] {
                 integer_table({0.1f, 0.2f, 0.30000001f, 1e-7f});
               }});
  r.push_back({"integer_table: NaN level",
               raises<ValueError>("integer_table", {"levels[1] is nan"}), [nan] {
                 integer_table({0.0f, nan});
               }});
  r.push_back({"integer_table: no levels", raises<ValueError>("integer_table", {"0 levels"}),
               [] { integer_table({}); }});
  r.push_back({"integer_table: max_abs 128",
               raises<ValueError>("integer_table", {"max_abs 128", "[1, 127]"}), [] {
                 integer_table({0.0f, 1.0f}, 128);
               }});
}

BOOST_AUTO_TEST_SUITE_END()
