// Elementwise ops: values, NumPy broadcasting, gradients reduced to each
// input's shape (checked numerically with gradcheck), bad inputs, and the
// rule that float and double tensors never mix.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xoperation.hpp>

#include "test_util.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/broadcast.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_elementwise)

using namespace xgrad;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;
using xgrad_test::passes_gradcheck;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// `values` reshaped (nested braces with one element per row are ambiguous).
template <class T>
xt::xarray<T> shaped(xt::xarray<T> values, const Shape& shape) {
  values.reshape(shape);
  return values;
}

// Gradcheck inputs: uniform in [lo, hi), reproducible.
Tensor<double> random_input(const Shape& shape, Generator& gen, double lo, double hi) {
  return rand<double>(shape, gen, lo, hi, true);
}

// ---- compile-time rule: no float/double mixing ----

template <class A, class B, class = void>
struct can_add : std::false_type {};
template <class A, class B>
struct can_add<A, B, std::void_t<decltype(add(std::declval<A>(), std::declval<B>()))>>
    : std::true_type {};

template <class A, class B, class = void>
struct can_multiply : std::false_type {};
template <class A, class B>
struct can_multiply<A, B, std::void_t<decltype(std::declval<A>() * std::declval<B>())>>
    : std::true_type {};

static_assert(can_add<Tensor<float>, Tensor<float>>::value, "add(float, float) must compile");
static_assert(!can_add<Tensor<float>, Tensor<double>>::value,
              "add(Tensor<float>, Tensor<double>) must not compile");
static_assert(!can_multiply<Tensor<double>, Tensor<float>>::value,
              "Tensor<double> * Tensor<float> must not compile");
static_assert(can_multiply<Tensor<float>, double>::value,
              "Tensor<float> * double literal must compile");

// ---- tables ----

using BinaryFn = Tensor<double> (*)(const Tensor<double>&, const Tensor<double>&);
struct NamedBinary {
  const char* name;
  BinaryFn fn;
  double b_lo;  // lower bound of b's random values (div needs b away from 0)
};
const NamedBinary kBinaryOps[] = {
    {"add", [](const Tensor<double>& a, const Tensor<double>& b) { return a + b; }, -2},
    {"sub", [](const Tensor<double>& a, const Tensor<double>& b) { return a - b; }, -2},
    {"mul", [](const Tensor<double>& a, const Tensor<double>& b) { return a * b; }, -2},
    {"div", [](const Tensor<double>& a, const Tensor<double>& b) { return a / b; }, 0.5},
    {"minimum", [](const Tensor<double>& a, const Tensor<double>& b) { return minimum(a, b); }, -2},
    {"maximum", [](const Tensor<double>& a, const Tensor<double>& b) { return maximum(a, b); }, -2},
};

struct ShapePair {
  Shape a, b;
};
const ShapePair kBroadcastCases[] = {
    {{2, 3}, {2, 3}},        // same shape: the fast path
    {{3}, {2, 3}},           // a missing leading axis
    {{2, 3}, {3}},           //
    {{}, {2, 3}},            // 0-d scalar vs matrix
    {{2, 3}, {}},            //
    {{1, 3}, {2, 1}},        // row vs column: both broadcast
    {{2, 1, 4}, {2, 1, 1}},  // [B,1,T] * [B,1,1]
    {{1, 1}, {2, 3}},        // [1,1]
    {{2, 3}, {1, 1}},        //
    {{2, 1, 4}, {3, 1}},     // the general odometer path on both sides
};

}  // namespace

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE_TEMPLATE(binary_ops_on_equal_shapes, T, xgrad_test::Reals) {
  const auto a = tensor<T>({1, -2, 3, 0.5});
  const auto b = tensor<T>({2, 4, -1, 0.25});
  const struct {
    const char* name;
    Tensor<T> result;
    xt::xarray<T> expected;
  } cases[] = {
      {"add", add(a, b), {3, 2, 2, 0.75}},           {"sub", sub(a, b), {-1, -6, 4, 0.25}},
      {"mul", mul(a, b), {2, -8, -3, 0.125}},        {"div", div(a, b), {0.5, -0.5, -3, 2}},
      {"minimum", minimum(a, b), {1, -2, -1, 0.25}}, {"maximum", maximum(a, b), {2, 4, 3, 0.5}},
      {"operator+", a + b, {3, 2, 2, 0.75}},         {"operator-", a - b, {-1, -6, 4, 0.25}},
      {"operator*", a * b, {2, -8, -3, 0.125}},      {"operator/", a / b, {0.5, -0.5, -3, 2}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(equal_arrays(c.result.data(), c.expected)); }
  }
}

// The scalar is a double literal: it converts to T, so this also compiles for float.
BOOST_AUTO_TEST_CASE_TEMPLATE(scalar_ops_and_operators_with_double_literals, T, xgrad_test::Reals) {
  const auto a = tensor<T>({1, -2, 4});
  const struct {
    const char* name;
    Tensor<T> result;
    xt::xarray<T> expected;
  } cases[] = {
      {"a + 2.5", a + 2.5, {3.5, 0.5, 6.5}},
      {"2.5 + a", 2.5 + a, {3.5, 0.5, 6.5}},
      {"a - 2.5", a - 2.5, {-1.5, -4.5, 1.5}},
      {"2.5 - a", 2.5 - a, {1.5, 4.5, -1.5}},
      {"a * 2.5", a * 2.5, {2.5, -5, 10}},
      {"2.5 * a", 2.5 * a, {2.5, -5, 10}},
      {"a / 2.0", a / 2.0, {0.5, -1, 2}},
      {"2.0 / a", 2.0 / a, {2, -1, 0.5}},
      {"-a", -a, {-1, 2, -4}},
      {"add(a, 2.5)", add(a, 2.5), {3.5, 0.5, 6.5}},
      {"sub(a, 2.5)", sub(a, 2.5), {-1.5, -4.5, 1.5}},
      {"sub(2.5, a)", sub(2.5, a), {1.5, 4.5, -1.5}},
      {"mul(a, 2.5)", mul(a, 2.5), {2.5, -5, 10}},
      {"div(a, 2.0)", div(a, 2.0), {0.5, -1, 2}},
      {"div(2.0, a)", div(2.0, a), {2, -1, 0.5}},
      {"neg(a)", neg(a), {-1, 2, -4}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(equal_arrays(c.result.data(), c.expected)); }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(unary_math, T, xgrad_test::Reals) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const struct {
    const char* name;
    Tensor<T> result;
    xt::xarray<T> expected;
  } cases[] = {
      {"pow 2", pow(tensor<T>({1.5, -2, 3}), 2.0), {2.25, 4, 9}},
      {"pow 3", pow(tensor<T>({1.5, -2, 3}), 3.0), {3.375, -8, 27}},
      {"pow 0.5", pow(tensor<T>({4, 2.25, 0}), 0.5), {2, 1.5, 0}},
      {"pow -1", pow(tensor<T>({2, -4, 0.5}), -1.0), {0.5, -0.25, 2}},
      {"pow 0", pow(tensor<T>({0, -3, nan}), 0.0), {1, 1, 1}},
      // Reference values: correctly rounded e and ln 4.
      {"exp", exp(tensor<T>({0, 1, -inf, inf})), {1, T(2.718281828459045), 0, inf}},
      {"log", log(tensor<T>({1, 4, inf})), {0, T(1.3862943611198906), inf}},
      {"sqrt", sqrt(tensor<T>({4, 0.25, 0, inf})), {2, 0.5, 0, inf}},
      {"abs", abs(tensor<T>({-1.5, 0, 2, -inf})), {1.5, 0, 2, inf}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(equal_arrays(c.result.data(), c.expected)); }
  }
}

// As in PyTorch: out-of-domain inputs give -inf / NaN, not an exception.
BOOST_AUTO_TEST_CASE_TEMPLATE(log_and_sqrt_outside_their_domain_give_inf_or_nan, T,
                              xgrad_test::Reals) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  BOOST_TEST(equal_arrays(log(tensor<T>({0, -1, nan})).data(), xt::xarray<T>({-inf, nan, nan})));
  BOOST_TEST(equal_arrays(sqrt(tensor<T>({-1, nan})).data(), xt::xarray<T>({nan, nan})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(clamp_family, T, xgrad_test::Reals) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const auto x = tensor<T>({-2, -0.5, 0, 0.5, 2, nan});
  BOOST_TEST(equal_arrays(clamp(x, -1.0, 1.0).data(), xt::xarray<T>({-1, -0.5, 0, 0.5, 1, nan})));
  BOOST_TEST(equal_arrays(clamp_min(x, 0.0).data(), xt::xarray<T>({0, 0, 0, 0.5, 2, nan})));
  BOOST_TEST(equal_arrays(clamp_max(x, 0.0).data(), xt::xarray<T>({-2, -0.5, 0, 0, 0, nan})));
  // lo == hi is allowed: everything becomes that value.
  BOOST_TEST(equal_arrays(clamp(x, 0.25, 0.25).data(),
                          xt::xarray<T>({0.25, 0.25, 0.25, 0.25, 0.25, nan})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(minimum_and_maximum_propagate_nan, T, xgrad_test::Reals) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const auto a = tensor<T>({nan, 1, nan});
  const auto b = tensor<T>({1, nan, nan});
  BOOST_TEST(equal_arrays(minimum(a, b).data(), xt::xarray<T>({nan, nan, nan})));
  BOOST_TEST(equal_arrays(maximum(a, b).data(), xt::xarray<T>({nan, nan, nan})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(where_selects_and_broadcasts_all_three, T, xgrad_test::Reals) {
  const xt::xarray<bool> same = {true, false, true};
  BOOST_TEST(equal_arrays(where(same, tensor<T>({1, 2, 3}), tensor<T>({-1, -2, -3})).data(),
                          xt::xarray<T>({1, -2, 3})));
  // condition [2, 1], a [3], b 0-d -> [2, 3]
  const auto column = shaped<bool>({true, false}, {2, 1});
  BOOST_TEST(equal_arrays(where(column, tensor<T>({1, 2, 3}), scalar<T>(9)).data(),
                          xt::xarray<T>({{1, 2, 3}, {9, 9, 9}})));
}

// Unqualified calls with any value category also see xt::where through ADL;
// they must still resolve to xgrad::where.
BOOST_AUTO_TEST_CASE(where_accepts_expressions_and_non_const_conditions) {
  auto x = tensor<double>({-1, 2, -3}, true);
  auto zero = zeros<double>({3});
  const auto relu_like = where(x.data() > 0.0, x, zero);
  BOOST_TEST(equal_arrays(relu_like.data(), xt::xarray<double>({0, 2, 0})));
  xt::xarray<bool> mutable_condition = {false, true, true};
  BOOST_TEST(
      equal_arrays(where(mutable_condition, x, zero).data(), xt::xarray<double>({0, 2, -3})));
  // An explicit element type, as in where<double>(...), names T.
  BOOST_TEST(equal_arrays(where<double>(mutable_condition, zero, x).data(),
                          xt::xarray<double>({-1, 0, 0})));
  BOOST_TEST(equal_arrays(where(xt::xarray<bool>({true, false, false}), x * 2.0, x).data(),
                          xt::xarray<double>({-2, 2, -3})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(broadcasting_forward, T, xgrad_test::Reals) {
  const auto row = tensor<T>({1, 2, 3});                        // [3]
  const auto matrix = tensor<T>({{10, 20, 30}, {40, 50, 60}});  // [2, 3]
  BOOST_TEST(equal_arrays((row + matrix).data(), xt::xarray<T>({{11, 22, 33}, {41, 52, 63}})));
  BOOST_TEST(equal_arrays((matrix - row).data(), xt::xarray<T>({{9, 18, 27}, {39, 48, 57}})));
  BOOST_TEST(
      equal_arrays((scalar<T>(2) * matrix).data(), xt::xarray<T>({{20, 40, 60}, {80, 100, 120}})));
  const auto r = tensor<T>({{1, 2, 3}});  // [1, 3]
  const Tensor<T> c(shaped<T>({1, 10}, {2, 1}));
  BOOST_TEST(equal_arrays((r * c).data(), xt::xarray<T>({{1, 2, 3}, {10, 20, 30}})));
  BOOST_TEST(equal_arrays((Tensor<T>(shaped<T>({2}, {1, 1})) / matrix).data(),
                          xt::xarray<T>({{0.2, 0.1, T(2) / T(30)}, {0.05, 0.04, T(2) / T(60)}})));
}

// Every broadcast case of the table against xtensor's own broadcasting.
BOOST_AUTO_TEST_CASE(broadcasting_agrees_with_xtensor_for_every_shape_pair) {
  Generator gen(7);
  for (const auto& s : kBroadcastCases) {
    const auto a = rand<double>(s.a, gen, -2.0, 2.0), b = rand<double>(s.b, gen, 0.5, 2.0);
    BOOST_TEST_CONTEXT(to_string(s.a) << " with " << to_string(s.b)) {
      BOOST_TEST(equal_arrays((a + b).data(), xt::xarray<double>(a.data() + b.data())));
      BOOST_TEST(equal_arrays((a - b).data(), xt::xarray<double>(a.data() - b.data())));
      BOOST_TEST(equal_arrays((a * b).data(), xt::xarray<double>(a.data() * b.data())));
      BOOST_TEST(equal_arrays((a / b).data(), xt::xarray<double>(a.data() / b.data())));
      BOOST_TEST(
          equal_arrays(minimum(a, b).data(), xt::xarray<double>(xt::minimum(a.data(), b.data()))));
      BOOST_TEST(
          equal_arrays(maximum(a, b).data(), xt::xarray<double>(xt::maximum(a.data(), b.data()))));
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_tensors_give_empty_results) {
  const auto e = zeros<double>({0, 3});
  BOOST_TEST((e + tensor<double>({1, 2, 3})).shape() == Shape({0, 3}));
  BOOST_TEST((e * scalar<double>(2)).shape() == Shape({0, 3}));
  BOOST_TEST(exp(e).shape() == Shape({0, 3}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(binary_ops_pass_gradcheck_for_every_broadcast_case) {
  Generator gen(1);
  for (const auto& op : kBinaryOps) {
    for (const auto& s : kBroadcastCases) {
      const auto a = random_input(s.a, gen, -2, 2), b = random_input(s.b, gen, op.b_lo, 2);
      BOOST_TEST_CONTEXT(op.name << " " << to_string(s.a) << " with " << to_string(s.b)) {
        BOOST_TEST(passes_gradcheck([&](const auto& in) { return op.fn(in[0], in[1]); }, {a, b}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unary_and_scalar_ops_pass_gradcheck) {
  using UnaryFn = Tensor<double> (*)(const Tensor<double>&);
  const struct {
    const char* name;
    UnaryFn fn;
    double lo, hi;  // input range: inside the op's domain
  } cases[] = {
      {"neg", [](const Tensor<double>& x) { return -x; }, -2, 2},
      {"a + s", [](const Tensor<double>& x) { return x + 2.5; }, -2, 2},
      {"a - s", [](const Tensor<double>& x) { return x - 2.5; }, -2, 2},
      {"s - a", [](const Tensor<double>& x) { return 2.5 - x; }, -2, 2},
      {"a * s", [](const Tensor<double>& x) { return x * 2.5; }, -2, 2},
      {"a / s", [](const Tensor<double>& x) { return x / 2.5; }, -2, 2},
      {"s / a", [](const Tensor<double>& x) { return 2.5 / x; }, 0.5, 2},
      {"pow 2", [](const Tensor<double>& x) { return pow(x, 2.0); }, -2, 2},
      {"pow 3", [](const Tensor<double>& x) { return pow(x, 3.0); }, -2, 2},
      {"pow 0.5", [](const Tensor<double>& x) { return pow(x, 0.5); }, 0.5, 2},
      {"pow -1.5", [](const Tensor<double>& x) { return pow(x, -1.5); }, 0.5, 2},
      {"pow 0", [](const Tensor<double>& x) { return pow(x, 0.0); }, -2, 2},
      {"exp", [](const Tensor<double>& x) { return exp(x); }, -2, 2},
      {"log", [](const Tensor<double>& x) { return log(x); }, 0.5, 3},
      {"sqrt", [](const Tensor<double>& x) { return sqrt(x); }, 0.5, 3},
      {"abs", [](const Tensor<double>& x) { return abs(x); }, -2, 2},
      {"clamp", [](const Tensor<double>& x) { return clamp(x, -0.5, 0.5); }, -2, 2},
      {"clamp_min", [](const Tensor<double>& x) { return clamp_min(x, 0.3); }, -2, 2},
      {"clamp_max", [](const Tensor<double>& x) { return clamp_max(x, 0.3); }, -2, 2},
  };
  Generator gen(2);
  for (const auto& c : cases) {
    const auto x = random_input({2, 3}, gen, c.lo, c.hi);
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(passes_gradcheck([&](const auto& in) { return c.fn(in[0]); }, {x}));
    }
  }
}

BOOST_AUTO_TEST_CASE(where_passes_gradcheck_with_broadcasting) {
  Generator gen(3);
  const auto column = shaped<bool>({true, false}, {2, 1});  // [2, 1]
  const auto a = random_input({3}, gen, -2, 2), b = random_input({}, gen, -2, 2);
  BOOST_TEST(passes_gradcheck([&](const auto& in) { return where(column, in[0], in[1]); }, {a, b}));
  const xt::xarray<bool> same = {{true, false, true}, {false, false, true}};
  const auto c = random_input({2, 3}, gen, -2, 2), d = random_input({2, 3}, gen, -2, 2);
  BOOST_TEST(passes_gradcheck([&](const auto& in) { return where(same, in[0], in[1]); }, {c, d}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_of_row_plus_matrix_sums_over_rows, T, xgrad_test::Reals) {
  auto row = tensor<T>({1, 2, 3}, true);
  auto matrix = tensor<T>({{10, 20, 30}, {40, 50, 60}}, true);
  xgrad_test::backward_ones(row * matrix);
  BOOST_TEST(equal_arrays(row.grad().data(), xt::xarray<T>({50, 70, 90})));
  BOOST_TEST(equal_arrays(matrix.grad().data(), xt::xarray<T>({{1, 2, 3}, {1, 2, 3}})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_of_batch_by_time_times_batch_scale, T, xgrad_test::Reals) {
  Tensor<T> x(shaped<T>({1, 2, 3, 4, 5, 6}, {2, 1, 3}), true);  // [B, 1, T]
  Tensor<T> s(shaped<T>({10, 100}, {2, 1, 1}), true);           // [B, 1, 1]
  xgrad_test::backward_ones(x * s);
  BOOST_TEST(equal_arrays(x.grad().data(), shaped<T>({10, 10, 10, 100, 100, 100}, {2, 1, 3})));
  BOOST_TEST(equal_arrays(s.grad().data(), shaped<T>({6, 15}, {2, 1, 1})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_of_a_0d_scalar_is_0d, T, xgrad_test::Reals) {
  auto s = scalar<T>(3, true);
  auto m = tensor<T>({{1, 2}, {3, 4}}, true);
  xgrad_test::backward_ones(s * m);
  BOOST_TEST(s.grad().dim() == 0u);
  BOOST_TEST(s.grad().item() == T(10));
  BOOST_TEST(equal_arrays(m.grad().data(), xt::xarray<T>({{3, 3}, {3, 3}})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gradient_of_x_times_x_counts_both_uses, T, xgrad_test::Reals) {
  auto x = tensor<T>({1, -2, 3}, true);
  xgrad_test::backward_ones(x * x);
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({2, -4, 6})));
}

// A [1, 3] operand broadcast against [0, 3] contributed to no output element:
// its gradient is zeros of its own shape (summing over the empty axis used to
// crash).
BOOST_AUTO_TEST_CASE(broadcast_against_an_empty_tensor_gives_a_zero_gradient) {
  for (const auto& op : kBinaryOps) {
    BOOST_TEST_CONTEXT(op.name) {
      auto a = ones<double>({1, 3}, true);
      auto b = zeros<double>({0, 3}, true);
      sum(op.fn(a, b)).backward();
      BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{0, 0, 0}})));
      BOOST_TEST(b.grad().shape() == Shape({0, 3}));
    }
  }
}

BOOST_AUTO_TEST_CASE(reduce_to_shape_of_an_empty_gradient_is_zeros) {
  const auto g = xt::xarray<double>::from_shape({2, 0, 3});
  BOOST_TEST(equal_arrays(reduce_to_shape(g, Shape{1, 3}), xt::xarray<double>({{0, 0, 0}})));
  BOOST_TEST(reduce_to_shape(g, Shape{0, 1}).shape() == Shape({0, 1}));
}

BOOST_AUTO_TEST_CASE(reduce_to_shape_rejects_a_target_that_does_not_broadcast) {
  const xt::xarray<double> g = xt::zeros<double>({2, 3});
  BOOST_CHECK_THROW(reduce_to_shape(g, Shape{2, 2}), ShapeError);
  BOOST_CHECK_THROW(reduce_to_shape(g, Shape{1, 2, 3}), ShapeError);  // more axes than grad
  BOOST_TEST(contains(message_of([&] { reduce_to_shape(g, Shape{2, 2}); }), "[2, 2]"));
}

// d(s / a)/da = -s / a^2 = -1e-10 here, although a^2 = 1e40 overflows float.
BOOST_AUTO_TEST_CASE(scalar_over_tensor_gradient_survives_a_squared_overflow) {
  auto a = tensor<float>({1e20f}, true);
  (1e30f / a).backward(xt::xarray<float>({1.0f}));
  // Computed as -(s / a) / a in float: two roundings (relative 2u = 1.2e-7).
  BOOST_TEST(a.grad().item() == -1e-10f, boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(minimum_and_maximum_split_ties_evenly, T, xgrad_test::Reals) {
  auto a = tensor<T>({1, 2, 3}, true);
  auto b = tensor<T>({1, 3, 2}, true);
  xgrad_test::backward_ones(minimum(a, b));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<T>({0.5, 1, 0})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<T>({0.5, 0, 1})));
  a.zero_grad();
  b.zero_grad();
  xgrad_test::backward_ones(maximum(a, b));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<T>({0.5, 0, 1})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<T>({0.5, 1, 0})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(clamp_gradient_passes_at_the_bounds_inclusive, T, xgrad_test::Reals) {
  auto x = tensor<T>({-2, -1, 0, 1, 2}, true);
  xgrad_test::backward_ones(clamp(x, -1.0, 1.0));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({0, 1, 1, 1, 0})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(abs_gradient_is_the_sign_and_zero_at_zero, T, xgrad_test::Reals) {
  auto x = tensor<T>({-2, 0, 3}, true);
  xgrad_test::backward_ones(abs(x));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({-1, 0, 1})));
}

// d(x^0)/dx is 0 everywhere, including x = 0 (no 0 * inf = NaN).
BOOST_AUTO_TEST_CASE_TEMPLATE(pow_zero_has_zero_gradient_even_at_zero, T, xgrad_test::Reals) {
  auto x = tensor<T>({0, 2}, true);
  xgrad_test::backward_ones(pow(x, 0.0));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({0, 0})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(where_routes_the_gradient_by_the_condition, T, xgrad_test::Reals) {
  auto a = tensor<T>({1, 2, 3}, true);
  auto b = scalar<T>(9, true);
  const auto column = shaped<bool>({true, false}, {2, 1});
  xgrad_test::backward_ones(where(column, a, b));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<T>({1, 1, 1})));
  BOOST_TEST(b.grad().item() == T(3));
}

// Masking is a multiply by a constant 0/1 tensor: masked rows get no gradient.
BOOST_AUTO_TEST_CASE_TEMPLATE(mask_multiply_zeroes_values_and_gradients, T, xgrad_test::Reals) {
  auto x = tensor<T>({{1, 2, 3}, {4, 5, 6}}, true);
  const Tensor<T> row_mask(shaped<T>({0, 1}, {2, 1}));
  const auto y = x * row_mask;
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<T>({{0, 0, 0}, {4, 5, 6}})));
  xgrad_test::backward_ones(y);
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({{0, 0, 0}, {1, 1, 1}})));
}

BOOST_AUTO_TEST_CASE(only_inputs_that_require_grad_receive_one) {
  auto a = tensor<double>({1, 2});
  auto b = tensor<double>({3, 4}, true);
  xgrad_test::backward_ones(a * b);
  BOOST_TEST(!a.grad().defined());
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({1, 2})));
}

BOOST_AUTO_TEST_CASE(nothing_is_recorded_under_no_grad) {
  auto x = tensor<double>({1, 2}, true);
  NoGradGuard guard;
  BOOST_TEST(!(x * x).requires_grad());
  BOOST_TEST(!exp(x).requires_grad());
  BOOST_TEST(!clamp(x, 0.0, 1.0).requires_grad());
}

// mul saved its inputs: changing one in place before backward is detected.
BOOST_AUTO_TEST_CASE(modifying_a_saved_input_in_place_makes_backward_throw) {
  auto a = tensor<double>({1, 2}, true);
  auto b = tensor<double>({3, 4});
  const auto y = a * b;
  b.fill_(0);
  BOOST_CHECK_THROW(xgrad_test::backward_ones(y), StateError);
}

BOOST_AUTO_TEST_CASE(ops_record_their_names) {
  auto x = tensor<double>({1, 2}, true);
  const std::pair<Tensor<double>, std::string> cases[] = {
      {x + x, "AddBackward"},
      {x - x, "SubBackward"},
      {x * x, "MulBackward"},
      {x / x, "DivBackward"},
      {x + 1.0, "AddBackward"},
      {1.0 - x, "RsubBackward"},
      {x * 2.0, "MulBackward"},
      {x / 2.0, "DivBackward"},
      {2.0 / x, "RdivBackward"},
      {-x, "NegBackward"},
      {pow(x, 2.0), "PowBackward"},
      {exp(x), "ExpBackward"},
      {log(x), "LogBackward"},
      {sqrt(x), "SqrtBackward"},
      {abs(x), "AbsBackward"},
      {clamp(x, 0.0, 1.0), "ClampBackward"},
      {minimum(x, x), "MinimumBackward"},
      {maximum(x, x), "MaximumBackward"},
      {where(xt::xarray<bool>({true, false}), x, x), "WhereBackward"},
  };
  for (const auto& c : cases) BOOST_TEST(c.first.grad_fn_name() == c.second);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_inputs)

BOOST_AUTO_TEST_CASE(infinite_clamp_bounds_are_fine) {
  // (Bounds that are NaN or crossed: the bad-call table below.)
  const auto x = tensor<double>({1, 2});
  BOOST_TEST(equal_arrays(clamp(x, -kInf, kInf).data(), x.data()));
}

BOOST_AUTO_TEST_CASE(float_and_double_tensors_do_not_mix) {
  // Checked at compile time by the static_asserts at the top of this file; the
  // traits are re-checked here so the rule shows up in the test report.
  BOOST_TEST(!(can_add<Tensor<float>, Tensor<double>>::value));
  BOOST_TEST(!(can_multiply<Tensor<double>, Tensor<float>>::value));
  BOOST_TEST((can_add<Tensor<double>, Tensor<double>>::value));
  BOOST_TEST((can_multiply<Tensor<float>, double>::value));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  const D a = leaf({2, 3}), b = leaf({4, 3});
  // An undefined operand is named by the op's Function ("AddBackward").
  using Binary = D (*)(const D&, const D&);
  struct BinaryOp {
    const char* name;
    const char* function;
    Binary f;
  };
  const BinaryOp binary[] = {{"add", "AddBackward", &add<double>},
                             {"sub", "SubBackward", &sub<double>},
                             {"mul", "MulBackward", &mul<double>},
                             {"div", "DivBackward", &xgrad::div<double>},
                             {"minimum", "MinimumBackward", &minimum<double>},
                             {"maximum", "MaximumBackward", &maximum<double>}};
  for (const BinaryOp& op : binary) {
    const Binary f = op.f;
    r.push_back({std::string(op.name) + ": shapes that do not broadcast",
                 raises<ShapeError>(op.name, {"shapes [2, 3] and [4, 3] do not broadcast"}),
                 [f, a, b] { f(a, b); },
                 {a, b}});
    r.push_back({std::string(op.name) + ": undefined second operand",
                 raises<ValueError>(op.function, {"input tensor 1 is undefined"}),
                 [f, a, u] { f(a, u); },
                 {a}});
  }
  add_undefined_input_rows(r, {{"neg", "NegBackward", &neg<double>},
                               {"exp", "ExpBackward", &xgrad::exp<double>},
                               {"log", "LogBackward", &xgrad::log<double>},
                               {"sqrt", "SqrtBackward", &xgrad::sqrt<double>},
                               {"abs", "AbsBackward", &xgrad::abs<double>}});
  r.push_back({"pow: undefined", raises<ValueError>("PowBackward", {"input tensor 0 is undefined"}),
               [u] { xgrad::pow(u, 2.0); }});
  r.push_back({"add scalar: undefined",
               raises<ValueError>("AddBackward", {"input tensor 0 is undefined"}),
               [u] { add(u, 1.0); }});
  r.push_back({"clamp: lo above hi",
               raises<ValueError>("clamp", {"lo (1) must not exceed hi (0)"}),
               [a] { clamp(a, 1.0, 0.0); },
               {a}});
  r.push_back({"clamp: NaN lo",
               raises<ValueError>("clamp", {"lo must not be NaN"}),
               [a] { clamp(a, kNaN, 1.0); },
               {a}});
  r.push_back({"clamp: NaN hi",
               raises<ValueError>("clamp", {"hi must not be NaN"}),
               [a] { clamp(a, 0.0, kNaN); },
               {a}});
  r.push_back({"clamp_min: NaN",
               raises<ValueError>("clamp_min", {"lo must not be NaN"}),
               [a] { clamp_min(a, kNaN); },
               {a}});
  r.push_back({"clamp_max: NaN",
               raises<ValueError>("clamp_max", {"hi must not be NaN"}),
               [a] { clamp_max(a, kNaN); },
               {a}});
  r.push_back({"where: condition of another shape",
               raises<ShapeError>("where", {"shapes [5] and [2, 3] do not broadcast"}),
               [a] { where(xt::xarray<bool>::from_shape({5}), a, a); },
               {a}});
  r.push_back({"where: branches that do not broadcast",
               raises<ShapeError>("where", {"[2, 3]", "[4, 3]", "do not broadcast"}),
               [a, b] {
                 where(xt::xarray<bool>::from_shape({2, 3}), a, b);
               },
               {a, b}});
  r.push_back({"where: undefined branch",
               raises<ValueError>("WhereBackward", {"input tensor 1 is undefined"}),
               [a, u] {
                 where(xt::xarray<bool>::from_shape({2, 3}), a, u);
               },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_elementwise
