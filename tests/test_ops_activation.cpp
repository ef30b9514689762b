// Activations: relu, sigmoid, tanh. Exact values, stability for huge inputs,
// gradients (gradcheck and exact), and reuse of the saved output.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <xtensor/xbuilder.hpp>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_activation)

using namespace xgrad;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE_TEMPLATE(relu_keeps_positives_and_nan, T, xgrad_test::Reals) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const auto x = tensor<T>({-2, -0.0, 0, 1.5, inf, -inf, nan});
  BOOST_TEST(equal_arrays(relu(x).data(), xt::xarray<T>({0, 0, 0, 1.5, inf, 0, nan})));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(sigmoid_and_tanh_exact_points, T, xgrad_test::Reals) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  const auto x = tensor<T>({0, 1000, -1000, inf, -inf, nan});
  BOOST_TEST(equal_arrays(sigmoid(x).data(), xt::xarray<T>({0.5, 1, 0, 1, 0, nan})));
  BOOST_TEST(equal_arrays(tanh(x).data(), xt::xarray<T>({0, 1, -1, 1, -1, nan})));
}

// Against the textbook formulas evaluated in long double; 2 ulp of T.
BOOST_AUTO_TEST_CASE_TEMPLATE(sigmoid_and_tanh_match_the_formulas, T, xgrad_test::Reals) {
  const xt::xarray<T> x = {-20, -3, -0.5, 0.25, 2, 15};
  xt::xarray<T> sig = xt::zeros<T>(x.shape()), th = xt::zeros<T>(x.shape());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double v = x(i);
    sig(i) = static_cast<T>(1.0L / (1.0L + std::exp(-v)));
    th(i) = static_cast<T>((std::exp(v) - std::exp(-v)) / (std::exp(v) + std::exp(-v)));
  }
  const double tol = 2 * std::numeric_limits<T>::epsilon();
  BOOST_TEST(close_arrays(sigmoid(Tensor<T>(x)).data(), sig, tol));
  BOOST_TEST(close_arrays(tanh(Tensor<T>(x)).data(), th, tol));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gradients)

BOOST_AUTO_TEST_CASE(activations_pass_gradcheck) {
  using UnaryFn = Tensor<double> (*)(const Tensor<double>&);
  const struct {
    const char* name;
    UnaryFn fn;
  } cases[] = {
      {"relu", [](const Tensor<double>& x) { return relu(x); }},
      {"sigmoid", [](const Tensor<double>& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor<double>& x) { return tanh(x); }},
  };
  Generator gen(11);
  for (const auto& c : cases) {
    // [-4, 4) covers both branches of the stable sigmoid; relu's kink at 0 is
    // hit with probability ~0 by the random values.
    const auto x = rand<double>({3, 4}, gen, -4.0, 4.0, true);
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(passes_gradcheck([&](const auto& in) { return c.fn(in[0]); }, {x}));
    }
  }
}

// Exact derivatives at exactly representable points: relu' = [x > 0],
// sigmoid'(0) = 1/4, tanh'(0) = 1, and 0 (not NaN) where saturated.
BOOST_AUTO_TEST_CASE_TEMPLATE(exact_gradients_including_saturation, T, xgrad_test::Reals) {
  auto x = tensor<T>({-1, 0, 2}, true);
  xgrad_test::backward_ones(relu(x));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({0, 0, 1})));

  auto s = tensor<T>({0, 1000, -1000}, true);
  xgrad_test::backward_ones(sigmoid(s));
  BOOST_TEST(equal_arrays(s.grad().data(), xt::xarray<T>({0.25, 0, 0})));

  auto t = tensor<T>({0, 1000, -1000}, true);
  xgrad_test::backward_ones(tanh(t));
  BOOST_TEST(equal_arrays(t.grad().data(), xt::xarray<T>({1, 0, 0})));
}

BOOST_AUTO_TEST_CASE(ops_record_their_names) {
  auto x = tensor<double>({1, 2}, true);
  BOOST_TEST(std::string(relu(x).grad_fn_name()) == "ReluBackward");
  BOOST_TEST(std::string(sigmoid(x).grad_fn_name()) == "SigmoidBackward");
  BOOST_TEST(std::string(tanh(x).grad_fn_name()) == "TanhBackward");
}

BOOST_AUTO_TEST_CASE(nothing_is_recorded_under_no_grad) {
  auto x = tensor<double>({1, 2}, true);
  NoGradGuard guard;
  BOOST_TEST(!relu(x).requires_grad());
  BOOST_TEST(!sigmoid(x).requires_grad());
  BOOST_TEST(!tanh(x).requires_grad());
}

// Backward uses the saved output: overwriting it in place is detected.
BOOST_AUTO_TEST_CASE(modifying_the_output_in_place_makes_backward_throw) {
  auto x = tensor<double>({1, 2}, true);
  for (auto y : {relu(x), sigmoid(x), tanh(x)}) {
    {
      NoGradGuard guard;
      y.mutable_data().fill(0);
    }
    BOOST_CHECK_THROW(xgrad_test::backward_ones(y), StateError);
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  // An undefined input is named by the op's Function ("ReluBackward").
  add_undefined_input_rows(r, {{"relu", "ReluBackward", &relu<double>},
                               {"sigmoid", "SigmoidBackward", &sigmoid<double>},
                               {"tanh", "TanhBackward", &xgrad::tanh<double>}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_activation
