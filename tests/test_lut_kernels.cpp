// The lookup-table kernels of low-bit layers (modules/src/quant/kernels/
// lut_matrix.hpp) through every instruction set this machine has (the
// xgrad/quant/kernels/simd_isa.hpp switch): against the weights decoded to float and
// summed in double, within the rounding bound of a K-term float sum; the
// same bits on every instruction set, batch size and thread count (the
// kernels' sequence of operations per output is fixed by construction); the
// pair (T-MAC-style) path within the same bound; bad arguments refused.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "../modules/src/quant/kernels/lut_kernels.hpp"
#include "../modules/src/quant/kernels/lut_matrix.hpp"
#include "isa_guard.hpp"
#include "test_util.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

BOOST_AUTO_TEST_SUITE(test_lut_kernels)

using namespace xgrad::quant;
using namespace xgrad::quant::kernels;
using xgrad_test::IsaGuard;

namespace {

// A problem: codes, table, optional per-row terms and activations, all random.
struct Case {
  std::size_t rows, cols, batch;
  int bits;
  bool scale, offset, bias;
  std::vector<std::uint8_t> codes;
  std::vector<float> table, row_scale, row_offset, b, x;
};

Case make_case(std::size_t rows, std::size_t cols, std::size_t batch, int bits, bool scale = false,
               bool offset = false, bool bias = false) {
  Case c{rows, cols, batch, bits, scale, offset, bias, {}, {}, {}, {}, {}, {}};
  std::mt19937 gen{static_cast<unsigned>(rows * 7919 + cols * 31 + batch * 5 + unsigned(bits))};
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  c.codes.resize(rows * cols);
  for (auto& v : c.codes) v = std::uint8_t(code(gen));
  c.table.resize(std::size_t(1) << bits);
  for (auto& v : c.table) v = u(gen);
  if (scale) c.row_scale.resize(rows);
  if (offset) c.row_offset.resize(rows);
  if (bias) c.b.resize(rows);
  for (auto* v : {&c.row_scale, &c.row_offset, &c.b})
    for (auto& e : *v) e = u(gen);
  c.x.resize(batch * cols);
  for (auto& v : c.x) v = u(gen);
  return c;
}

LutMatrix matrix_of(const Case& c) {
  return LutMatrix(pack_codes(c.codes, c.rows, c.cols, c.bits), c.table, c.row_scale, c.row_offset,
                   c.b);
}

std::vector<float> run(const LutMatrix& m, const Case& c, LutPath path = LutPath::automatic) {
  std::vector<float> y(c.batch * c.rows);
  m.forward(c.x.data(), c.x.size(), c.batch, y.data(), y.size(), path);
  return y;
}

// The definition in double, from the codes decoded through the table:
// y = s * sum_j table[c] x_j + off * sum_j x_j + b, and its absolute
// counterpart |s| sum |table[c] x_j| + |off| sum |x_j| + |b|.
struct Reference {
  std::vector<double> value, abs_sum;
};

Reference reference(const Case& c) {
  Reference r{std::vector<double>(c.batch * c.rows), std::vector<double>(c.batch * c.rows)};
  for (std::size_t n = 0; n < c.batch; ++n) {
    for (std::size_t o = 0; o < c.rows; ++o) {
      double dot = 0, dot_abs = 0, xs = 0, xs_abs = 0;
      for (std::size_t j = 0; j < c.cols; ++j) {
        const double w = c.table[c.codes[o * c.cols + j]], x = c.x[n * c.cols + j];
        dot += w * x;
        dot_abs += std::abs(w * x);
        xs += x;
        xs_abs += std::abs(x);
      }
      const double s = c.scale ? c.row_scale[o] : 1.0, off = c.offset ? c.row_offset[o] : 0.0;
      const double b = c.bias ? c.b[o] : 0.0;
      r.value[n * c.rows + o] = s * dot + off * xs + b;
      r.abs_sum[n * c.rows + o] = std::abs(s) * dot_abs + std::abs(off) * xs_abs + std::abs(b);
    }
  }
  return r;
}

// Within the bound of the arithmetic (lut_matrix.hpp): the float sum of K
// products, then at most three more roundings (scale, offset, bias), each
// relative to a quantity bounded by abs_sum, make it a sum of K + 3 terms in
// the sense of gamma_n (test_util.hpp); the double reference adds its own.
boost::test_tools::predicate_result within_bound(const std::vector<float>& y, const Case& c) {
  const Reference r = reference(c);
  const std::vector<std::size_t> shape{y.size()};
  return xgrad_test::close_as_sums<float>(xt::adapt(y, shape), xt::adapt(r.value, shape),
                                          xt::adapt(r.abs_sum, shape), c.cols + 3);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) return false;
  }
  return true;
}

struct Dims {
  std::size_t rows, cols;
};
// One row to several groups and a partial one; columns inside one word, one
// past a word, and past the kernels' column block (512), which adds block
// sums to stored accumulators.
const Dims kShapes[] = {{1, 1}, {3, 7}, {17, 33}, {16, 8}, {33, 129}, {70, 17}, {21, 1037}};
// Batch 1 (the GEMV tiles), small batches, and more than a panel of 12.
const std::size_t kBatches[] = {1, 2, 5, 8, 13, 30};

}  // namespace

BOOST_AUTO_TEST_CASE(every_instruction_set_is_within_the_rounding_bound) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (int bits : {2, 3, 4}) {
      for (const Dims& d : kShapes) {
        for (std::size_t batch : kBatches) {
          BOOST_TEST_CONTEXT(to_string(isa) << " bits " << bits << ", " << d.rows << " x " << d.cols
                                            << ", batch " << batch) {
            const Case c = make_case(d.rows, d.cols, batch, bits);
            const LutMatrix m = matrix_of(c);
            BOOST_TEST(within_bound(run(m, c, LutPath::decode), c));
            if (batch == 1 && bits == 2) BOOST_TEST(within_bound(run(m, c, LutPath::pairs), c));
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(row_scale_offset_and_bias_are_within_the_rounding_bound) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (int mask = 1; mask < 8; ++mask) {
      BOOST_TEST_CONTEXT(to_string(isa) << " scale " << (mask & 1) << " offset " << (mask >> 1 & 1)
                                        << " bias " << (mask >> 2)) {
        const Case c = make_case(33, 300, 3, 4, mask & 1, mask & 2, mask & 4);
        BOOST_TEST(within_bound(run(matrix_of(c), c), c));
      }
    }
  }
}

// Every instruction set does the scalar reference's operations per output.
BOOST_AUTO_TEST_CASE(every_instruction_set_gives_the_scalar_bits) {
  IsaGuard guard;
  for (int bits : {2, 3, 4}) {
    for (const Dims& d : kShapes) {
      for (std::size_t batch : {std::size_t(1), std::size_t(13)}) {
        const Case c = make_case(d.rows, d.cols, batch, bits, true, true, true);
        const LutMatrix m = matrix_of(c);
        set_simd_isa(SimdIsa::scalar);
        const std::vector<float> scalar = run(m, c, LutPath::decode);
        for (SimdIsa isa : supported_simd_isas()) {
          BOOST_TEST_CONTEXT(to_string(isa) << " bits " << bits << ", " << d.rows << " x " << d.cols
                                            << ", batch " << batch) {
            set_simd_isa(isa);
            BOOST_TEST(same_bits(run(m, c, LutPath::decode), scalar));
          }
        }
      }
    }
  }
}

// On the decode path a sample's outputs do not depend on the batch it is in
// (tiles and panels change, the per-output sequence does not).
BOOST_AUTO_TEST_CASE(decode_outputs_do_not_depend_on_the_batch) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (int bits : {2, 4}) {
      const Case c = make_case(37, 600, 30, bits, false, false, true);
      const LutMatrix m = matrix_of(c);
      const std::vector<float> all = run(m, c);
      for (std::size_t n : {std::size_t(0), std::size_t(12), std::size_t(29)}) {
        BOOST_TEST_CONTEXT(to_string(isa) << " bits " << bits << " sample " << n) {
          Case one = c;
          one.batch = 1;
          one.x.assign(c.x.begin() + long(n * c.cols), c.x.begin() + long((n + 1) * c.cols));
          const std::vector<float> y = run(m, one, LutPath::decode);
          BOOST_TEST(same_bits(y, std::vector<float>(all.begin() + long(n * c.rows),
                                                     all.begin() + long((n + 1) * c.rows))));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(one_two_and_three_threads_give_the_same_bits) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    // 200 rows: 13 groups, several tiles at every batch size (tile work below
    // the grain of one thread's wake-up, so each thread gets tiles).
    for (std::size_t batch : {std::size_t(1), std::size_t(4), std::size_t(20)}) {
      for (int bits : {2, 4}) {
        const Case c = make_case(200, 300, batch, bits, true, true, true);
        const LutMatrix m = matrix_of(c);
        std::vector<std::vector<float>> ys;
        for (int t : {1, 2, 3}) {
          xgrad::set_num_threads(t);
          ys.push_back(run(m, c, LutPath::decode));
          ys.push_back(run(m, c));  // pairs for 2-bit batch 1
        }
        BOOST_TEST_CONTEXT(to_string(isa) << " batch " << batch << " bits " << bits) {
          const std::size_t per = ys.size() / 3;
          for (std::size_t i = per; i < ys.size(); ++i) BOOST_TEST(same_bits(ys[i], ys[i % per]));
        }
      }
    }
  }
}

// The pair path groups the terms in pairs: the same bound, its own bits,
// the same on every instruction set (the lookups add in the same order).
BOOST_AUTO_TEST_CASE(pair_path_is_within_the_bound_and_the_same_on_every_set) {
  IsaGuard guard;
  for (const Dims& d : kShapes) {
    const Case c = make_case(d.rows, d.cols, 1, 2, true, true, true);
    const LutMatrix m = matrix_of(c);
    set_simd_isa(SimdIsa::scalar);
    const std::vector<float> scalar = run(m, c, LutPath::pairs);
    for (SimdIsa isa : supported_simd_isas()) {
      BOOST_TEST_CONTEXT(to_string(isa) << " " << d.rows << " x " << d.cols) {
        set_simd_isa(isa);
        const std::vector<float> y = run(m, c, LutPath::pairs);
        BOOST_TEST(within_bound(y, c));
        BOOST_TEST(same_bits(y, scalar));
      }
    }
  }
}

// A convolution's layout (x[j * batch + n], y[o * batch + n]) is the same
// product: the same bits, transposed.
BOOST_AUTO_TEST_CASE(sample_columns_layout_gives_the_same_bits_transposed) {
  IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (std::size_t batch : {std::size_t(1), std::size_t(5), std::size_t(30)}) {
      BOOST_TEST_CONTEXT(to_string(isa) << " batch " << batch) {
        const Case c = make_case(37, 600, batch, 4, true, true, true);
        const LutMatrix m = matrix_of(c);
        std::vector<float> xt(c.x.size()), y(batch * c.rows);
        for (std::size_t n = 0; n < batch; ++n)
          for (std::size_t j = 0; j < c.cols; ++j) xt[j * batch + n] = c.x[n * c.cols + j];
        m.forward(xt.data(), xt.size(), batch, y.data(), y.size(), LutPath::automatic,
                  LutLayout::sample_columns);
        const std::vector<float> rows = run(m, c);
        std::vector<float> back(y.size());
        for (std::size_t n = 0; n < batch; ++n)
          for (std::size_t o = 0; o < c.rows; ++o) back[n * c.rows + o] = y[o * batch + n];
        BOOST_TEST(same_bits(back, rows));
      }
    }
  }
}

// The default path is the kernel set's faster one: pairs for 2-bit batch 1
// where the set prefers them, else decode.
BOOST_AUTO_TEST_CASE(default_path_is_the_faster_one) {
  IsaGuard guard;
  const Case c = make_case(70, 300, 1, 2);
  const LutMatrix m = matrix_of(c);
  for (SimdIsa isa : supported_simd_isas()) {
    BOOST_TEST_CONTEXT(to_string(isa)) {
      set_simd_isa(isa);
      std::vector<float> y(c.rows);
      m.forward(c.x.data(), c.x.size(), 1, y.data(), y.size());
      const bool pairs = active_lut_kernels().prefer_pairs;
      BOOST_TEST(same_bits(y, run(m, c, pairs ? LutPath::pairs : LutPath::decode)));
      BOOST_TEST(!same_bits(y, run(m, c, pairs ? LutPath::decode : LutPath::pairs)));
    }
  }
}

// Exact values where the arithmetic is exact: levels and inputs are small
// dyadic numbers, so every product and sum is a float.
BOOST_AUTO_TEST_CASE(exact_values_for_dyadic_levels) {
  IsaGuard guard;
  // 2 x 3 weight [[0.5 -1 0.25] [2 0.5 -1]] in 2-bit codes of table {-1, 0.25, 0.5, 2}.
  const std::vector<std::uint8_t> codes{2, 0, 1, 3, 2, 0};
  const std::vector<float> table{-1.0f, 0.25f, 0.5f, 2.0f}, bias{1.0f, -1.0f};
  const std::vector<float> x{1.0f, 2.0f, 4.0f, -2.0f, 0.5f, 8.0f};  // batch 2
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    const LutMatrix m(pack_codes(codes, 2, 3, 2), table, {}, {}, bias);
    std::vector<float> y(4);
    m.forward(x.data(), x.size(), 2, y.data(), y.size());
    BOOST_TEST_CONTEXT(to_string(isa)) {
      // [0.5 - 2 + 1 + 1, 2 + 1 - 4 - 1; -1 - 0.5 + 2 + 1, -4 + 0.25 - 8 - 1]
      BOOST_TEST((y == std::vector<float>{0.5f, -2.0f, 1.5f, -12.75f}));
      std::vector<float> y1(2);
      m.forward(x.data(), 3, 1, y1.data(), 2, LutPath::pairs);
      BOOST_TEST((y1 == std::vector<float>{0.5f, -2.0f}));
    }
  }
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const PackedCodes p4 = pack_codes(std::vector<std::uint8_t>(6, 1), 2, 3, 4);
  const std::vector<float> t16(16, 0.5f);
  const auto m = std::make_shared<const LutMatrix>(p4, t16);
  const auto x = std::make_shared<std::vector<float>>(6);
  const auto y = std::make_shared<std::vector<float>>(4);
  PackedCodes torn = p4;
  torn.words.pop_back();
  PackedCodes three = pack_codes(std::vector<std::uint8_t>(6, 1), 2, 3, 3);
  three.words[0] |= 0x8u;  // a 3-bit code of 9
  PackedCodes five = p4;
  five.bits = 5;
  std::vector<float> t_nan = t16;
  t_nan[3] = nan;
  r.push_back({"LutMatrix: table size",
               raises<ValueError>("LutMatrix", {"table has 8 entries", "2^bits = 16"}),
               [p4] { LutMatrix(p4, std::vector<float>(8)); }});
  r.push_back({"LutMatrix: NaN level", raises<ValueError>("LutMatrix", {"table[3] is nan"}),
               [p4, t_nan] { LutMatrix(p4, t_nan); }});
  r.push_back({"LutMatrix: infinite scale",
               raises<ValueError>("LutMatrix", {"row_scale[1] is inf", "finite"}), [p4, t16, inf] {
                 LutMatrix(p4, t16, {1.0f, inf});
               }});
  r.push_back({"LutMatrix: offset size",
               raises<ValueError>("LutMatrix", {"row_offset has 1 elements", "rows = 2"}),
               [p4, t16] { LutMatrix(p4, t16, {}, {1.0f}); }});
  r.push_back({"LutMatrix: NaN offset", raises<ValueError>("LutMatrix", {"row_offset[0] is nan"}),
               [p4, t16, nan] {
                 LutMatrix(p4, t16, {}, {nan, 1.0f});
               }});
  r.push_back(
      {"LutMatrix: bias size", raises<ValueError>("LutMatrix", {"bias has 3 elements"}), [p4, t16] {
         LutMatrix(p4, t16, {}, {}, {1, 2, 3});
       }});
  r.push_back({"LutMatrix: infinite bias", raises<ValueError>("LutMatrix", {"bias[1] is -inf"}),
               [p4, t16, inf] {
                 LutMatrix(p4, t16, {}, {}, {1.0f, -inf});
               }});
  r.push_back({"LutMatrix: torn codes", raises<ValueError>("LutMatrix", {"2 x 3", "pack_codes"}),
               [torn, t16] { LutMatrix(torn, t16); }});
  r.push_back({"LutMatrix: 5-bit codes",
               raises<ValueError>("LutMatrix", {"codes.bits must be 2, 3 or 4", "got 5"}),
               [five] { LutMatrix(five, std::vector<float>(32)); }});
  r.push_back({"LutMatrix: 3-bit code 9",
               raises<ValueError>("LutMatrix", {"3-bit code >= 8", "word 0"}),
               [three] { LutMatrix(three, std::vector<float>(8)); }});
  r.push_back({"LutMatrix::forward: batch 0",
               raises<ValueError>("LutMatrix::forward", {"batch must be positive"}),
               [m, x, y] { m->forward(x->data(), 0, 0, y->data(), 0); }});
  r.push_back({"LutMatrix::forward: x size",
               raises<ValueError>("LutMatrix::forward", {"x has 5 elements", "2 * 3"}),
               [m, x, y] { m->forward(x->data(), 5, 2, y->data(), 4); }});
  r.push_back({"LutMatrix::forward: y size",
               raises<ValueError>("LutMatrix::forward", {"y has 3 elements", "2 * 2"}),
               [m, x, y] { m->forward(x->data(), 6, 2, y->data(), 3); }});
  r.push_back({"LutMatrix::forward: sample_columns x size",
               raises<ValueError>("LutMatrix::forward", {"x has 7 elements", "2 * 3"}), [m, x, y] {
                 m->forward(x->data(), 7, 2, y->data(), 4, LutPath::automatic,
                            LutLayout::sample_columns);
               }});
  r.push_back({"LutMatrix::forward: pairs on 4-bit codes",
               raises<ValueError>("LutMatrix::forward", {"pairs path", "4-bit"}),
               [m, x, y] { m->forward(x->data(), 3, 1, y->data(), 2, LutPath::pairs); }});
  r.push_back({"LutMatrix::forward: pairs on a batch of 2",
               raises<ValueError>("LutMatrix::forward", {"pairs path", "batch 2"}), [x, y] {
                 const LutMatrix m2(pack_codes(std::vector<std::uint8_t>(6, 1), 2, 3, 2),
                                    std::vector<float>(4, 1.0f));
                 m2.forward(x->data(), 6, 2, y->data(), 4, LutPath::pairs);
               }});
}

BOOST_AUTO_TEST_SUITE_END()
