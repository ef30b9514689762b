// softmax / log_softmax along any axis and the losses (mse, nll, fused
// cross-entropy): exact values, stability for huge inputs, gradients and bad
// inputs.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <xtensor/xbuilder.hpp>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_softmax_loss)

using namespace xgrad;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

namespace {

const Reduction kReductions[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

// Softmax of `x` along `axis` by the definition, in long double.
xt::xarray<double> reference_softmax(const xt::xarray<double>& x, std::size_t axis) {
  xt::xarray<double> out = xt::zeros<double>(x.shape());
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (std::size_t i = axis + 1; i < x.dimension(); ++i) inner *= x.shape()[i];
  const std::size_t n = x.shape()[axis];
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t i = 0; i < inner; ++i) {
      long double sum = 0;
      for (std::size_t k = 0; k < n; ++k)
        sum += std::exp(static_cast<long double>(x.data()[(o * n + k) * inner + i]));
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t at = (o * n + k) * inner + i;
        out.data()[at] =
            static_cast<double>(std::exp(static_cast<long double>(x.data()[at])) / sum);
      }
    }
  }
  return out;
}

// Checks that `f` throws E whose message contains `needle`.
template <class E>
void check_throws(const std::function<void()>& f, const std::string& needle) {
  BOOST_CHECK_THROW(f(), E);
  try {
    f();
  } catch (const E& e) {
    BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(softmax_values)

BOOST_AUTO_TEST_CASE_TEMPLATE(exact_points_and_huge_inputs, T, xgrad_test::Reals) {
  const T inf = std::numeric_limits<T>::infinity();
  BOOST_TEST(equal_arrays(softmax(tensor<T>({0, 0})).data(), xt::xarray<T>({0.5, 0.5})));
  BOOST_TEST(equal_arrays(
      log_softmax(tensor<T>({0, 0, 0, 0})).data(),
      xt::xarray<T>({-std::log(T(4)), -std::log(T(4)), -std::log(T(4)), -std::log(T(4))})));
  // The maximum is subtracted first: no overflow, exact results.
  BOOST_TEST(equal_arrays(softmax(tensor<T>({1000, 0})).data(), xt::xarray<T>({1, 0})));
  BOOST_TEST(equal_arrays(log_softmax(tensor<T>({1000, 0})).data(), xt::xarray<T>({0, -1000})));
  BOOST_TEST(equal_arrays(softmax(tensor<T>({-1000, -1000})).data(), xt::xarray<T>({0.5, 0.5})));
  // -inf is a valid logit: probability 0.
  BOOST_TEST(equal_arrays(softmax(tensor<T>({-inf, 0})).data(), xt::xarray<T>({0, 1})));
  BOOST_TEST(equal_arrays(log_softmax(tensor<T>({-inf, 0})).data(), xt::xarray<T>({-inf, 0})));
}

BOOST_AUTO_TEST_CASE(zero_dim_input_is_one_lane_of_one) {
  BOOST_TEST(softmax(scalar<double>(3.5)).item() == 1.0);
  BOOST_TEST(log_softmax(scalar<double>(3.5)).item() == 0.0);
  BOOST_TEST(softmax(scalar<double>(3.5), 0).dim() == 0u);
}

// Every axis of a 3-d tensor, negative axes included, against the definition.
// An empty axis has no lanes to normalize; every other axis of an empty tensor
// has lanes of nothing. Both give empty results and gradients (the sanitizer
// build checks that no pointer arithmetic happens on the empty data).
BOOST_AUTO_TEST_CASE(an_empty_axis_gives_an_empty_result_and_gradient) {
  for (const Shape& shape : {Shape{0, 3}, Shape{3, 0}, Shape{2, 0, 4}}) {
    for (std::ptrdiff_t axis = 0; axis < static_cast<std::ptrdiff_t>(shape.size()); ++axis) {
      BOOST_TEST_CONTEXT(to_string(shape) << " axis " << axis) {
        auto x = zeros<double>(shape, true);
        auto y = softmax(x, axis);
        auto z = log_softmax(x, axis);
        BOOST_TEST(y.shape() == shape);
        BOOST_TEST(z.shape() == shape);
        (sum(y) + sum(z)).backward();
        BOOST_TEST(x.grad().shape() == shape);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_axis_matches_the_definition) {
  Generator gen(21);
  const auto x = rand<double>({2, 3, 4}, gen, -3.0, 3.0);
  for (std::ptrdiff_t axis = -3; axis < 3; ++axis) {
    const auto ref =
        reference_softmax(x.data(), static_cast<std::size_t>(axis < 0 ? axis + 3 : axis));
    BOOST_TEST_CONTEXT("axis " << axis) {
      // Double rounding of a few operations: well below 1e-15.
      BOOST_TEST(close_arrays(softmax(x, axis).data(), ref, 1e-15));
      BOOST_TEST(
          close_arrays(log_softmax(x, axis).data(), xt::xarray<double>(xt::log(ref)), 1e-14));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(softmax_gradients)

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_pass_gradcheck_on_every_axis) {
  Generator gen(22);
  for (std::ptrdiff_t axis : {0, 1, 2, -1}) {
    const auto x = rand<double>({2, 3, 4}, gen, -3.0, 3.0, true);
    BOOST_TEST_CONTEXT("axis " << axis) {
      BOOST_TEST(passes_gradcheck([&](const auto& in) { return softmax(in[0], axis); }, {x}));
      BOOST_TEST(passes_gradcheck([&](const auto& in) { return log_softmax(in[0], axis); }, {x}));
    }
  }
}

// sum(softmax) is constant, so its gradient is exactly 0; the gradient of
// sum(log_softmax) over a lane of n is 1 - n * softmax.
BOOST_AUTO_TEST_CASE_TEMPLATE(exact_gradients_for_huge_inputs, T, xgrad_test::Reals) {
  auto x = tensor<T>({1000, 0}, true);
  xgrad_test::backward_ones(softmax(x));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({0, 0})));
  x.zero_grad();
  xgrad_test::backward_ones(log_softmax(x));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<T>({-1, 1})));
}

BOOST_AUTO_TEST_CASE(ops_record_their_names) {
  auto x = tensor<double>({1, 2}, true);
  BOOST_TEST(std::string(softmax(x).grad_fn_name()) == "SoftmaxBackward");
  BOOST_TEST(std::string(log_softmax(x).grad_fn_name()) == "LogSoftmaxBackward");
}

BOOST_AUTO_TEST_CASE(axis_out_of_range_throws_shape_error) {
  const auto x = zeros<double>({2, 3});
  check_throws<ShapeError>([&] { softmax(x, 2); }, "softmax: axis 2");
  check_throws<ShapeError>([&] { log_softmax(x, -3); }, "log_softmax: axis -3");
  check_throws<ShapeError>([&] { softmax(scalar<double>(1), 1); }, "softmax: axis 1");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loss_values)

BOOST_AUTO_TEST_CASE_TEMPLATE(mse_loss_for_each_reduction, T, xgrad_test::Reals) {
  const auto input = tensor<T>({1, 2, 3}), target = tensor<T>({0, 2, 5});
  BOOST_TEST(
      equal_arrays(mse_loss(input, target, Reduction::None).data(), xt::xarray<T>({1, 0, 4})));
  BOOST_TEST(mse_loss(input, target).item() == T(5.0 / 3.0));
  BOOST_TEST(mse_loss(input, target, Reduction::Sum).item() == T(5));
  BOOST_TEST(mse_loss(input, target).dim() == 0u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(nll_loss_for_each_reduction, T, xgrad_test::Reals) {
  const auto log_probs = tensor<T>({{-1, -2, -3}, {-0.5, -1.5, -2.5}});
  const Labels labels = {2, 0};
  BOOST_TEST(
      equal_arrays(nll_loss(log_probs, labels, Reduction::None).data(), xt::xarray<T>({3, 0.5})));
  BOOST_TEST(nll_loss(log_probs, labels).item() == T(1.75));
  BOOST_TEST(nll_loss(log_probs, labels, Reduction::Sum).item() == T(3.5));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cross_entropy_exact_values, T, xgrad_test::Reals) {
  // Uniform logits: -log(1/4) = log 4 for any label.
  BOOST_TEST(cross_entropy(tensor<T>({{0, 0, 0, 0}}), Labels({1})).item() == std::log(T(4)));
  // Huge logits stay finite and exact: losses 0 and 1000.
  const auto huge = tensor<T>({{1000, 0}, {0, 1000}});
  BOOST_TEST(equal_arrays(cross_entropy(huge, Labels({0, 0}), Reduction::None).data(),
                          xt::xarray<T>({0, 1000})));
  BOOST_TEST(cross_entropy(huge, Labels({0, 0})).item() == T(500));
  BOOST_TEST(cross_entropy(huge, Labels({0, 0}), Reduction::Sum).item() == T(1000));
}

// Fused cross-entropy agrees with nll_loss(log_softmax(x)) for every reduction.
BOOST_AUTO_TEST_CASE(cross_entropy_equals_nll_of_log_softmax) {
  Generator gen(31);
  const auto logits = rand<double>({5, 4}, gen, -5.0, 5.0);
  const Labels labels = {0, 3, 1, 1, 2};
  for (const auto r : kReductions) {
    BOOST_TEST(close_arrays(cross_entropy(logits, labels, r).data(),
                            nll_loss(log_softmax(logits, 1), labels, r).data(), 1e-14));
  }
}

// An empty batch: the sum is 0 and the mean is NaN (0 / 0), as in PyTorch.
BOOST_AUTO_TEST_CASE(empty_batch) {
  const auto logits = zeros<double>({0, 3});
  const Labels none = xt::zeros<std::int64_t>({0});
  BOOST_TEST(cross_entropy(logits, none, Reduction::Sum).item() == 0.0);
  BOOST_TEST(std::isnan(cross_entropy(logits, none).item()));
  BOOST_TEST(cross_entropy(logits, none, Reduction::None).shape() == Shape({0}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loss_gradients)

BOOST_AUTO_TEST_CASE(losses_pass_gradcheck_for_every_reduction) {
  Generator gen(41);
  const Labels labels = {0, 3, 4, 1};
  for (const auto r : kReductions) {
    BOOST_TEST_CONTEXT("reduction " << static_cast<int>(r)) {
      const auto a = rand<double>({2, 3}, gen, -2.0, 2.0, true);
      const auto b = rand<double>({2, 3}, gen, -2.0, 2.0, true);
      BOOST_TEST(
          passes_gradcheck([&](const auto& in) { return mse_loss(in[0], in[1], r); }, {a, b}));
      const auto logits = rand<double>({4, 5}, gen, -3.0, 3.0, true);
      BOOST_TEST(passes_gradcheck([&](const auto& in) { return cross_entropy(in[0], labels, r); },
                                  {logits}));
      BOOST_TEST(
          passes_gradcheck([&](const auto& in) { return nll_loss(in[0], labels, r); }, {logits}));
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(exact_gradients, T, xgrad_test::Reals) {
  auto input = tensor<T>({1, 2, 3}, true), target = tensor<T>({0, 2, 5}, true);
  mse_loss(input, target, Reduction::Sum).backward();  // 2 * (input - target)
  BOOST_TEST(equal_arrays(input.grad().data(), xt::xarray<T>({2, 0, -4})));
  BOOST_TEST(equal_arrays(target.grad().data(), xt::xarray<T>({-2, 0, 4})));

  auto log_probs = tensor<T>({{-1, -2, -3}, {-0.5, -1.5, -2.5}}, true);
  nll_loss(log_probs, Labels({2, 0})).backward();  // -1/N at each label
  BOOST_TEST(equal_arrays(log_probs.grad().data(), xt::xarray<T>({{0, 0, -0.5}, {-0.5, 0, 0}})));

  // (softmax - onehot) / N, exact even for huge logits.
  auto logits = tensor<T>({{0, 0}, {1000, 0}}, true);
  cross_entropy(logits, Labels({0, 1})).backward();
  BOOST_TEST(equal_arrays(logits.grad().data(), xt::xarray<T>({{-0.25, 0.25}, {0.5, -0.5}})));
}

BOOST_AUTO_TEST_CASE(ops_record_their_names) {
  auto x = tensor<double>({{1, 2}}, true);
  BOOST_TEST(std::string(mse_loss(x, x).grad_fn_name()) == "MseLossBackward");
  BOOST_TEST(std::string(nll_loss(x, Labels({1})).grad_fn_name()) == "NllLossBackward");
  BOOST_TEST(std::string(cross_entropy(x, Labels({1})).grad_fn_name()) == "CrossEntropyBackward");
}

BOOST_AUTO_TEST_CASE(nothing_is_recorded_under_no_grad) {
  auto x = tensor<double>({{1, 2}}, true);
  NoGradGuard guard;
  BOOST_TEST(!cross_entropy(x, Labels({1})).requires_grad());
  BOOST_TEST(!mse_loss(x, x).requires_grad());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loss_bad_inputs)

BOOST_AUTO_TEST_CASE(mse_loss_requires_identical_shapes) {
  check_throws<ShapeError>(
      [] {
        mse_loss(zeros<double>({3}), zeros<double>({1, 3}));
      },
      "mse_loss: input shape [3] and target shape [1, 3]");
}

BOOST_AUTO_TEST_CASE(class_losses_check_ranks_sizes_and_label_range) {
  using Loss = Tensor<double> (*)(const Tensor<double>&, const Labels&, Reduction);
  const std::pair<Loss, std::string> losses[] = {{&cross_entropy<double>, "cross_entropy"},
                                                 {&nll_loss<double>, "nll_loss"}};
  const auto scores = zeros<double>({2, 3});
  for (const auto& entry : losses) {
    // Plain references, not a structured binding: lambdas capture these (C++17).
    const Loss loss = entry.first;
    const std::string& name = entry.second;
    BOOST_TEST_CONTEXT(name) {
      check_throws<ShapeError>([&] { loss(zeros<double>({3}), Labels({0}), Reduction::Mean); },
                               name + ": expected input of shape [N, C], got [3]");
      check_throws<ShapeError>(
          [&] {
            loss(scores, Labels({{0, 1}}), Reduction::Mean);
          },
          name + ": expected labels of shape [N], got [1, 2]");
      check_throws<ShapeError>(
          [&] {
            loss(scores, Labels({0, 1, 2}), Reduction::Mean);
          },
          name + ": input has 2 rows");
      check_throws<ValueError>(
          [&] {
            loss(scores, Labels({0, 3}), Reduction::Mean);
          },
          name + ": label at position 1 is 3, outside [0, 3)");
      check_throws<ValueError>(
          [&] {
            loss(scores, Labels({-1, 0}), Reduction::Mean);
          },
          name + ": label at position 0 is -1, outside [0, 3)");
      check_throws<ValueError>(
          [&] {
            loss(scores, Labels({0, 0}), static_cast<Reduction>(7));
          },
          name + ": unknown reduction 7");
    }
  }
  check_throws<ValueError>(
      [] { mse_loss(zeros<double>({1}), zeros<double>({1}), static_cast<Reduction>(7)); },
      "mse_loss: unknown reduction 7");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D a = leaf({2, 3});
  r.push_back({"softmax: axis out of range",
               raises<ShapeError>("softmax", {"axis 2 is out of range"}),
               [a] { softmax(a, 2); },
               {a}});
  r.push_back({"log_softmax: axis out of range",
               raises<ShapeError>("log_softmax", {"axis -3 is out of range"}),
               [a] { log_softmax(a, -3); },
               {a}});
  r.push_back({"softmax: undefined",
               raises<ValueError>("SoftmaxBackward", {"input tensor 0 is undefined"}),
               [u] { softmax(u, 0); }});
  r.push_back({"mse_loss: shapes differ",
               raises<ShapeError>("mse_loss", {"input shape [2, 3]", "target shape [3, 2]"}),
               [a] {
                 mse_loss(a, zeros<double>({3, 2}));
               },
               {a}});
  r.push_back(undefined_argument("mse_loss", "target", [a, u] { mse_loss(a, u); }, {a}));
  r.push_back({"mse_loss: unknown reduction",
               raises<ValueError>("mse_loss", {"unknown reduction 7"}),
               [a] { mse_loss(a, a, static_cast<Reduction>(7)); },
               {a}});
  const Labels good = {0, 2};
  r.push_back({"cross_entropy: label out of range",
               raises<ValueError>("cross_entropy", {"label at position 1 is 3", "outside [0, 3)"}),
               [a] {
                 cross_entropy(a, Labels({0, 3}));
               },
               {a}});
  r.push_back({"cross_entropy: negative label",
               raises<ValueError>("cross_entropy", {"label at position 0 is -1"}),
               [a] {
                 cross_entropy(a, Labels({-1, 0}));
               },
               {a}});
  r.push_back({"cross_entropy: too many labels",
               raises<ShapeError>("cross_entropy", {"input has 2 rows", "3 labels"}),
               [a] {
                 cross_entropy(a, Labels({0, 1, 2}));
               },
               {a}});
  r.push_back({"cross_entropy: 1-D input",
               raises<ShapeError>("cross_entropy", {"expected input of shape [N, C]", "got [3]"}),
               [good] { cross_entropy(zeros<double>({3}), good); }});
  r.push_back({"cross_entropy: 2-D labels",
               raises<ShapeError>("cross_entropy", {"expected labels of shape [N]", "got [1, 2]"}),
               [a] {
                 cross_entropy(a, Labels({{0, 1}}));
               },
               {a}});
  r.push_back({"cross_entropy: undefined logits",
               raises<ValueError>("cross_entropy", {"logits is undefined"}),
               [u, good] { cross_entropy(u, good); }});
  r.push_back({"cross_entropy: unknown reduction",
               raises<ValueError>("cross_entropy", {"unknown reduction 9"}),
               [a, good] { cross_entropy(a, good, static_cast<Reduction>(9)); },
               {a}});
  r.push_back({"nll_loss: label out of range",
               raises<ValueError>("nll_loss", {"label at position 1 is 7"}),
               [a] {
                 nll_loss(a, Labels({0, 7}));
               },
               {a}});
  r.push_back({"nll_loss: undefined", raises<ValueError>("nll_loss", {"log_probs is undefined"}),
               [u, good] { nll_loss(u, good); }});
  r.push_back({"nll_loss: labels of another length",
               raises<ShapeError>("nll_loss", {"input has 2 rows", "1 labels"}),
               [a] { nll_loss(a, Labels({0})); },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_softmax_loss
