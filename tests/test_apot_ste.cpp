// The straight-through estimator of APoT fake quantization and the
// APoTFakeQuantize module: closed-form mask, equivalence with the same
// quantizer composed from engine primitives with a stop-gradient, gradients
// through a small network, toggles, state dict, and bad input.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <xtensor/xadapt.hpp>

#include "apot_qparams.hpp"
#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_apot_ste)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;

namespace {

// The quantizer from primitives: c = clamp(x, -alpha, alpha) carries the
// clipped identity gradient; detach(quant_dequant(x) - c) carries the value.
template <class T>
Tensor<T> composed(const Tensor<T>& x, const APoTQParams<T>& q) {
  const Tensor<T> c = clamp(x, -q.alpha, q.alpha);
  return c + (quant_dequant(x.detach(), q) - c).detach();
}

}  // namespace

BOOST_AUTO_TEST_CASE(backward_is_the_clipped_mask_including_the_boundaries) {
  const auto q =
      xgrad_test::apot_qparams<float>(-1.0f, 2.0f, 4, 2, LevelScheme::signed_per_term);  // alpha 2
  const float inf = std::numeric_limits<float>::infinity();
  const float below = std::nextafter(-2.0f, -inf), above = std::nextafter(2.0f, inf);
  Tensor<float> x = tensor<float>({-3.0f, below, -2.0f, -0.3f, 0.0f, 1.1f, 2.0f, above, 7.0f, inf},
                                  /*requires_grad=*/true);
  const Tensor<float> y = fake_quantize_APoT(x, q);
  BOOST_TEST(std::string(y.grad_fn_name()) == "APoTFakeQuantizeBackward");
  const xt::xarray<float> dy = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f, 8.5f, 9.5f};
  y.backward(dy);
  const xt::xarray<float> expected = {0, 0, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 0, 0, 0};
  BOOST_TEST(equal_arrays(x.grad().data(), expected));
}

BOOST_AUTO_TEST_CASE(nan_propagates_with_zero_gradient) {
  const auto q = xgrad_test::apot_qparams<double>(0.0, 1.0, 4, 2, LevelScheme::unsigned_levels);
  Tensor<double> x = tensor<double>({0.4, std::nan(""), 0.9}, true);
  const Tensor<double> y = fake_quantize_APoT(x, q);
  BOOST_TEST(y.data()(0) == 0.375);
  BOOST_TEST(std::isnan(y.data()(1)));
  BOOST_TEST(y.data()(2) == 1.0);
  y.backward(xt::xarray<double>{1.0, 1.0, 1.0});
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>{1.0, 0.0, 1.0}));
}

// The mask is taken from x as it was in forward, not re-read in backward.
BOOST_AUTO_TEST_CASE(mask_is_cached_from_the_original_input) {
  const auto q = xgrad_test::apot_qparams<float>(0.0f, 1.0f, 4, 2, LevelScheme::unsigned_levels);
  Tensor<float> x = tensor<float>({0.5f, 2.0f}, true);
  const Tensor<float> y = fake_quantize_APoT(x, q);
  {
    NoGradGuard no_grad;
    x.copy_(tensor<float>({2.0f, 0.5f}));
  }
  y.backward(xt::xarray<float>{1.0f, 1.0f});
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<float>{1.0f, 0.0f}));
}

BOOST_AUTO_TEST_CASE(no_node_without_grad_mode_or_requires_grad) {
  const auto q = xgrad_test::apot_qparams<float>(0.0f, 1.0f, 4, 2, LevelScheme::unsigned_levels);
  const Tensor<float> plain = tensor<float>({0.3f, 0.7f});
  BOOST_TEST(std::string(fake_quantize_APoT(plain, q).grad_fn_name()).empty());
  Tensor<float> x = tensor<float>({0.3f, 0.7f}, true);
  NoGradGuard no_grad;
  const Tensor<float> y = fake_quantize_APoT(x, q);
  BOOST_TEST(std::string(y.grad_fn_name()).empty());
  BOOST_TEST(equal_arrays(y.data(), quant_dequant(x, q).data()));
}

BOOST_AUTO_TEST_CASE(qparams_get_no_gradient) {
  const auto q = xgrad_test::apot_qparams<double>(0.0, 1.0, 4, 2, LevelScheme::unsigned_levels);
  Tensor<double> levels(q.quantization_levels.data(), /*requires_grad=*/true);
  Tensor<double> x = tensor<double>({0.2, 0.6}, true);
  const Tensor<double> y =
      fake_quantize_function::apply(x, q.alpha, q.gamma, levels, q.level_indices);
  y.backward(xt::xarray<double>{1.0, 1.0});
  BOOST_TEST(equal_arrays(levels.grad().data(), xt::xarray<double>(xt::zeros<double>({16}))));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>{1.0, 1.0}));
}

// Fused op == x-clip + detach(quant_dequant(x) - clip): identical values and
// gradients, for every scheme, both float types, boundaries included.
template <class T>
void check_fused_equals_composed(LevelScheme scheme, int b, int k) {
  Generator gen(5);
  const auto q = xgrad_test::apot_qparams<T>(T(-0.8), T(1.3), b, k, scheme);
  Tensor<T> r = rand<T>({500}, gen, T(-2), T(2));
  xt::xarray<T> xs = r.data();
  xs(0) = q.alpha;
  xs(1) = -q.alpha;
  xs(2) = 0;
  Tensor<T> x1(xs, true), x2(xs, true);
  const Tensor<T> dy = randn<T>({500}, gen);
  const Tensor<T> y1 = fake_quantize_APoT(x1, q);
  const Tensor<T> y2 = composed(x2, q);
  BOOST_TEST(equal_arrays(y1.data(), y2.data()));
  y1.backward(dy.data());
  y2.backward(dy.data());
  BOOST_TEST(equal_arrays(x1.grad().data(), x2.grad().data()));
}

BOOST_AUTO_TEST_CASE(fused_op_equals_stop_gradient_composition) {
  for (LevelScheme s :
       {LevelScheme::unsigned_levels, LevelScheme::signed_per_term, LevelScheme::sign_magnitude}) {
    BOOST_TEST_CONTEXT(to_string(s)) {
      check_fused_equals_composed<float>(s, 4, 2);
      check_fused_equals_composed<double>(s, 6, 2);
      check_fused_equals_composed<float>(s, 8, 2);
    }
  }
}

// x -> fq_act -> linear(fq_w(W), b) -> relu -> linear(fq_w2(W2)) -> sum.
BOOST_AUTO_TEST_CASE(gradients_flow_through_a_small_network) {
  Generator gen(9);
  Tensor<float> w1 = randn<float>({8, 4}, gen, 0.0f, 0.5f, true);
  Tensor<float> b1 = zeros<float>({8}, true);
  Tensor<float> w2 = randn<float>({3, 8}, gen, 0.0f, 0.5f, true);
  const Tensor<float> x = rand<float>({16, 4}, gen);
  APoTFakeQuantize<float> fq_act(4, 2), fq_hidden(4, 2);
  APoTFakeQuantize<float> fq_w1(4, 2, LevelScheme::sign_magnitude),
      fq_w2(5, 2, LevelScheme::sign_magnitude);
  const Tensor<float> h = relu(linear(fq_act.forward(x), fq_w1.forward(w1), b1));
  const Tensor<float> out = linear(fq_hidden.forward(h), fq_w2.forward(w2));
  sum(out * out).backward();
  for (const Tensor<float>& p : {w1, b1, w2}) {
    BOOST_REQUIRE(p.grad().defined());
    float norm = 0;
    for (float g : p.grad().data()) {
      BOOST_TEST(std::isfinite(g));
      norm += std::abs(g);
    }
    BOOST_TEST(norm > 0.0f);
  }
  // Weights really were quantized: at most 2^4 - 1 distinct values.
  const xt::xarray<float> qw = fq_w1.forward(w1).data();
  BOOST_TEST(std::set<float>(qw.begin(), qw.end()).size() <= 15u);
}

BOOST_AUTO_TEST_CASE(forward_honours_the_signed_flag_and_default_scheme) {
  const Tensor<float> x = tensor<float>({-1.0f, -0.5f, 0.25f, 1.0f});
  APoTFakeQuantize<float> fq(4, 2);
  BOOST_TEST(equal_arrays(fq.forward(x, false).data(), xt::xarray<float>{0, 0, 0.25f, 1}));
  BOOST_TEST(equal_arrays(fq.forward(x, true).data(), xt::xarray<float>{-1, -0.5f, 0.25f, 1}));
  APoTFakeQuantize<float> sm(4, 2, LevelScheme::sign_magnitude);
  BOOST_TEST((sm.scheme() == LevelScheme::sign_magnitude));
  sm.forward(x);
  BOOST_TEST(sm.qparams().quantization_levels.numel() == 15u);
  APoTFakeQuantize<float> signed_default(4, 2, /*signed=*/true);
  signed_default.forward(x);
  BOOST_TEST(signed_default.qparams().quantization_levels.numel() == 49u);
}

BOOST_AUTO_TEST_CASE(observer_off_freezes_qparams) {
  APoTFakeQuantize<float> fq(4, 2);
  fq.forward(tensor<float>({0.0f, 1.0f}));
  const auto before = fq.qparams();
  fq.disable_observer();
  BOOST_TEST(!fq.observer_enabled());
  const Tensor<float> y = fq.forward(tensor<float>({0.0f, 10.0f}));
  BOOST_TEST(fq.qparams().alpha == before.alpha);
  BOOST_TEST(
      equal_arrays(fq.qparams().quantization_levels.data(), before.quantization_levels.data()));
  BOOST_TEST(fq.activation_post_process->max_val().item() == 1.0f);
  BOOST_TEST(y.data()(1) == 1.0f);  // clipped to the frozen alpha
  fq.enable_observer();
  fq.forward(tensor<float>({0.0f, 10.0f}));
  BOOST_TEST(fq.qparams().alpha == 10.0f);
}

BOOST_AUTO_TEST_CASE(fake_quant_off_returns_the_input_unchanged) {
  APoTFakeQuantize<float> fq(4, 2);
  fq.disable_fake_quant();
  BOOST_TEST(!fq.fake_quant_enabled());
  const Tensor<float> x = tensor<float>({0.1f, 0.33f, 0.9f});
  const Tensor<float> y = fq.forward(x);
  BOOST_TEST((y.storage() == x.storage()));
  BOOST_TEST(fq.has_qparams());  // the observer still ran
  fq.disable_observer();
  Tensor<float> z = fq.forward(x);
  BOOST_TEST((z.storage() == x.storage()));
}

BOOST_AUTO_TEST_CASE(state_dict_round_trip_restores_qparams_and_toggles) {
  APoTFakeQuantize<float> a(6, 2);
  a.forward(tensor<float>({-0.2f, 1.7f}));
  a.disable_observer();
  const auto sd = a.state_dict();
  std::vector<std::string> names;
  for (const auto& e : sd) names.push_back(e.first);
  const std::vector<std::string> expected_names = {"fake_quant_enabled",
                                                   "observer_enabled",
                                                   "alpha",
                                                   "gamma",
                                                   "quantization_levels",
                                                   "level_indices",
                                                   "activation_post_process.min_val",
                                                   "activation_post_process.max_val"};
  BOOST_TEST(names == expected_names, boost::test_tools::per_element());

  APoTFakeQuantize<float> b(6, 2);
  BOOST_TEST(!b.has_qparams());
  b.load_state_dict(sd);
  BOOST_TEST(!b.observer_enabled());
  BOOST_TEST(b.fake_quant_enabled());
  const auto qa = a.qparams(), qb = b.qparams();
  BOOST_TEST(qb.alpha == qa.alpha);
  BOOST_TEST(qb.gamma == qa.gamma);
  BOOST_TEST(equal_arrays(qb.quantization_levels.data(), qa.quantization_levels.data()));
  BOOST_TEST(equal_arrays(qb.level_indices, qa.level_indices));
  const Tensor<float> x = tensor<float>({0.3f, 1.0f, 5.0f});
  BOOST_TEST(equal_arrays(b.forward(x).data(), a.forward(x).data()));
}

BOOST_AUTO_TEST_CASE(bad_input_to_the_module) {
  BOOST_CHECK_THROW(APoTFakeQuantize<float>(0, 2), ValueError);
  BOOST_CHECK_THROW(APoTFakeQuantize<float>(4, 0), ValueError);
  BOOST_CHECK_THROW(APoTFakeQuantize<float>(-4, -2), ValueError);
  BOOST_CHECK_THROW(APoTFakeQuantize<float>(6, 4), ValueError);
  BOOST_CHECK_THROW(APoTFakeQuantize<float>(6, 4, LevelScheme::sign_magnitude), ValueError);
  APoTFakeQuantize<float> big(18, 2);  // constructible; refused when levels are built
  BOOST_CHECK_THROW(big.forward(tensor<float>({0.0f, 1.0f})), ValueError);

  // Calculate before observing, qparams before any forward.
  APoTFakeQuantize<float> fq(4, 2);
  BOOST_CHECK_THROW(fq.calculate_qparams(false), StateError);
  BOOST_CHECK_THROW(fq.qparams(), StateError);
  // Empty input with nothing observed yet: no qparams, so fake quant refuses.
  const Tensor<float> empty(xt::xarray<float>::from_shape({0}));
  BOOST_CHECK_THROW(fq.forward(empty), StateError);
  fq.forward(tensor<float>({0.0f, 1.0f}));
  BOOST_TEST(fq.forward(empty).numel() == 0u);

  // NaN or repeated codes in a state dict: refused at load, the module unchanged.
  auto sd = fq.state_dict();
  for (auto& e : sd)
    if (e.first == "level_indices") e.second(3) = std::nanf("");
  APoTFakeQuantize<float> nan_codes(4, 2);
  BOOST_CHECK_THROW(nan_codes.load_state_dict(sd), ValueError);
  BOOST_TEST(!nan_codes.has_qparams());
  for (auto& e : sd)
    if (e.first == "level_indices") e.second(3) = 0.0f;  // duplicate code 0
  BOOST_CHECK_THROW(nan_codes.load_state_dict(sd), ValueError);
  BOOST_TEST(!nan_codes.has_qparams());
  const auto q = fq.qparams();
  BOOST_CHECK_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{16}, q), ValueError);
}

// Where x is clipped the gradient is selected away, not multiplied: a NaN or
// inf dy becomes 0 there, exactly like clamp's backward (so the fused op and
// the composition stay identical); inside the range dy passes through as is.
BOOST_AUTO_TEST_CASE(nan_and_inf_gradients_are_masked_like_clamp) {
  const auto q = xgrad_test::apot_qparams<float>(0.0f, 1.0f, 4, 2, LevelScheme::unsigned_levels);
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  const xt::xarray<float> xs = {0.5f, 2.0f, 0.3f, -3.0f, 1.0f};
  const xt::xarray<float> dy = {nan, nan, inf, -inf, -inf};
  Tensor<float> x1(xs, true), x2(xs, true);
  fake_quantize_APoT(x1, q).backward(dy);
  composed(x2, q).backward(dy);
  const xt::xarray<float> expected = {nan, 0.0f, inf, 0.0f, -inf};
  BOOST_TEST(equal_arrays(x1.grad().data(), expected));
  BOOST_TEST(equal_arrays(x1.grad().data(), x2.grad().data()));
}

// The mask survives a first backward when the graph is retained.
BOOST_AUTO_TEST_CASE(second_backward_with_retained_graph_uses_the_same_mask) {
  const auto q = xgrad_test::apot_qparams<double>(0.0, 1.0, 4, 2, LevelScheme::unsigned_levels);
  Tensor<double> x = tensor<double>({0.4, 1.5, -0.2}, true);
  const Tensor<double> y = fake_quantize_APoT(x, q);
  y.backward(xt::xarray<double>{1.0, 1.0, 1.0}, /*retain_graph=*/true);
  y.backward(xt::xarray<double>{2.0, 2.0, 2.0});
  // The clip range is [-alpha, alpha] for every scheme (docs/quantization.md),
  // so -0.2 passes even though unsigned levels send it to 0.
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>{3.0, 0.0, 3.0}));
}

// A module that never computed qparams saves that state, and loading it
// removes the qparams of a module that had some.
BOOST_AUTO_TEST_CASE(state_dict_round_trip_of_the_no_qparams_state) {
  APoTFakeQuantize<float> fresh(4, 2);
  const auto sd = fresh.state_dict();
  APoTFakeQuantize<float> used(4, 2);
  used.forward(tensor<float>({0.0f, 1.0f}));
  used.disable_observer();
  used.disable_fake_quant();
  BOOST_REQUIRE(used.has_qparams());
  used.load_state_dict(sd);
  BOOST_TEST(!used.has_qparams());
  BOOST_TEST(!used.activation_post_process->has_observed());
  BOOST_TEST(used.observer_enabled());
  BOOST_TEST(used.fake_quant_enabled());
  BOOST_CHECK_THROW(used.qparams(), StateError);
  used.disable_observer();
  BOOST_CHECK_THROW(used.forward(tensor<float>({0.5f})), StateError);
}

BOOST_AUTO_TEST_CASE(state_dict_round_trip_restores_disabled_fake_quant) {
  APoTFakeQuantize<float> a(4, 2);
  a.forward(tensor<float>({0.0f, 1.0f}));
  a.disable_fake_quant();
  APoTFakeQuantize<float> b(4, 2);
  b.load_state_dict(a.state_dict());
  BOOST_TEST(b.observer_enabled());
  BOOST_TEST(!b.fake_quant_enabled());
  const Tensor<float> x = tensor<float>({0.3f});
  BOOST_TEST((b.forward(x).storage() == x.storage()));
}

// A forward that cannot compute qparams throws and leaves the observed range
// and the stored qparams as they were.
BOOST_AUTO_TEST_CASE(failed_qparams_leave_the_module_unchanged) {
  APoTFakeQuantize<float> fq(5, 2, LevelScheme::sign_magnitude);  // b % k != 0 unsigned
  fq.forward(tensor<float>({-1.0f, 1.0f}));
  BOOST_CHECK_THROW(fq.forward(tensor<float>({0.0f, 5.0f}), /*signed=*/false), ValueError);
  BOOST_TEST(fq.activation_post_process->max_val().item() == 1.0f);
  BOOST_TEST(fq.qparams().alpha == 1.0f);

  // Beyond float32: the levels would be inf / NaN.
  APoTFakeQuantize<double> big(4, 2);
  BOOST_CHECK_THROW(big.forward(tensor<double>({0.0, 1e300})), ValueError);
  BOOST_TEST(!big.activation_post_process->has_observed());
  BOOST_TEST(!big.has_qparams());
}

BOOST_AUTO_TEST_CASE(undefined_input_to_the_module_raises_value_error) {
  APoTFakeQuantize<float> fq(4, 2);
  BOOST_CHECK_THROW(fq.forward(Tensor<float>()), ValueError);
  fq.forward(tensor<float>({0.0f, 1.0f}));
  fq.disable_observer();
  BOOST_CHECK_THROW(fq.forward(Tensor<float>()), ValueError);
}

BOOST_AUTO_TEST_CASE(zero_dim_input_gets_a_zero_dim_gradient) {
  const auto q = xgrad_test::apot_qparams<double>(0.0, 1.0, 4, 2, LevelScheme::unsigned_levels);
  Tensor<double> x = scalar<double>(0.3);
  x.set_requires_grad(true);
  const Tensor<double> y = fake_quantize_APoT(x, q);
  BOOST_TEST(y.dim() == 0u);
  y.backward();
  BOOST_TEST(x.grad().dim() == 0u);
  BOOST_TEST(x.grad().item() == 1.0);
}

BOOST_AUTO_TEST_CASE(empty_input_gets_an_empty_gradient) {
  const auto q = xgrad_test::apot_qparams<float>(0.0f, 1.0f, 4, 2, LevelScheme::unsigned_levels);
  Tensor<float> x(xt::xarray<float>::from_shape({0, 3}), /*requires_grad=*/true);
  const Tensor<float> y = fake_quantize_APoT(x, q);
  BOOST_TEST((y.shape() == Shape{0, 3}));
  y.backward(xt::xarray<float>::from_shape({0, 3}));
  BOOST_TEST((x.grad().shape() == Shape{0, 3}));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D x = leaf({4});
  const APoTQParams<double> good = xgrad_test::apot_qparams(-1.0, 2.0, 4, 2);
  r.push_back({"fake_quantize_APoT: unsorted levels",
               raises<ValueError>("fake_quantize_function",
                                  {"quantization_levels must be sorted", "element 1"}),
               [good, x] {
                 fake_quantize_function::apply(x, good.alpha, good.gamma,
                                               tensor<double>({1.0, 0.0}),
                                               xt::xarray<std::int64_t>({0, 1}));
               },
               {x}});
  r.push_back({"fake_quantize_APoT: undefined input",
               raises<ValueError>("APoTFakeQuantizeBackward", {"input tensor 0 is undefined"}),
               [good, u] { fake_quantize_APoT(u, good); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_apot_ste
