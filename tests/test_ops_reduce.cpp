// Reductions: sum and mean over everything or over axes (negative, several,
// keepdims), max over one axis; exact values, gradients, errors.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_reduce)

using namespace xgrad;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

namespace {

// [[1, 2, 3], [4, 5, 6]]
Tensor<double> m23(bool requires_grad = false) {
  return tensor<double>({{1, 2, 3}, {4, 5, 6}}, requires_grad);
}

// 0, 1, ..., 23 in shape [2, 3, 4]: element (i, j, k) is 12 i + 4 j + k.
Tensor<double> counting234() {
  xt::xarray<double> a = xt::zeros<double>({2, 3, 4});
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
  return Tensor<double>(a);
}

xt::xarray<double> array_of(const Shape& shape, std::initializer_list<double> values) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  std::copy(values.begin(), values.end(), a.begin());
  return a;
}

struct AxesCase {
  const char* what;
  Axes axes;
  bool keepdims;
  Shape shape;
  std::initializer_list<double> values;
};

}  // namespace

BOOST_AUTO_TEST_CASE(sum_and_mean_of_everything_are_0d) {
  const auto s = sum(m23());
  const auto m = mean(m23());
  BOOST_TEST(s.dim() == 0u);
  BOOST_TEST(m.dim() == 0u);
  BOOST_TEST(s.item() == 21.0);
  BOOST_TEST(m.item() == 3.5);
}

BOOST_AUTO_TEST_CASE(sum_of_a_0d_tensor_is_its_value) {
  BOOST_TEST(sum(scalar<double>(2.5)).item() == 2.5);
  BOOST_TEST(mean(scalar<double>(2.5)).item() == 2.5);
}

BOOST_AUTO_TEST_CASE(sum_over_axes_table) {
  const AxesCase cases[] = {
      {"axis 0", {0}, false, {3}, {5, 7, 9}},
      {"axis 1", {1}, false, {2}, {6, 15}},
      {"axis -1", {-1}, false, {2}, {6, 15}},
      {"axis -2", {-2}, false, {3}, {5, 7, 9}},
      {"axis 0 keepdims", {0}, true, {1, 3}, {5, 7, 9}},
      {"axis 1 keepdims", {1}, true, {2, 1}, {6, 15}},
      {"both axes", {0, 1}, false, {}, {21}},
      {"both axes reversed", {1, 0}, false, {}, {21}},
      {"both axes keepdims", {0, -1}, true, {1, 1}, {21}},
      {"no axes", {}, false, {2, 3}, {1, 2, 3, 4, 5, 6}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(equal_arrays(sum(m23(), c.axes, c.keepdims).data(), array_of(c.shape, c.values)));
    }
  }
}

BOOST_AUTO_TEST_CASE(mean_over_axes_table) {
  const AxesCase cases[] = {
      {"axis 0", {0}, false, {3}, {2.5, 3.5, 4.5}},
      {"axis -1", {-1}, false, {2}, {2, 5}},
      {"axis 1 keepdims", {1}, true, {2, 1}, {2, 5}},
      {"both axes", {0, 1}, false, {}, {3.5}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(equal_arrays(mean(m23(), c.axes, c.keepdims).data(), array_of(c.shape, c.values)));
    }
  }
}

// (i, j, k) holds 12 i + 4 j + k, so each sum has a closed form.
BOOST_AUTO_TEST_CASE(sum_over_non_adjacent_and_adjacent_axes_of_3d) {
  const AxesCase cases[] = {
      // over i and k: 4 * 12 + 32 j + 2 * 6 = 60 + 32 j
      {"axes 0 and 2", {0, 2}, false, {3}, {60, 92, 124}},
      {"axes -1 and 0 keepdims", {-1, 0}, true, {1, 3, 1}, {60, 92, 124}},
      // over j and k: 144 i + 16 * 3 + 3 * 6 = 144 i + 66
      {"axes 1 and 2", {1, 2}, false, {2}, {66, 210}},
      // over i and j: 36 + 8 * 3 + 6 k = 60 + 6 k
      {"axes 0 and 1", {0, 1}, false, {4}, {60, 66, 72, 78}},
      // over j: 36 i + 12 + 3 k
      {"axis 1", {1}, false, {2, 4}, {12, 15, 18, 21, 48, 51, 54, 57}},
      {"all", {0, 1, 2}, false, {}, {276}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(
          equal_arrays(sum(counting234(), c.axes, c.keepdims).data(), array_of(c.shape, c.values)));
    }
  }
}

BOOST_AUTO_TEST_CASE(mean_over_zero_elements_is_nan) {
  const auto empty = zeros<double>({0, 3});
  BOOST_TEST(std::isnan(mean(empty).item()));
  BOOST_TEST(sum(empty).item() == 0.0);
  BOOST_TEST(equal_arrays(sum(empty, {0}).data(), xt::xarray<double>({0, 0, 0})));
}

// Flat sums accumulate in double: 10^6 float copies of 0.1f sum to 10^5
// (a float accumulator drifts by about 1% here).
BOOST_AUTO_TEST_CASE(float_sum_of_many_elements_stays_accurate) {
  const auto a = full<float>({1000000}, 0.1f);
  BOOST_TEST(std::abs(sum(a).item() - 100000.0f) <= 0.01f);
}

BOOST_AUTO_TEST_CASE(sum_and_mean_gradients_are_constant) {
  auto a = m23(true);
  sum(a, {1}).backward(xt::xarray<double>({1.0, 2.0}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{1, 1, 1}, {2, 2, 2}})));
  a.zero_grad();
  mean(a).backward();
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>(xt::ones<double>({2, 3}) / 6.0)));
}

BOOST_AUTO_TEST_CASE(sum_and_mean_pass_gradcheck) {
  const Axes axes_list[] = {{0}, {1}, {2}, {-1}, {0, 2}, {-3, -2}, {1, 2}, {0, 1, 2}, {}};
  Generator gen(1);
  const auto x = randn<double>({2, 3, 4}, gen, 0.0, 1.0, true);
  for (const auto& axes : axes_list) {
    for (bool keepdims : {false, true}) {
      BOOST_TEST_CONTEXT("axes of size " << axes.size() << ", keepdims " << keepdims) {
        BOOST_TEST(
            passes_gradcheck([&](const auto& in) { return sum(in[0], axes, keepdims); }, {x}));
        BOOST_TEST(
            passes_gradcheck([&](const auto& in) { return mean(in[0], axes, keepdims); }, {x}));
      }
    }
  }
  BOOST_TEST(passes_gradcheck([](const auto& in) { return sum(in[0]); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return mean(in[0]); }, {x}));
}

BOOST_AUTO_TEST_CASE(max_over_an_axis_table) {
  // [[1, 5, 3], [4, 2, 6]]
  const auto a = tensor<double>({{1, 5, 3}, {4, 2, 6}});
  BOOST_TEST(equal_arrays(max(a, 0).data(), xt::xarray<double>({4, 5, 6})));
  BOOST_TEST(equal_arrays(max(a, 1).data(), xt::xarray<double>({5, 6})));
  BOOST_TEST(equal_arrays(max(a, -1).data(), xt::xarray<double>({5, 6})));
  BOOST_TEST(equal_arrays(max(a, 0, true).data(), xt::xarray<double>({{4, 5, 6}})));
  BOOST_TEST(equal_arrays(max(a, -1, true).data(), array_of({2, 1}, {5, 6})));
  // The middle axis of (i, j, k) = 12 i + 4 j + k is maximal at j = 2.
  BOOST_TEST(equal_arrays(max(counting234(), 1).data(),
                          xt::xarray<double>({{8, 9, 10, 11}, {20, 21, 22, 23}})));
}

BOOST_AUTO_TEST_CASE(max_gradient_goes_to_the_first_maximal_element) {
  auto a = tensor<double>({{3, 1, 3}, {2, 2, 0}}, true);
  max(a, 1).backward(xt::xarray<double>({10.0, 20.0}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{10, 0, 0}, {20, 0, 0}})));
}

BOOST_AUTO_TEST_CASE(max_propagates_nan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto a = tensor<double>({1.0, nan, 3.0}, true);
  const auto m = max(a, 0);
  BOOST_TEST(std::isnan(m.item()));
  m.backward();
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({0, 1, 0})));
}

BOOST_AUTO_TEST_CASE(max_passes_gradcheck) {
  // Random normal values have no ties, where max is not differentiable.
  Generator gen(2);
  const auto x = randn<double>({3, 4, 5}, gen, 0.0, 1.0, true);
  for (std::ptrdiff_t axis : {0, 1, 2, -1}) {
    for (bool keepdims : {false, true}) {
      BOOST_TEST_CONTEXT("axis " << axis << ", keepdims " << keepdims) {
        BOOST_TEST(
            passes_gradcheck([&](const auto& in) { return max(in[0], axis, keepdims); }, {x}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(float_results_match_double) {
  const auto f = tensor<float>({{1, 2, 3}, {4, 5, 6}});
  BOOST_TEST(sum(f).item() == 21.0f);
  BOOST_TEST(equal_arrays(mean(f, {0}).data(), xt::xarray<float>({2.5f, 3.5f, 4.5f})));
  BOOST_TEST(equal_arrays(max(f, 1).data(), xt::xarray<float>({3, 6})));
}

BOOST_AUTO_TEST_CASE(no_node_is_recorded_under_no_grad) {
  auto a = m23(true);
  NoGradGuard guard;
  BOOST_TEST(!sum(a).requires_grad());
  BOOST_TEST(!max(a, 0).requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_axes_throw_shape_error) {
  const auto a = m23();
  BOOST_CHECK_THROW(sum(a, {2}), ShapeError);
  BOOST_CHECK_THROW(sum(a, {-3}), ShapeError);
  BOOST_CHECK_THROW(mean(a, {5}, true), ShapeError);
  BOOST_CHECK_THROW(max(a, 2), ShapeError);
  BOOST_CHECK_THROW(max(a, -3), ShapeError);
  BOOST_CHECK_THROW(max(scalar<double>(1.0), 0), ShapeError);
  BOOST_CHECK_THROW(sum(scalar<double>(1.0), {0}), ShapeError);
}

BOOST_AUTO_TEST_CASE(repeated_axes_throw_shape_error_naming_them) {
  const auto a = m23();
  BOOST_CHECK_THROW(sum(a, {0, 0}), ShapeError);
  BOOST_CHECK_THROW(mean(a, {1, -1}), ShapeError);
  try {
    sum(a, {0, -2});
    BOOST_FAIL("no exception");
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    BOOST_TEST(msg.find("sum") != std::string::npos);
    BOOST_TEST(msg.find("[0, -2]") != std::string::npos);
    BOOST_TEST(msg.find("[2, 3]") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(max_over_an_empty_axis_throws_shape_error) {
  BOOST_CHECK_THROW(max(zeros<double>({2, 0}), 1), ShapeError);
  // Over a non-empty axis an empty tensor is fine: the result is empty too.
  BOOST_TEST(max(zeros<double>({2, 0}), 0).shape() == Shape({0}));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D a = leaf({2, 3});
  r.push_back({"sum: axis out of range",
               raises<ShapeError>("sum", {"axis 2 is out of range", "dimension 2"}),
               [a] { sum(a, {2}); },
               {a}});
  r.push_back({"sum: repeated axis",
               raises<ShapeError>("sum", {"axes [0, 0] name the same axis twice", "shape [2, 3]"}),
               [a] {
                 sum(a, {0, 0});
               },
               {a}});
  r.push_back({"sum: negative axis out of range",
               raises<ShapeError>("sum", {"axis -3 is out of range"}),
               [a] { sum(a, {-3}); },
               {a}});
  r.push_back({"mean: axis out of range",
               raises<ShapeError>("mean", {"axis 5 is out of range"}),
               [a] { mean(a, {5}); },
               {a}});
  r.push_back({"max: axis out of range",
               raises<ShapeError>("max", {"axis 2 is out of range"}),
               [a] { xgrad::max(a, 2); },
               {a}});
  r.push_back({"max: over an empty axis",
               raises<ShapeError>("max", {"axis 0 of extent 0", "shape [0, 3]"}), [] {
                 xgrad::max(zeros<double>({0, 3}), 0);
               }});
  r.push_back(
      {"sum: undefined", raises<ValueError>("sum", {"input is undefined"}), [u] { sum(u); }});
  r.push_back(
      {"mean: undefined", raises<ValueError>("mean", {"input is undefined"}), [u] { mean(u); }});
  r.push_back({"sum over axes: undefined", raises<ValueError>("sum", {"input is undefined"}),
               [u] { sum(u, {0}); }});
  r.push_back({"max: undefined", raises<ValueError>("max", {"input is undefined"}),
               [u] { xgrad::max(u, 0); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_reduce
