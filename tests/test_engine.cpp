// The tape: recording, backward order, accumulation, release, no-grad, detach,
// custom functions, version counters, deep chains and node lifetime.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <thread>
#include <utility>
#include <vector>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "test_util.hpp"
#include "xgrad/engine.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_engine)

using namespace xgrad;
using xgrad_test::equal_arrays;

namespace {

// A user-defined op: y = x^2, saving x through the context.
struct Square : Function<Square> {
  static constexpr const char* name = "SquareBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x) {
    ctx.save_for_backward({x});
    return x.data() * x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return {xt::xarray<T>(T(2) * ctx.saved(0) * g)};
  }
};

// y = scale * x with a non-tensor argument passed through to forward.
struct Scale : Function<Scale> {
  static constexpr const char* name = "ScaleBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, double s) {
    ctx.saved_scalars.push_back(s);
    return x.data() * T(s);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return {xt::xarray<T>(g * T(ctx.saved_scalars[0]))};
  }
};

// A deliberately wrong backward (x instead of 2x) that gradcheck must catch.
struct WrongSquare : Function<WrongSquare> {
  static constexpr const char* name = "WrongSquareBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x) {
    return Square::forward(ctx, x);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return {xt::xarray<T>(ctx.saved(0) * g)};
  }
};

// The forward of the broken ops below: y = x, nothing saved.
struct IdentityForward {
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& x) {
    return x.data();
  }
};

// A broken backward that returns a gradient of the wrong shape.
struct BadShape : Function<BadShape>, IdentityForward {
  static constexpr const char* name = "BadShapeBackward";
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>&) {
    return {xt::xarray<T>(xt::zeros<T>({7}))};
  }
};

// A broken backward that returns no gradient at all.
struct NoGrads : Function<NoGrads>, IdentityForward {
  static constexpr const char* name = "NoGradsBackward";
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>&) {
    return {};
  }
};

// Saves its output, as exp/tanh/sigmoid do.
struct Exp : Function<Exp> {
  static constexpr const char* name = "ExpBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x) {
    ctx.save_output();
    return xt::exp(x.data());
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return {xt::xarray<T>(ctx.output() * g)};
  }
};

// Square whose backward throws while `fail` is set, to test recovery.
struct Flaky : Function<Flaky> {
  static constexpr const char* name = "FlakyBackward";
  static inline bool fail = false;
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x) {
    return Square::forward(ctx, x);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    if (fail) throw ValueError("FlakyBackward: asked to fail");
    return Square::backward(ctx, g);
  }
};

// A broken backward that returns two gradients for one input.
struct TwoGrads : Function<TwoGrads>, IdentityForward {
  static constexpr const char* name = "TwoGradsBackward";
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return {g, g};
  }
};

// A jump from -max to +max at 0 whose backward claims a zero derivative: the
// finite difference there overflows to +inf.
struct Jump : Function<Jump> {
  static constexpr const char* name = "JumpBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& x) {
    return xt::where(x.data() >= T(0), std::numeric_limits<T>::max(),
                     -std::numeric_limits<T>::max());
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return {xt::xarray<T>(xt::zeros<T>(g.shape()))};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(recording)

BOOST_AUTO_TEST_CASE(records_a_node_only_when_an_input_requires_grad) {
  auto a = tensor<float>({1, 2});
  auto b = tensor<float>({3, 4}, true);
  BOOST_TEST(!(a * a).requires_grad());
  BOOST_TEST((a * a).is_leaf());
  auto c = a * b;
  BOOST_TEST(c.requires_grad());
  BOOST_TEST(!c.is_leaf());
  BOOST_TEST(std::string(c.grad_fn_name()) == "MulBackward");
}

BOOST_AUTO_TEST_CASE(no_grad_guard_stops_recording_and_nests) {
  auto x = tensor<double>({1, 2}, true);
  {
    NoGradGuard outer;
    {
      NoGradGuard inner;
      BOOST_TEST(!GradMode::is_enabled());
    }
    BOOST_TEST(!GradMode::is_enabled());  // the inner guard restored "off"
    BOOST_TEST(!(x * x).requires_grad());
  }
  BOOST_TEST(GradMode::is_enabled());
  BOOST_TEST((x * x).requires_grad());
}

BOOST_AUTO_TEST_CASE(grad_mode_is_thread_local) {
  NoGradGuard off;
  bool other_thread_enabled = false;
  std::thread t([&] { other_thread_enabled = GradMode::is_enabled(); });
  t.join();
  BOOST_TEST(other_thread_enabled);
  BOOST_TEST(!GradMode::is_enabled());
}

BOOST_AUTO_TEST_CASE(detach_shares_data_without_history) {
  auto x = tensor<double>({1, 2}, true);
  auto y = x * 3.0;
  auto d = y.detach();
  BOOST_TEST(!d.requires_grad());
  BOOST_TEST(d.is_leaf());
  BOOST_TEST(d.storage() == y.storage());  // same data, no copy
  BOOST_TEST(equal_arrays(d.data(), xt::xarray<double>({3, 6})));
}

BOOST_AUTO_TEST_CASE(clone_copies_data_and_passes_the_gradient) {
  auto x = tensor<double>({1, 2}, true);
  auto c = x.clone();
  BOOST_TEST(c.storage() != x.storage());
  BOOST_TEST(std::string(c.grad_fn_name()) == "CloneBackward");
  sum(c * c).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({2, 4})));
}

BOOST_AUTO_TEST_CASE(copies_of_a_handle_alias) {
  auto x = tensor<float>({1, 2});
  auto alias = x;
  alias.set_requires_grad(true);
  BOOST_TEST(x.requires_grad());
  {
    NoGradGuard g;
    alias.fill_(5);
  }
  BOOST_TEST(x.data()(0) == 5.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backward_pass)

BOOST_AUTO_TEST_CASE(reused_tensor_gets_all_its_gradient_paths) {
  // b = a + a; c = b * b  =>  c = 4a^2, dc/da = 8a.
  auto a = tensor<double>({1, -2, 3}, true);
  auto b = a + a;
  auto c = b * b;
  c.backward(xt::xarray<double>({1, 1, 1}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({8, -16, 24})));
}

BOOST_AUTO_TEST_CASE(diamond_graph_runs_each_node_once) {
  // y = x*2; z = y*y + y  => dz/dx = (2y + 1) * 2
  auto x = tensor<double>({1, 2}, true);
  auto y = Scale::apply(x, 2.0);
  auto z = y * y + y;
  z.backward(xt::xarray<double>({1, 1}));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({10, 18})));
}

BOOST_AUTO_TEST_CASE(leaf_gradients_accumulate_until_zeroed) {
  auto x = tensor<double>({1, 2}, true);
  sum(x * x).backward();
  sum(x * x).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({4, 8})));
  x.zero_grad();
  BOOST_TEST(!x.grad().defined());
  sum(x * x).backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({2, 4})));
}

BOOST_AUTO_TEST_CASE(intermediate_gradients_are_not_kept) {
  auto x = tensor<double>({1, 2}, true);
  auto y = x * x;
  sum(y).backward();
  BOOST_TEST(!y.grad().defined());
  BOOST_TEST(x.grad().defined());
}

BOOST_AUTO_TEST_CASE(backward_of_a_leaf_sets_its_gradient) {
  auto x = tensor<double>({1, 2}, true);
  x.backward(xt::xarray<double>({3, 4}));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({3, 4})));
}

BOOST_AUTO_TEST_CASE(retain_graph_allows_a_second_backward) {
  auto x = tensor<double>({3}, true);
  auto y = sum(Square::apply(x));
  y.backward(/*retain_graph=*/true);
  y.backward();
  BOOST_TEST(x.grad().item() == 12.0);  // 2 * (2 * 3)
}

BOOST_AUTO_TEST_CASE(second_backward_without_retain_graph_throws) {
  auto x = tensor<double>({3}, true);
  auto y = sum(Square::apply(x));
  y.backward();
  BOOST_CHECK_EXCEPTION(y.backward(), StateError, xgrad_test::mentions<StateError>("second time"));
  BOOST_TEST(x.grad().item() == 6.0);  // unchanged by the failed call
}

BOOST_AUTO_TEST_CASE(custom_function_with_scalar_argument) {
  auto x = tensor<double>({1, 2}, true);
  auto y = Scale::apply(x, -1.5);
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>({-1.5, -3})));
  y.backward(xt::xarray<double>({1, 1}));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({-1.5, -1.5})));
}

BOOST_AUTO_TEST_CASE(custom_function_saving_its_output) {
  auto x = tensor<double>({0, 1}, true);
  auto y = Exp::apply(x);
  y.backward(xt::xarray<double>({1, 1}));
  BOOST_TEST(equal_arrays(x.grad().data(), y.data()));
}

BOOST_AUTO_TEST_CASE(custom_function_passes_gradcheck) {
  auto x = tensor<double>({0.5, -1.25, 2}, true);
  BOOST_TEST(xgrad_test::passes_gradcheck(
      [](const std::vector<Tensor<double>>& in) { return Square::apply(in[0]); }, {x}));
}

BOOST_AUTO_TEST_CASE(gradcheck_catches_a_wrong_backward) {
  auto x = tensor<double>({0.5, -1.25, 2}, true);
  const auto result = gradcheck(
      [](const std::vector<Tensor<double>>& in) { return WrongSquare::apply(in[0]); }, {x});
  BOOST_TEST(!result.passed);
  // The worst element is the largest |x|: numeric 2x = 4, analytic x = 2.
  BOOST_TEST(result.index == 2u);
  // The central difference of x^2 is 2x exactly but for cancellation in
  // (x + e)^2 - (x - e)^2: about u x^2 / e = 1e-10 relative, below 1e-6.
  BOOST_TEST(result.numeric == 4.0, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(result.analytic == 2.0);
  BOOST_TEST(result.message.find("failed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(modifying_a_saved_tensor_in_place_is_detected) {
  auto x = tensor<double>({1, 2}, true);
  auto y = sum(Square::apply(x));
  {
    NoGradGuard g;
    x.mutable_data() += 1.0;
  }
  BOOST_CHECK_EXCEPTION(y.backward(), StateError, xgrad_test::mentions<StateError>("in-place"));
  BOOST_TEST(!x.grad().defined());  // nothing was accumulated
}

BOOST_AUTO_TEST_CASE(modifying_a_saved_output_in_place_is_detected) {
  auto x = tensor<double>({1, 2}, true);
  auto y = Exp::apply(x);
  y.mutable_data() *= 2.0;
  BOOST_CHECK_THROW(y.backward(xt::xarray<double>({1, 1})), StateError);
}

BOOST_AUTO_TEST_CASE(failed_backward_leaves_gradients_unchanged) {
  auto x = tensor<double>({1, 2}, true);
  sum(x * x).backward();
  const xt::xarray<double> before = x.grad().data();
  auto bad = sum(x * 3.0) + sum(BadShape::apply(x));
  BOOST_CHECK_THROW(bad.backward(), ShapeError);
  BOOST_TEST(equal_arrays(x.grad().data(), before));
}

BOOST_AUTO_TEST_CASE(wrong_gradient_count_is_reported) {
  auto x = tensor<double>({1, 2}, true);
  BOOST_CHECK_THROW(sum(NoGrads::apply(x)).backward(), ValueError);
}

BOOST_AUTO_TEST_CASE(too_many_gradients_are_reported_with_the_op_name) {
  auto x = tensor<double>({1, 2}, true);
  auto y = sum(TwoGrads::apply(x));
  BOOST_CHECK_THROW(y.backward(), ValueError);
  BOOST_TEST(!x.grad().defined());
  const std::string msg = xgrad_test::message_of([&] { sum(TwoGrads::apply(x)).backward(); });
  BOOST_TEST(xgrad_test::contains(msg, "TwoGradsBackward"));
  BOOST_TEST(xgrad_test::contains(msg, "2 gradients for 1"));
}

// A backward that throws after other nodes already ran changes no leaf
// gradient, and with retain_graph the same graph backpropagates afterwards.
BOOST_AUTO_TEST_CASE(a_throwing_backward_leaves_grads_unchanged_and_the_graph_usable) {
  auto x = tensor<double>({1, 2}, true);
  auto w = tensor<double>({3}, true);
  auto y = sum(Flaky::apply(x) * w + x * 3.0);
  Flaky::fail = true;
  BOOST_CHECK_THROW(y.backward(/*retain_graph=*/true), ValueError);
  Flaky::fail = false;
  BOOST_TEST(!x.grad().defined());
  BOOST_TEST(!w.grad().defined());
  y.backward(/*retain_graph=*/true);
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({9, 15})));  // 2 x w + 3
  BOOST_TEST(equal_arrays(w.grad().data(), xt::xarray<double>({5})));      // 1 + 4
  y.backward();
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({18, 30})));
}

// grad() shares the accumulated gradient, so a user can resize it in place.
// Backward then refuses before committing anything (not halfway through).
BOOST_AUTO_TEST_CASE(a_resized_leaf_gradient_is_refused_before_any_commit) {
  auto x = tensor<double>({1, 2}, true);
  auto w = tensor<double>({3}, true);
  sum(x).backward();
  x.grad().mutable_data() = xt::zeros<double>({5});
  BOOST_CHECK_THROW(sum(x * w).backward(), ShapeError);
  BOOST_TEST(!w.grad().defined());
  BOOST_TEST(x.grad().shape() == Shape({5}));
  BOOST_CHECK_THROW(x.backward(xt::xarray<double>({1, 1})), ShapeError);  // leaf root too
}

BOOST_AUTO_TEST_CASE(deep_chain_of_100000_ops_runs_and_frees) {
  const auto before = live_node_count();
  {
    auto x = tensor<double>({1.0}, true);
    auto y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.0;
    BOOST_TEST(live_node_count() - before == 100000);
    y.backward(xt::xarray<double>({1.0}));
    BOOST_TEST(x.grad().item() == 1.0);
  }
  BOOST_TEST(live_node_count() == before);
}

BOOST_AUTO_TEST_CASE(deep_chain_freed_without_backward) {
  const auto before = live_node_count();
  {
    auto x = tensor<float>({1.0f}, true);
    auto y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0f;
  }  // dropping the last handle must not recurse 100,000 deep
  BOOST_TEST(live_node_count() == before);
}

BOOST_AUTO_TEST_CASE(no_node_alive_after_backward_and_drop) {
  const auto before = live_node_count();
  auto x = tensor<double>({1, 2}, true);
  {
    auto loss = sum(Square::apply(x * 2.0) + x);
    BOOST_TEST(live_node_count() > before);
    loss.backward();
  }
  BOOST_TEST(live_node_count() == before);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(backward_on_a_non_scalar_needs_a_gradient) {
  auto x = tensor<double>({1, 2}, true);
  BOOST_CHECK_THROW((x * x).backward(), ShapeError);
}

BOOST_AUTO_TEST_CASE(backward_gradient_must_match_the_output_shape) {
  auto x = tensor<double>({1, 2}, true);
  BOOST_CHECK_THROW((x * x).backward(xt::xarray<double>({1, 1, 1})), ShapeError);
}

BOOST_AUTO_TEST_CASE(backward_without_requires_grad_throws) {
  auto x = tensor<double>({1, 2});
  BOOST_CHECK_THROW(sum(x).backward(), StateError);
}

BOOST_AUTO_TEST_CASE(item_needs_exactly_one_element) {
  BOOST_CHECK_THROW(tensor<float>({1, 2}).item(), ShapeError);
  BOOST_CHECK_THROW(zeros<float>({0}).item(), ShapeError);
  BOOST_TEST(full<float>({1, 1}, 4.0f).item() == 4.0f);
  BOOST_TEST(scalar<double>(2.5).item() == 2.5);
}

BOOST_AUTO_TEST_CASE(requires_grad_of_a_non_leaf_cannot_change) {
  auto x = tensor<double>({1}, true);
  auto y = x * 2.0;
  BOOST_CHECK_THROW(y.set_requires_grad(false), StateError);
}

BOOST_AUTO_TEST_CASE(in_place_update_of_a_grad_leaf_needs_no_grad) {
  auto x = tensor<double>({1}, true);
  BOOST_CHECK_THROW(x.fill_(0), StateError);
  BOOST_TEST(x.data()(0) == 1.0);
  NoGradGuard g;
  x.fill_(0);
  BOOST_TEST(x.data()(0) == 0.0);
}

BOOST_AUTO_TEST_CASE(copy_needs_the_same_shape) {
  auto x = zeros<float>({2});
  BOOST_CHECK_THROW(x.copy_(zeros<float>({3})), ShapeError);
  x.copy_(tensor<float>({1, 2}));
  BOOST_TEST(equal_arrays(x.data(), xt::xarray<float>({1, 2})));
}

BOOST_AUTO_TEST_CASE(undefined_tensor_use_throws) {
  Tensor<float> undefined;
  BOOST_TEST(!undefined.defined());
  BOOST_CHECK_THROW(undefined.data(), StateError);
  BOOST_CHECK_THROW(undefined.backward(), StateError);
  BOOST_CHECK_THROW(Square::apply(undefined), ValueError);
}

BOOST_AUTO_TEST_CASE(every_op_refuses_an_undefined_tensor_naming_op_and_argument) {
  const Tensor<double> u;
  const auto x = ones<double>({2, 2});
  const Labels labels = {0, 1};
  const std::pair<std::function<void()>, std::string> calls[] = {
      {[&] { sum(u); }, "sum: input"},
      {[&] { mean(u, {0}); }, "mean: input"},
      {[&] { max(u, 0); }, "max: input"},
      {[&] { transpose(u); }, "transpose: input"},
      {[&] { reshape(u, {1}); }, "reshape: input"},
      {[&] { index_select(u, 0, {0}); }, "index_select: input"},
      {[&] { matmul(x, u); }, "matmul: b"},
      {[&] { linear(x, u); }, "linear: weight"},
      {[&] { mse_loss(x, u); }, "mse_loss: target"},
      {[&] { nll_loss(u, labels); }, "nll_loss: log_probs"},
      {[&] { cross_entropy(u, labels); }, "cross_entropy: logits"},
  };
  for (const auto& [call, expected] : calls) {
    BOOST_TEST_CONTEXT(expected) {
      BOOST_CHECK_THROW(call(), ValueError);
      BOOST_TEST(xgrad_test::contains(xgrad_test::message_of(call), expected + " is undefined"));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_undefined_input_error_names_the_op) {
  Tensor<double> undefined;
  auto x = tensor<double>({1}, true);
  const std::string msg = xgrad_test::message_of([&] { Square::apply(undefined); });
  BOOST_TEST(xgrad_test::contains(msg, "SquareBackward"));
  BOOST_TEST(xgrad_test::contains(msg, "undefined"));
  BOOST_CHECK_THROW(x * undefined, ValueError);  // also while recording
  BOOST_TEST(xgrad_test::contains(xgrad_test::message_of([&] { x* undefined; }), "input tensor 1"));
}

BOOST_AUTO_TEST_CASE(gradcheck_rejects_bad_arguments) {
  auto x = tensor<double>({1.0}, true);
  auto f = [](const std::vector<Tensor<double>>& in) { return Square::apply(in[0]); };
  BOOST_CHECK_THROW(gradcheck(f, {x}, 0.0), ValueError);
  BOOST_CHECK_THROW(gradcheck(f, {x}, 1e-6, -1.0), ValueError);
  BOOST_CHECK_THROW(gradcheck(f, {tensor<double>({1.0})}), ValueError);
  BOOST_CHECK_THROW(gradcheck(f, {x}, std::numeric_limits<double>::infinity()), ValueError);
  BOOST_CHECK_THROW(gradcheck(f, {x}, std::nan("")), ValueError);
  BOOST_CHECK_THROW(gradcheck(f, {Tensor<double>(), x}), ValueError);
  BOOST_TEST(xgrad_test::contains(xgrad_test::message_of([&] {
                                    gradcheck(f, {Tensor<double>(), x});
                                  }),
                                  "input 0"));
}

// The numeric Jacobian is indexed by the first output's elements: a function
// whose output shape changes between calls must be refused, not read past.
BOOST_AUTO_TEST_CASE(gradcheck_rejects_a_function_whose_output_shape_changes) {
  auto x = tensor<double>({1.0, 2.0}, true);
  int calls = 0;
  const auto grows = [&calls](const std::vector<Tensor<double>>& in) {
    return ++calls == 1 ? sum(in[0]) : in[0] * 1.0;
  };
  BOOST_CHECK_THROW(gradcheck(grows, {x}), ValueError);
}

// NaN compares false against every tolerance; it must fail, not pass.
BOOST_AUTO_TEST_CASE(gradcheck_fails_when_both_gradients_are_nan) {
  auto x = tensor<double>({1.0, 2.0}, true);
  const auto result =
      gradcheck([](const std::vector<Tensor<double>>& in) { return in[0] * std::nan(""); }, {x});
  BOOST_TEST(!result.passed);
  BOOST_TEST(std::isnan(result.numeric));
  BOOST_TEST(std::isnan(result.analytic));
}

BOOST_AUTO_TEST_CASE(gradcheck_fails_on_an_infinite_numeric_derivative) {
  auto x = tensor<double>({0.0}, true);
  const auto result =
      gradcheck([](const std::vector<Tensor<double>>& in) { return Jump::apply(in[0]); }, {x});
  BOOST_TEST(!result.passed);
  BOOST_TEST(std::isinf(result.numeric));
  BOOST_TEST(result.analytic == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

// Every op accepts empty and 0-d tensors, forward and backward. Each entry
// maps x (and a second operand w where the op needs one) to an output.
BOOST_AUTO_TEST_SUITE(edge_shapes)

using UnaryCase = std::pair<const char*, std::function<Tensor<double>(const Tensor<double>&)>>;

// Ops taking x of shape [0, 3] (zero rows, three columns).
std::vector<UnaryCase> ops_on_rows() {
  const auto w = full<double>({1, 3}, 2.0);
  return {
      {"add", [w](const auto& x) { return x + w; }},
      {"sub", [w](const auto& x) { return w - x; }},
      {"mul", [w](const auto& x) { return x * w; }},
      {"div", [w](const auto& x) { return w / x; }},
      {"minimum", [w](const auto& x) { return minimum(x, w); }},
      {"maximum", [w](const auto& x) { return maximum(w, x); }},
      {"where",
       [w](const auto& x) {
         return where(xt::xarray<bool>({true, false, true}), x, w);
       }},
      {"neg", [](const auto& x) { return -x; }},
      {"pow", [](const auto& x) { return pow(x, 3.0); }},
      {"exp", [](const auto& x) { return exp(x); }},
      {"log", [](const auto& x) { return log(x); }},
      {"sqrt", [](const auto& x) { return sqrt(x); }},
      {"abs", [](const auto& x) { return abs(x); }},
      {"clamp", [](const auto& x) { return clamp(x, -1.0, 1.0); }},
      {"relu", [](const auto& x) { return relu(x); }},
      {"sigmoid", [](const auto& x) { return sigmoid(x); }},
      {"tanh", [](const auto& x) { return tanh(x); }},
      {"softmax rows", [](const auto& x) { return softmax(x, 1); }},
      {"softmax columns", [](const auto& x) { return softmax(x, 0); }},
      {"log_softmax", [](const auto& x) { return log_softmax(x, 0); }},
      {"sum axis 0", [](const auto& x) { return sum(x, {0}); }},
      {"mean axis 1", [](const auto& x) { return mean(x, {1}, true); }},
      {"max axis 1", [](const auto& x) { return max(x, 1); }},
      {"transpose", [](const auto& x) { return transpose(x); }},
      {"reshape",
       [](const auto& x) {
         return reshape(x, {3, -1});
       }},
      {"concat",
       [](const auto& x) {
         return concat<double>({x, x}, 0);
       }},
      {"index_select",
       [](const auto& x) {
         return index_select(x, 1, {2, 0, 2});
       }},
      {"matmul",
       [](const auto& x) {
         return matmul(x, ones<double>({3, 2}));
       }},
      {"linear",
       [](const auto& x) {
         return linear(x, ones<double>({2, 3}), ones<double>({2}));
       }},
      {"mse_loss",
       [](const auto& x) {
         return mse_loss(x, zeros<double>({0, 3}), Reduction::Sum);
       }},
      {"clone", [](const auto& x) { return x.clone(); }},
  };
}

BOOST_AUTO_TEST_CASE(every_op_backpropagates_through_an_empty_tensor) {
  for (const auto& [name, op] : ops_on_rows()) {
    BOOST_TEST_CONTEXT(name) {
      auto x = zeros<double>({0, 3}, true);
      sum(op(x)).backward();  // sum over axis 0 and mse_loss give non-empty results
      BOOST_REQUIRE(x.grad().defined());
      BOOST_TEST(x.grad().shape() == Shape({0, 3}));
    }
  }
}

// The [1, 3] operand broadcast against [0, 3] feeds no output element.
BOOST_AUTO_TEST_CASE(an_operand_broadcast_against_an_empty_tensor_gets_zeros) {
  auto x = zeros<double>({0, 3});
  auto w = full<double>({1, 3}, 2.0, true);
  sum(x * w + (w - x)).backward();
  BOOST_TEST(equal_arrays(w.grad().data(), xt::xarray<double>({{0, 0, 0}})));
}

BOOST_AUTO_TEST_CASE(every_elementwise_op_differentiates_a_0d_tensor) {
  const auto w = scalar<double>(2.0);
  const std::vector<UnaryCase> ops = {
      {"add", [w](const auto& x) { return x + w; }},
      {"div", [w](const auto& x) { return w / x; }},
      {"mul broadcast",
       [](const auto& x) {
         return x * tensor<double>({1, -2});
       }},
      {"maximum", [w](const auto& x) { return maximum(x, w); }},
      {"pow", [](const auto& x) { return pow(x, 3.0); }},
      {"log", [](const auto& x) { return log(x); }},
      {"sigmoid", [](const auto& x) { return sigmoid(x); }},
      {"softmax", [](const auto& x) { return softmax(x * 3.0); }},
      {"log_softmax", [](const auto& x) { return log_softmax(x, 0); }},
      {"sum", [](const auto& x) { return sum(x); }},
      {"mean no axes", [](const auto& x) { return mean(x, {}); }},
      {"reshape",
       [](const auto& x) {
         return reshape(x, {1, 1}) * 3.0;
       }},
      {"transpose", [](const auto& x) { return transpose(x, {}) * 3.0; }},
      {"mse_loss", [](const auto& x) { return mse_loss(x, scalar<double>(0.5)); }},
  };
  for (const auto& entry : ops) {
    // Plain references, not a structured binding: the lambda captures op (C++17).
    const auto& name = entry.first;
    const auto& op = entry.second;
    BOOST_TEST_CONTEXT(name) {
      auto x = scalar<double>(1.5, true);
      BOOST_TEST(xgrad_test::passes_gradcheck([&op](const auto& in) { return op(in[0]); }, {x}));
      sum(op(x)).backward();
      BOOST_TEST(x.grad().dim() == 0u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(creation)

BOOST_AUTO_TEST_CASE(factories_fill_as_named) {
  BOOST_TEST(equal_arrays(zeros<float>({2, 2}).data(), xt::xarray<float>({{0, 0}, {0, 0}})));
  BOOST_TEST(equal_arrays(ones<double>({3}).data(), xt::xarray<double>({1, 1, 1})));
  BOOST_TEST(equal_arrays(full<float>({2}, 7.5f).data(), xt::xarray<float>({7.5, 7.5})));
  BOOST_TEST(
      equal_arrays(arange<double>(0, 1, 0.25).data(), xt::xarray<double>({0, 0.25, 0.5, 0.75})));
  BOOST_TEST(ones<float>({2, 3}, true).requires_grad());
}

BOOST_AUTO_TEST_CASE(arange_rejects_bad_steps) {
  BOOST_CHECK_THROW(arange<float>(0, 1, 0), ValueError);
  BOOST_CHECK_THROW(arange<float>(0, 1, -1), ValueError);
  BOOST_CHECK_THROW(arange<double>(0, std::nan(""), 1), ValueError);
}

// Counts beyond size_t used to be cast (undefined behaviour) to 0 elements.
BOOST_AUTO_TEST_CASE(arange_with_too_many_elements_throws) {
  BOOST_CHECK_THROW(arange<float>(0, 1e30f, 1), ValueError);
  BOOST_CHECK_THROW(arange<double>(0, 1, 1e-300), ValueError);
  BOOST_CHECK_THROW(arange<double>(-1e308, 1e308, 1), ValueError);  // stop - start overflows
  BOOST_TEST(
      xgrad_test::contains(xgrad_test::message_of([] { arange<float>(0, 1e30f, 1); }), "arange"));
}

// stop - start overflows float here; the count is taken in double.
BOOST_AUTO_TEST_CASE(arange_counts_in_double) {
  BOOST_TEST(arange<float>(-3e38f, 3e38f, 1e37f).numel() == 61u);
  BOOST_TEST(arange<double>(1, 1, 1).numel() == 0u);
  BOOST_TEST(arange<double>(2, 0, -0.5).numel() == 4u);
}

// An element count that overflows size_t would allocate the wrapped-around
// size under a huge shape.
BOOST_AUTO_TEST_CASE(factories_reject_shapes_with_too_many_elements) {
  const Shape huge{1ull << 33, 1ull << 33};
  Generator g(1);
  BOOST_CHECK_THROW(zeros<float>(huge), ValueError);
  BOOST_CHECK_THROW(ones<double>(huge), ValueError);
  BOOST_CHECK_THROW(full<float>(huge, 1.0f), ValueError);
  BOOST_CHECK_THROW(rand<float>(huge, g), ValueError);
  BOOST_CHECK_THROW(randn<double>(huge, g), ValueError);
  BOOST_CHECK_THROW(randint<float>(0, 2, huge, g), ValueError);
  BOOST_TEST(xgrad_test::contains(xgrad_test::message_of([&] { zeros<float>(huge); }), "zeros"));
  // Empty is fine while the other extents are addressable (their product
  // bounds xtensor's strides and every loop over the shape).
  BOOST_TEST(zeros<float>({1ull << 20, 1ull << 20, 0}).numel() == 0u);
  BOOST_CHECK_THROW(zeros<float>({1ull << 33, 1ull << 33, 0}), ValueError);
}

BOOST_AUTO_TEST_CASE(seeded_generators_are_bit_identical) {
  Generator g1(123), g2(123), g3(124);
  const auto a = randn<float>({4, 5}, g1);
  const auto b = randn<float>({4, 5}, g2);
  const auto c = randn<float>({4, 5}, g3);
  BOOST_TEST(equal_arrays(a.data(), b.data()));
  BOOST_TEST(!equal_arrays(a.data(), c.data()));
  manual_seed(7);
  const auto d = rand<double>({3});
  manual_seed(7);
  BOOST_TEST(equal_arrays(d.data(), rand<double>({3}).data()));
}

BOOST_AUTO_TEST_CASE(random_ranges_hold) {
  Generator g(1);
  const auto u = rand<double>({1000}, g, -2.0, 3.0);
  BOOST_TEST(xt::amin(u.data())() >= -2.0);
  BOOST_TEST(xt::amax(u.data())() < 3.0);
  const auto k = randint<float>(2, 5, {1000}, g);
  BOOST_TEST(xt::amin(k.data())() == 2.0f);
  BOOST_TEST(xt::amax(k.data())() == 4.0f);
  auto p = randperm(10, g);
  std::sort(p.begin(), p.end());
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(p[i] == i);
  BOOST_CHECK_THROW(randint<float>(3, 3, {2}, g), ValueError);
  BOOST_CHECK_THROW(rand<float>({2}, g, 1.0f, 1.0f), ValueError);
  BOOST_CHECK_THROW(randn<float>({2}, g, 0.0f, 0.0f), ValueError);
}

// low + (high - low) * u rounds to high for u near 1 when the range is one
// ulp: half of all draws did before rand clamped below high.
BOOST_AUTO_TEST_CASE(rand_never_returns_high) {
  Generator g(2);
  const float high = std::nextafter(1.0f, 2.0f);
  const auto u = rand<float>({1000}, g, 1.0f, high);
  BOOST_TEST(xt::amax(u.data())() == 1.0f);
}

BOOST_AUTO_TEST_CASE(random_parameters_must_be_finite) {
  Generator g(1);
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_CHECK_THROW(rand<double>({2}, g, 0.0, inf), ValueError);
  BOOST_CHECK_THROW(rand<double>({2}, g, -1e308, 1e308), ValueError);  // high - low overflows
  BOOST_CHECK_THROW(randn<double>({2}, g, 0.0, inf), ValueError);
  BOOST_CHECK_THROW(randn<double>({2}, g, std::nan(""), 1.0), ValueError);
  BOOST_CHECK_THROW(randn<double>({2}, g, inf, 1.0), ValueError);
}

// Above 2^24 float rounds integers: randint<float>(0, 2^24 + 4) could draw
// 2^24 + 3, stored as 2^24 + 4 == high.
BOOST_AUTO_TEST_CASE(randint_bounds_must_be_exact_in_the_element_type) {
  Generator g(1);
  BOOST_CHECK_THROW(randint<float>(0, (1 << 24) + 4, {2}, g), ValueError);
  BOOST_CHECK_THROW(randint<float>(-(1 << 24) - 1, 0, {2}, g), ValueError);
  BOOST_TEST(randint<float>(0, 1 << 24, {2}, g).numel() == 2u);
  BOOST_TEST(randint<double>(0, std::int64_t{1} << 40, {2}, g).numel() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// A user-defined op whose backward returns one gradient too many.
struct TwoGradientsForOne : xgrad::Function<TwoGradientsForOne> {
  static constexpr const char* name = "TwoGradientsForOneBackward";
  template <class T>
  static xt::xarray<T> forward(xgrad::Context<T>&, const xgrad::Tensor<T>& x) {
    return x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(xgrad::Context<T>&, const xt::xarray<T>& g) {
    return gradients(xt::xarray<T>(g), xt::xarray<T>(g));
  }
};

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  // creation
  Generator gen(5);
  r.push_back({"zeros: empty with overflowing extents",
               raises<ValueError>("zeros", {"shape [0, 4294967296, 4294967296]",
                                            "more elements than can be addressed"}),
               [] {
                 zeros<double>({0, std::size_t(1) << 32, std::size_t(1) << 32});
               }});
  r.push_back({"ones: too many elements",
               raises<ValueError>("ones", {"shape [4611686018427387904, 4]",
                                           "more elements than can be addressed"}),
               [] {
                 ones<double>({std::size_t(1) << 62, 4});
               }});
  r.push_back({"full: too many elements",
               raises<ValueError>("full", {"shape [1099511627776, 1099511627776]",
                                           "more elements than can be addressed"}),
               [] {
                 full<double>({std::size_t(1) << 40, std::size_t(1) << 40}, 1.0);
               }});
  r.push_back({"arange: step 0",
               raises<ValueError>("arange", {"step must be a finite non-zero number", "step=0"}),
               [] { arange<double>(0, 1, 0); }});
  r.push_back({"arange: wrong direction",
               raises<ValueError>("arange", {"step -1 moves away from stop", "start=0, stop=1"}),
               [] { arange<double>(0, 1, -1); }});
  r.push_back({"arange: NaN stop", raises<ValueError>("arange", {"start/stop finite", "stop=nan"}),
               [] { arange<double>(0, kNaN, 1); }});
  r.push_back({"arange: too many",
               raises<ValueError>("arange", {"stop=1e+20", "too many elements"}),
               [] { arange<double>(0, 1e20, 1); }});
  r.push_back({"rand: low above high",
               raises<ValueError>("rand", {"low must be below high", "got low=1 high=0"}),
               [&gen] { rand<double>({2}, gen, 1.0, 0.0); }});
  r.push_back({"randn: negative stddev",
               raises<ValueError>("randn", {"stddev finite and positive", "stddev=-1"}),
               [&gen] { randn<double>({2}, gen, 0.0, -1.0); }});
  r.push_back({"randint: empty range",
               raises<ValueError>("randint", {"low must be below high", "got low=5 high=5"}),
               [&gen] { randint<double>(5, 5, {2}, gen); }});
  r.push_back({"randint: beyond exact integers",
               raises<ValueError>("randint", {"exact", "high=1152921504606846976"}),
               [&gen] { randint<double>(0, std::int64_t(1) << 60, {2}, gen); }});
  r.push_back({"rand: too many elements",
               raises<ValueError>("rand", {"shape [4611686018427387904, 4611686018427387904]"}),
               [&gen] {
                 rand<double>({std::size_t(1) << 62, std::size_t(1) << 62}, gen, 0.0, 1.0);
               }});
  // tensors
  {
    const D x = leaf({2});
    r.push_back(
        {"item of two elements",
         raises<ShapeError>("item", {"one-element tensor", "got shape [2] with 2 elements"}),
         [x] { x.item(); },
         {x}});
    r.push_back({"data of an undefined tensor",
                 raises<StateError>("data", {"the tensor is undefined"}), [u] { u.data(); }});
    const D y = x * 2.0;
    r.push_back(
        {"set_requires_grad on a non-leaf",
         raises<StateError>("set_requires_grad", {"only leaves", "produced by MulBackward"}),
         [y] { D(y).set_requires_grad(false); },
         {x}});
    r.push_back({"copy_ from undefined",
                 raises<ValueError>("copy_", {"the source tensor is undefined"}),
                 [x, u] { D(x).copy_(u); },
                 {x}});
    const D z = zeros<double>({3});
    r.push_back({"copy_ of another shape",
                 raises<ShapeError>("copy_", {"source shape [2]", "destination shape [3]"}),
                 [z] { D(z).copy_(ones<double>({2})); },
                 {z}});
    r.push_back({"copy_ into a leaf requiring grad",
                 raises<StateError>("copy_", {"requires grad", "grad mode is on"}),
                 [x] { D(x).copy_(ones<double>({2})); },
                 {x}});
    r.push_back({"fill_ of a leaf requiring grad",
                 raises<StateError>("fill_", {"requires grad", "grad mode is on"}),
                 [x] { D(x).fill_(3.0); },
                 {x}});
  }
  // backward
  {
    const D x = leaf({2, 2});
    const D y = x * 3.0;
    r.push_back({"backward of a non-scalar without gradient",
                 raises<ShapeError>("backward", {"one-element output", "shape [2, 2]"}),
                 [y] { y.backward(); },
                 {x}});
    r.push_back({"backward of a tensor without grad",
                 raises<StateError>("backward", {"does not require grad"}),
                 [] { zeros<double>({1}).backward(); }});
    r.push_back({"backward with a gradient of the wrong shape",
                 raises<ShapeError>("backward", {"gradient shape [3]", "output shape [2, 2]"}),
                 [y] { y.backward(xt::xarray<double>::from_shape({3})); },
                 {x}});
    const D w = leaf({2});
    const D s = sum(exp(w));
    s.backward();
    r.push_back({"backward a second time",
                 raises<StateError>("backward", {"second time", "SumBackward"}),
                 [s] { s.backward(); },
                 {w}});
    const D v = leaf({2});
    const D e = exp(v * 1.0);  // exp saves its output
    const D out = sum(e);
    {
      NoGradGuard g;
      D(e).fill_(1.0);
    }
    r.push_back({"backward after a saved tensor was modified",
                 raises<StateError>("ExpBackward", {"modified by an in-place operation",
                                                    "version 1; expected version 0"}),
                 [out] { out.backward(); },
                 {v}});
    const D q = leaf({2});
    r.push_back({"a Function returning too many gradients",
                 raises<ValueError>("TwoGradientsForOneBackward",
                                    {"backward returned 2 gradients for 1 tensor inputs"}),
                 [q] { sum(TwoGradientsForOne::apply(q)).backward(); },
                 {q}});
  }
  // gradcheck
  {
    const D x = leaf({2});
    const GradcheckFn f = [](const std::vector<D>& in) { return sum(in[0] * in[0]); };
    r.push_back({"gradcheck: eps 0",
                 raises<ValueError>("gradcheck", {"eps", "got 0"}),
                 [f, x] { gradcheck(f, {x}, 0.0); },
                 {x}});
    r.push_back({"gradcheck: NaN eps",
                 raises<ValueError>("gradcheck", {"eps", "got nan"}),
                 [f, x] { gradcheck(f, {x}, kNaN); },
                 {x}});
    r.push_back({"gradcheck: negative atol",
                 raises<ValueError>("gradcheck", {"tolerances", "atol=-1"}),
                 [f, x] { gradcheck(f, {x}, 1e-6, -1.0); },
                 {x}});
    r.push_back({"gradcheck: undefined input",
                 raises<ValueError>("gradcheck", {"input 1 is undefined"}),
                 [f, x, u] {
                   gradcheck(f, {x, u});
                 },
                 {x}});
    r.push_back({"gradcheck: nothing requires grad",
                 raises<ValueError>("gradcheck", {"no input requires grad"}),
                 [f] { gradcheck(f, {zeros<double>({2})}); }});
    const GradcheckFn changing = [](const std::vector<D>& in) {
      static int calls = 0;
      return ++calls % 2 ? sum(in[0]) : in[0] * 1.0;
    };
    r.push_back({"gradcheck: output shape changes",
                 raises<ValueError>("gradcheck", {"returned shape [] and then [2]"}),
                 [changing, x] { gradcheck(changing, {x}); },
                 {x}});
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_engine
