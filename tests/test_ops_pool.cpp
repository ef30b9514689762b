// max_pool2d, avg_pool2d, adaptive_avg_pool2d: hand-computed values and
// gradients (ties, padding, NaN), gradcheck over a table, every documented error.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xbuilder.hpp>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_pool)

using namespace xgrad;
using xgrad_test::array_of;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;
using xgrad_test::passes_gradcheck;

namespace {

// 1..16 in one 4x4 plane.
Tensor<double> plane16(bool requires_grad = false, double sign = 1) {
  xt::xarray<double> a = xt::arange<double>(1, 17);
  a.reshape({1, 1, 4, 4});
  return Tensor<double>(xt::xarray<double>(sign * a), requires_grad);
}

struct Window {
  Shape input;
  Size2 kernel, stride, padding;
};
std::ostream& operator<<(std::ostream& os, const Window& w) {
  return os << "input " << to_string(w.input) << " kernel " << to_string(w.kernel) << " stride "
            << to_string(w.stride) << " padding " << to_string(w.padding);
}
// Odd and even sizes, non-square kernels, overlapping windows, padding,
// batch and channels > 1.
const Window kWindows[] = {
    {{1, 1, 4, 4}, 2, 2, 0}, {{2, 3, 5, 5}, 2, 2, 0},
    {{1, 2, 5, 6}, 3, 2, 1}, {{2, 1, 7, 5}, {3, 2}, {2, 1}, {1, 0}},
    {{1, 2, 4, 4}, 3, 1, 1}, {{2, 2, 6, 5}, {2, 4}, {1, 3}, {1, 2}},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(max_pool)

BOOST_AUTO_TEST_CASE(takes_the_maximum_of_each_window) {
  auto x = plane16(true);
  const auto y = max_pool2d(x, 2);  // stride defaults to the kernel
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 2, 2}, {6, 8, 14, 16})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), array_of({1, 1, 4, 4}, {0, 0, 0, 0, 0, 1, 0, 1,  //
                                                                   0, 0, 0, 0, 0, 1, 0, 1})));
}

// PyTorch's rule: among equal maxima the first in row-major order wins.
BOOST_AUTO_TEST_CASE(ties_send_the_gradient_to_the_first_maximum) {
  auto x = Tensor<double>(array_of({1, 1, 2, 4}, {3, 1, 2, 2,  //
                                                  3, 3, 2, 2}),
                          true);
  const auto y = max_pool2d(x, 2);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 1, 2}, {3, 2})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), array_of({1, 1, 2, 4}, {1, 0, 1, 0, 0, 0, 0, 0})));
}

// Overlapping windows (stride 1) that share a maximum add their gradients.
BOOST_AUTO_TEST_CASE(overlapping_windows_accumulate_on_a_shared_maximum) {
  auto x = Tensor<double>(array_of({1, 1, 1, 3}, {1, 5, 2}), true);
  const auto y = max_pool2d(x, {1, 2}, 1);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 1, 2}, {5, 5})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), array_of({1, 1, 1, 3}, {0, 2, 0})));
}

// Padding is -infinity: on negative inputs it never wins.
BOOST_AUTO_TEST_CASE(padding_never_wins) {
  const auto y = max_pool2d(plane16(false, -1), 3, 2, 1);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 2, 2}, {-1, -2, -5, -6})));
  const auto z = max_pool2d(plane16(), 3, 2, 1);
  BOOST_TEST(equal_arrays(z.data(), array_of({1, 1, 2, 2}, {6, 8, 14, 16})));
}

BOOST_AUTO_TEST_CASE(a_nan_in_the_window_is_the_result) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto x = Tensor<double>(array_of({1, 1, 2, 2}, {1, nan, 7, 2}), true);
  const auto y = max_pool2d(x, 2);
  BOOST_TEST(std::isnan(y.data()(0)));
  y.backward(xt::xarray<double>(array_of({1, 1, 1, 1}, {1})));
  BOOST_TEST(equal_arrays(x.grad().data(), array_of({1, 1, 2, 2}, {0, 1, 0, 0})));
}

// Every window 2 x 2 (kernel 2, stride 2; or stride 3, windows apart) runs
// its own loop: the same values and winners as the definition (the first
// maximum in row-major order) on few distinct values, so that ties are
// common, with -infinity among them, odd sizes and a NaN in one plane.
BOOST_AUTO_TEST_CASE(two_by_two_windows_match_the_definition) {
  Generator gen(22);
  const double inf = std::numeric_limits<double>::infinity();
  for (const std::int64_t stride : {2, 3}) {
    BOOST_TEST_CONTEXT("stride " << stride) {
      xt::xarray<double> v = xt::floor(rand<double>({2, 3, 7, 9}, gen, 0.0, 4.0).data());
      for (std::size_t i = 0; i < v.size(); i += 11) v.data()[i] = -inf;
      v(1, 2, 3, 4) = std::numeric_limits<double>::quiet_NaN();
      auto x = Tensor<double>(v, true);
      const auto y = max_pool2d(x, 2, stride);
      sum(y).backward();
      const std::size_t oh = y.shape()[2], ow = y.shape()[3], s = std::size_t(stride);
      xt::xarray<double> grad = xt::zeros<double>(v.shape());
      bool same = true;
      for (std::size_t n = 0; n < 2; ++n)
        for (std::size_t c = 0; c < 3; ++c)
          for (std::size_t i = 0; i < oh; ++i)
            for (std::size_t j = 0; j < ow; ++j) {
              std::size_t r = i * s, q = j * s;
              double best = v(n, c, r, q);
              bool nan = std::isnan(best);
              for (std::size_t a = 0; a < 2; ++a)
                for (std::size_t e = 0; e < 2; ++e) {
                  const double u = v(n, c, i * s + a, j * s + e);
                  if (std::isnan(u) || (!nan && u > best)) {
                    best = u;
                    nan = std::isnan(u);
                    r = i * s + a;
                    q = j * s + e;
                  }
                }
              grad(n, c, r, q) += 1;
              const double got = y.data()(n, c, i, j);
              same = same && (nan ? std::isnan(got) : got == best);
            }
      BOOST_TEST(same);
      BOOST_TEST(equal_arrays(x.grad().data(), grad));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(avg_pool)

BOOST_AUTO_TEST_CASE(takes_the_mean_of_each_window) {
  auto x = plane16(true);
  const auto y = avg_pool2d(x, 2);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>(xt::ones<double>({1, 1, 4, 4}) / 4)));
}

// count_include_pad: every window divides by the full kernel area.
BOOST_AUTO_TEST_CASE(padding_counts_as_zeros_in_the_mean) {
  auto x = plane16(true);
  const auto y = avg_pool2d(x, 2, 2, 1);  // 3x3 windows starting at -1, 1, 3
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 3, 3}, {0.25, (2 + 3) / 4.0, 1,  //
                                                            (5 + 9) / 4.0, 8.5, (8 + 12) / 4.0,
                                                            13 / 4.0, (14 + 15) / 4.0, 4})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>(xt::ones<double>({1, 1, 4, 4}) / 4)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(max_and_avg_pool_pass_gradcheck_over_the_window_table) {
  using Pool = Tensor<double> (*)(const Tensor<double>&, Size2, Size2, Size2);
  const std::pair<const char*, Pool> pools[] = {{"max_pool2d", &max_pool2d<double>},
                                                {"avg_pool2d", &avg_pool2d<double>}};
  Generator gen(21);
  for (const auto& p : pools) {
    for (const auto& w : kWindows) {
      BOOST_TEST_CONTEXT(p.first << ", " << w) {
        // Distinct values (a permutation, spaced 0.1 apart) keep every window's
        // maximum unique under the finite-difference step.
        const std::size_t n = w.input[0] * w.input[1] * w.input[2] * w.input[3];
        xt::xarray<double> v = 0.1 * xt::arange<double>(double(n));
        for (std::size_t i = n; i > 1; --i) std::swap(v(i - 1), v(gen.engine()() % i));
        v.reshape(w.input);
        const auto x = Tensor<double>(v, true);
        const Pool pool = p.second;
        const auto f = [&w, pool](const std::vector<Tensor<double>>& in) {
          return pool(in[0], w.kernel, w.stride, w.padding);
        };
        BOOST_TEST(passes_gradcheck(f, {x}));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE(adaptive_avg_pool)

BOOST_AUTO_TEST_CASE(one_by_one_is_the_mean_of_each_plane) {
  auto x = Tensor<double>(array_of({1, 2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}), true);
  const auto y = adaptive_avg_pool2d(x, 1);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 2, 1, 1}, {2.5, 25})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>(xt::ones<double>({1, 2, 2, 2}) / 4)));
}

// PyTorch's windows on 3 -> 2: rows [0, 2) and [1, 3), overlapping in the middle.
BOOST_AUTO_TEST_CASE(uneven_sizes_use_overlapping_windows) {
  auto x = Tensor<double>(array_of({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), true);
  const auto y = adaptive_avg_pool2d(x, 2);
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 2, 2}, {3, 4, 6, 7})));
  sum(y).backward();
  BOOST_TEST(equal_arrays(x.grad().data(),
                          array_of({1, 1, 3, 3}, {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25})));
}

BOOST_AUTO_TEST_CASE(gradcheck_over_output_sizes) {
  Generator gen(23);
  const std::vector<std::pair<Shape, Size2>> cases = {
      {{2, 3, 5, 4}, 1}, {{1, 2, 5, 7}, {2, 3}}, {{1, 1, 3, 3}, 5}, {{2, 1, 6, 6}, {3, 1}}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(to_string(c.first) << " -> " << to_string(c.second)) {
      const auto x = randn<double>(c.first, gen, 0.0, 1.0, true);
      const Size2 out = c.second;
      const auto f = [out](const std::vector<Tensor<double>>& in) {
        return adaptive_avg_pool2d(in[0], out);
      };
      BOOST_TEST(passes_gradcheck(f, {x}));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D p = leaf({1, 2, 4, 4});
  // max_pool2d and avg_pool2d check their input and windows alike.
  using Pool = D (*)(const D&, Size2, Size2, Size2);
  const std::pair<std::string, Pool> pools[] = {{"max_pool2d", &max_pool2d<double>},
                                                {"avg_pool2d", &avg_pool2d<double>}};
  for (const auto& named : pools) {
    const std::string& op = named.first;
    const Pool pool = named.second;
    r.push_back({op + ": 3-D input", raises<ShapeError>(op, {"input must be 4-D", "got [2, 4, 4]"}),
                 [pool] {
                   pool(leaf({2, 4, 4}), 2, 2, 0);
                 }});
    r.push_back({op + ": zero channels",
                 raises<ShapeError>(op, {"input [1, 0, 4, 4]", "zero channel"}), [pool] {
                   pool(zeros<double>({1, 0, 4, 4}), 2, 2, 0);
                 }});
    r.push_back({op + ": kernel_size 0",
                 raises<ValueError>(op, {"kernel_size", "got [0, 0]"}),
                 [p, pool] { pool(p, 0, 1, 0); },
                 {p}});
    r.push_back({op + ": kernel width 0",
                 raises<ValueError>(op, {"kernel_size", "got [2, 0]"}),
                 [p, pool] {
                   pool(p, {2, 0}, 1, 0);
                 },
                 {p}});
    r.push_back({op + ": stride 0",
                 raises<ValueError>(op, {"stride", "got [0, 0]"}),
                 [p, pool] { pool(p, 2, 0, 0); },
                 {p}});
    r.push_back({op + ": negative stride",
                 raises<ValueError>(op, {"stride", "got [-1, -1]"}),
                 [p, pool] { pool(p, 2, -1, 0); },
                 {p}});
    r.push_back({op + ": negative padding",
                 raises<ValueError>(op, {"padding", "got [-1, -1]"}),
                 [p, pool] { pool(p, 3, 1, -1); },
                 {p}});
    r.push_back({op + ": padding above half the kernel",
                 raises<ValueError>(op, {"padding", "half of kernel_size [3, 3]", "got [1, 2]"}),
                 [p, pool] {
                   pool(p, 3, 1, {1, 2});
                 },
                 {p}});
    r.push_back(
        {op + ": kernel larger than the padded input",
         raises<ShapeError>(op, {"kernel_size [5, 2]", "larger than the padded input [4, 4]",
                                 "output size would be 0"}),
         [p, pool] {
           pool(p, {5, 2}, 1, 0);
         },
         {p}});
    r.push_back({op + ": undefined", raises<ValueError>(op, {"input is undefined"}),
                 [u, pool] { pool(u, 2, 2, 0); }});
  }
  r.push_back({"adaptive_avg_pool2d: output_size 0",
               raises<ValueError>("adaptive_avg_pool2d", {"output_size", "got [0, 1]"}),
               [p] {
                 adaptive_avg_pool2d(p, {0, 1});
               },
               {p}});
  r.push_back({"adaptive_avg_pool2d: 2-D input",
               raises<ShapeError>("adaptive_avg_pool2d", {"input must be 4-D", "got [4, 4]"}), [] {
                 adaptive_avg_pool2d(leaf({4, 4}), 1);
               }});
  r.push_back({"adaptive_avg_pool2d: 1-D input",
               raises<ShapeError>("adaptive_avg_pool2d", {"input must be 4-D", "got [4]"}),
               [] { adaptive_avg_pool2d(leaf({4}), 1); }});
  r.push_back({"adaptive_avg_pool2d: undefined",
               raises<ValueError>("adaptive_avg_pool2d", {"input is undefined"}),
               [u] { adaptive_avg_pool2d(u, 1); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_pool
