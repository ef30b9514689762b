// Optimizers: updates checked against PyTorch's documented formulas.
// SGD cases use dyadic numbers (lr 1/4, momentum 1/2, ...), so the expected
// values are exact and compared exactly. Adam's expected values were computed
// by hand-following the formulas in double precision (Python floats): our
// loop performs the same operations in a slightly different order, so they
// agree to a few ulps; we allow 1e-12 on values of order 1.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <limits>
#include <string>
#include <type_traits>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_optim)

using namespace xgrad;
using namespace xgrad::optim;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;

namespace {

// The expected Adam values are the update formulas evaluated in double,
// printed to 16 digits: both sides round a few dozen times per step on
// values of size ~1 (u = 1.1e-16), well below 1e-12.
const double kAdamTol = 1e-12;

// Replaces p's gradient by g (a leaf's backward stores the given gradient).
template <class T>
void set_grad(Tensor<T>& p, const xt::xarray<T>& g) {
  p.zero_grad();
  p.backward(g);
}

Tensor<double> param(std::initializer_list<double> values) {
  xt::xarray<double> data = xt::zeros<double>({values.size()});
  std::copy(values.begin(), values.end(), data.begin());
  return Tensor<double>(data, true);
}

// Runs `steps` updates of a two-element parameter starting at [1, -2] with the
// given gradients, returning the parameter after each step.
template <class Opt, class Options>
std::vector<xt::xarray<double>> run(const Options& options,
                                    const std::vector<xt::xarray<double>>& grads) {
  Tensor<double> w = param({1.0, -2.0});
  Opt opt(std::vector<Tensor<double>>{w}, options);
  std::vector<xt::xarray<double>> out;
  for (const auto& g : grads) {
    set_grad(w, g);
    opt.step();
    out.push_back(w.data());
  }
  return out;
}

const std::vector<xt::xarray<double>> kSgdGrads = {{1.0, -2.0}, {2.0, 0.0}, {4.0, 1.0}};
const std::vector<xt::xarray<double>> kAdamGrads = {{0.5, -1.0}, {0.25, 2.0}, {-1.0, 0.5}};

}  // namespace

// ---- SGD ----

BOOST_AUTO_TEST_CASE(sgd_plain_step_is_param_minus_lr_times_grad) {
  // [1, -2] - 1/4 * [1, -2] = [3/4, -3/2]
  const auto out = run<SGD<double>>(SGDOptions(0.25), {kSgdGrads[0]});
  BOOST_TEST(equal_arrays(out[0], xt::xarray<double>{0.75, -1.5}));
}

BOOST_AUTO_TEST_CASE(sgd_float_step_matches_exactly) {
  Tensor<float> w(xt::xarray<float>{1.0f, -2.0f}, true);
  SGD<float> opt({w}, SGDOptions(0.5));
  set_grad(w, xt::xarray<float>{0.25f, 1.0f});
  opt.step();
  BOOST_TEST(equal_arrays(w.data(), xt::xarray<float>{0.875f, -2.5f}));
}

BOOST_AUTO_TEST_CASE(sgd_weight_decay_adds_wd_times_param_to_grad) {
  // d = g + 1/2 w = [1 + 1/2, -2 - 1] ; w - 1/4 d = [5/8, -5/4]
  const auto out = run<SGD<double>>(SGDOptions(0.25).weight_decay(0.5), {kSgdGrads[0]});
  BOOST_TEST(equal_arrays(out[0], xt::xarray<double>{0.625, -1.25}));
}

BOOST_AUTO_TEST_CASE(sgd_momentum_with_dampening_three_steps) {
  // buf1 = g1 = [1,-2]               w1 = [1,-2] - 1/4 buf1 = [3/4, -3/2]
  // buf2 = 1/2 buf1 + 3/4 g2 = [2, -1]       w2 = [1/4, -5/4]
  // buf3 = 1/2 buf2 + 3/4 g3 = [4, 1/4]      w3 = [-3/4, -21/16]
  const auto out = run<SGD<double>>(SGDOptions(0.25).momentum(0.5).dampening(0.25), kSgdGrads);
  BOOST_TEST(equal_arrays(out[0], xt::xarray<double>{0.75, -1.5}));
  BOOST_TEST(equal_arrays(out[1], xt::xarray<double>{0.25, -1.25}));
  BOOST_TEST(equal_arrays(out[2], xt::xarray<double>{-0.75, -21.0 / 16}));
}

BOOST_AUTO_TEST_CASE(sgd_nesterov_three_steps) {
  // buf as momentum without dampening; step with d = g + 1/2 buf:
  // buf1 = [1,-2], d1 = [3/2,-3]    w1 = [5/8, -5/4]
  // buf2 = [5/2,-1], d2 = [13/4,-1/2]  w2 = [-3/16, -9/8]
  // buf3 = [21/4,1/2], d3 = [53/8,5/4]  w3 = [-59/32, -23/16]
  const auto out = run<SGD<double>>(SGDOptions(0.25).momentum(0.5).nesterov(true), kSgdGrads);
  BOOST_TEST(equal_arrays(out[0], xt::xarray<double>{0.625, -1.25}));
  BOOST_TEST(equal_arrays(out[1], xt::xarray<double>{-3.0 / 16, -9.0 / 8}));
  BOOST_TEST(equal_arrays(out[2], xt::xarray<double>{-59.0 / 32, -23.0 / 16}));
}

BOOST_AUTO_TEST_CASE(sgd_momentum_with_weight_decay_three_steps) {
  // Decay enters the buffer: d = g + 1/2 w at each step.
  const auto out = run<SGD<double>>(SGDOptions(0.25).momentum(0.5).weight_decay(0.5), kSgdGrads);
  BOOST_TEST(equal_arrays(out[0], xt::xarray<double>{0.625, -1.25}));
  BOOST_TEST(equal_arrays(out[1], xt::xarray<double>{-9.0 / 64, -23.0 / 32}));
  BOOST_TEST(equal_arrays(out[2], xt::xarray<double>{-771.0 / 512, -157.0 / 256}));
}

// ---- Adam ----

BOOST_AUTO_TEST_CASE(adam_first_step_moves_by_lr_times_sign) {
  // After bias correction m^ = g and v^ = g^2, so w1 = w0 - lr g / (|g| + eps):
  // 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002, -2 + 0.1 * 1 / (1 + 1e-8) = -1.900000001.
  const auto out = run<Adam<double>>(AdamOptions(0.1), {kAdamGrads[0]});
  BOOST_TEST(close_arrays(out[0], xt::xarray<double>{0.900000002, -1.900000001}, kAdamTol));
}

BOOST_AUTO_TEST_CASE(adam_three_steps) {
  const auto out = run<Adam<double>>(AdamOptions(0.1), kAdamGrads);
  BOOST_TEST(
      close_arrays(out[1], xt::xarray<double>{0.8067820404774624, -1.9366103534720749}, kAdamTol));
  BOOST_TEST(
      close_arrays(out[2], xt::xarray<double>{0.8274177428854115, -1.9781754731467738}, kAdamTol));
}

BOOST_AUTO_TEST_CASE(adam_custom_betas_and_eps) {
  // beta1 1/2, beta2 3/4, eps 1/8: step 1 gives 1 - 0.1 * 0.5 / (0.5 + 0.125) = 0.92.
  const auto out = run<Adam<double>>(AdamOptions(0.1).betas({0.5, 0.75}).eps(0.125), kAdamGrads);
  BOOST_TEST(close_arrays(out[0], xt::xarray<double>{0.92, -1.9111111111111112}, kAdamTol));
  BOOST_TEST(
      close_arrays(out[2], xt::xarray<double>{0.9046497643102132, -2.0182229337635778}, kAdamTol));
}

BOOST_AUTO_TEST_CASE(adam_weight_decay_is_an_l2_term_in_the_gradient) {
  const auto out = run<Adam<double>>(AdamOptions(0.1).weight_decay(0.1), kAdamGrads);
  BOOST_TEST(
      close_arrays(out[0], xt::xarray<double>{0.9000000016666666, -1.9000000008333333}, kAdamTol));
  BOOST_TEST(
      close_arrays(out[2], xt::xarray<double>{0.8120982607786772, -1.953127270691488}, kAdamTol));
}

BOOST_AUTO_TEST_CASE(adamw_decays_the_parameter_directly) {
  // Step 1: w * (1 - 0.1 * 0.1) then the plain Adam step: 0.99 - 0.1 * 0.5 / (0.5 + 1e-8).
  const auto out = run<AdamW<double>>(AdamWOptions(0.1).weight_decay(0.1), kAdamGrads);
  BOOST_TEST(close_arrays(out[0], xt::xarray<double>{0.890000002, -1.880000001}, kAdamTol));
  BOOST_TEST(
      close_arrays(out[2], xt::xarray<double>{0.8006389224608368, -1.920397369602153}, kAdamTol));
}

BOOST_AUTO_TEST_CASE(adamw_options_default_to_pytorch_weight_decay) {
  BOOST_TEST(AdamWOptions().weight_decay() == 1e-2);
  BOOST_TEST(AdamWOptions().lr() == 1e-3);
  BOOST_TEST(AdamOptions().weight_decay() == 0.0);
}

BOOST_AUTO_TEST_CASE(adamw_options_are_their_own_type_with_all_pytorch_defaults) {
  const AdamWOptions o;
  BOOST_TEST(o.lr() == 1e-3);
  BOOST_TEST(o.betas().first == 0.9);
  BOOST_TEST(o.betas().second == 0.999);
  BOOST_TEST(o.eps() == 1e-8);
  BOOST_TEST(o.weight_decay() == 1e-2);
  BOOST_TEST(!o.amsgrad());
  // AdamW(params, AdamOptions(...)) would train with weight decay 0: it must not compile.
  static_assert(
      !std::is_constructible<AdamW<double>, std::vector<Tensor<double>>, AdamOptions>::value);
  static_assert(std::is_same<decltype(AdamWOptions().betas({0.9, 0.99})), AdamWOptions&>::value);
}

BOOST_AUTO_TEST_CASE(adamw_without_options_decays_by_pytorch_default) {
  // lr 1e-3, weight_decay 1e-2; zero gradient, so the step is the decay alone:
  // w * (1 - 1e-3 * 1e-2) (m = 0, so the Adam term is 0 / (0 + eps) = 0).
  Tensor<double> w = param({2.0});
  AdamW<double> opt({w});
  BOOST_TEST(opt.weight_decay(0) == 1e-2);
  BOOST_TEST(opt.options().weight_decay() == 1e-2);
  set_grad(w, xt::xarray<double>{0.0});
  opt.step();
  BOOST_TEST(w.data()(0) == 2.0 * (1.0 - 1e-3 * 1e-2));
}

BOOST_AUTO_TEST_CASE(a_state_dict_of_another_optimizer_kind_is_a_type_error) {
  Tensor<double> w = param({1.0, -2.0});
  Adam<double> adam({w});
  AdamW<double> adamw({w});
  SGD<double> sgd({w}, SGDOptions(0.1));
  set_grad(w, xt::xarray<double>{0.5, 0.5});
  adam.step();
  BOOST_TEST(message_of([&] { adamw.load_state_dict(adam.state_dict()); }) ==
             "AdamW::load_state_dict: the state dict is from Adam, not AdamW (key "
             "\"optimizer.Adam\")");
  BOOST_CHECK_THROW(adamw.load_state_dict(adam.state_dict()), TypeError);
  BOOST_CHECK_THROW(adam.load_state_dict(adamw.state_dict()), TypeError);
  BOOST_CHECK_THROW(adam.load_state_dict(sgd.state_dict()), TypeError);
  BOOST_CHECK_THROW(sgd.load_state_dict(adam.state_dict()), TypeError);
  // The rejected load left the optimizer as it was: no state yet.
  BOOST_TEST(adamw.state_dict().size() == AdamW<double>({param({0.0, 0.0})}).state_dict().size());
}

BOOST_AUTO_TEST_CASE(a_state_dict_without_its_kind_is_a_value_error) {
  Tensor<double> w = param({1.0});
  Adam<double> adam({w});
  xgrad::StateDict<double> dict = adam.state_dict();
  BOOST_TEST(dict.front().first == "optimizer.Adam");
  dict.erase(dict.begin());
  BOOST_TEST(message_of([&] {
               adam.load_state_dict(dict);
             }).find("missing key \"optimizer.Adam\" (the optimizer kind)") != std::string::npos);
  BOOST_CHECK_THROW(adam.load_state_dict(dict), ValueError);
}

BOOST_AUTO_TEST_CASE(adam_amsgrad_uses_the_running_maximum_of_v) {
  // Gradients shrink, so v falls below its maximum and the two variants differ.
  const std::vector<xt::xarray<double>> grads = {{1.0, -1.0}, {0.0, 0.5}, {0.25, 0.0}};
  const auto ams = run<Adam<double>>(AdamOptions(0.1).amsgrad(true), grads);
  const auto plain = run<Adam<double>>(AdamOptions(0.1), grads);
  BOOST_TEST(
      close_arrays(ams[1], xt::xarray<double>{0.8330276878258663, -1.873366297370903}, kAdamTol));
  BOOST_TEST(
      close_arrays(ams[2], xt::xarray<double>{0.7672733407283698, -1.8527886638710895}, kAdamTol));
  BOOST_TEST(close_arrays(plain[2], xt::xarray<double>{0.7672398294366922, -1.8527783673314504},
                          kAdamTol));
}

BOOST_AUTO_TEST_CASE(adam_float_matches_the_double_reference) {
  // Float: about ten roundings per step (u = 6e-8) on values of size ~1 over
  // three steps, well below 1e-6; Adam's step does not amplify them (|m / sqrt
  // v| <= 1).
  Tensor<float> w(xt::xarray<float>{1.0f, -2.0f}, true);
  Adam<float> opt({w}, AdamOptions(0.1));
  for (const auto& g : kAdamGrads) {
    set_grad(w, xt::xarray<float>(g));
    opt.step();
  }
  BOOST_TEST(
      close_arrays(w.data(), xt::xarray<double>{0.8274177428854115, -1.9781754731467738}, 1e-6));
}

BOOST_AUTO_TEST_CASE(adam_gives_the_same_bits_at_every_element_position) {
  // Elements are updated in SIMD batches with a scalar tail: 11 equal
  // elements with equal gradients must stay bit-identical after every step.
  Tensor<float> w = xgrad::full<float>({11}, 0.5f, true);
  Adam<float> opt({w}, AdamOptions(0.1).amsgrad(true).weight_decay(0.01));
  for (float g : {0.3f, -1.7f, 0.01f, 2.5f}) {
    set_grad(w, xt::xarray<float>(xt::ones<float>({11}) * g));
    opt.step();
    BOOST_TEST(equal_arrays(w.data(), xt::xarray<float>(xt::ones<float>({11}) * w.data()(10))));
  }
}

// ---- shared behaviour ----

BOOST_AUTO_TEST_CASE(param_groups_have_their_own_lr_and_weight_decay) {
  Tensor<double> a = param({1.0}), b = param({1.0}), c = param({1.0});
  SGD<double> opt(
      std::vector<ParamGroup<double>>{
          {{a}, std::nullopt, std::nullopt}, {{b}, 0.5, std::nullopt}, {{c}, std::nullopt, 1.0}},
      SGDOptions(0.25));
  BOOST_TEST(opt.num_param_groups() == 3u);
  BOOST_TEST(opt.lr(0) == 0.25);
  BOOST_TEST(opt.lr(1) == 0.5);
  BOOST_TEST(opt.weight_decay(2) == 1.0);
  for (auto* p : {&a, &b, &c}) set_grad(*p, xt::xarray<double>{1.0});
  opt.step();
  BOOST_TEST(a.data()(0) == 0.75);  // 1 - 1/4 * 1
  BOOST_TEST(b.data()(0) == 0.5);   // 1 - 1/2 * 1
  BOOST_TEST(c.data()(0) == 0.5);   // 1 - 1/4 * (1 + 1 * 1)
}

BOOST_AUTO_TEST_CASE(set_lr_changes_one_group) {
  Tensor<double> a = param({1.0}), b = param({1.0});
  SGD<double> opt(std::vector<ParamGroup<double>>{{{a}, {}, {}}, {{b}, {}, {}}}, SGDOptions(0.25));
  opt.set_lr(1, 0.5);
  set_grad(a, xt::xarray<double>{1.0});
  set_grad(b, xt::xarray<double>{1.0});
  opt.step();
  BOOST_TEST(a.data()(0) == 0.75);
  BOOST_TEST(b.data()(0) == 0.5);
}

BOOST_AUTO_TEST_CASE(zero_grad_drops_every_gradient) {
  Tensor<double> a = param({1.0}), b = param({1.0, 2.0});
  Adam<double> opt({a, b});
  set_grad(a, xt::xarray<double>{1.0});
  set_grad(b, xt::xarray<double>{1.0, 1.0});
  opt.zero_grad();
  BOOST_TEST(!a.grad().defined());
  BOOST_TEST(!b.grad().defined());
}

BOOST_AUTO_TEST_CASE(parameters_without_grad_are_skipped_and_get_no_state) {
  Tensor<double> a = param({1.0}), b = param({1.0});
  Adam<double> opt({a, b}, AdamOptions(0.1));
  set_grad(a, xt::xarray<double>{1.0});
  const auto version_b = b.version();
  opt.step();
  BOOST_TEST(b.data()(0) == 1.0);
  BOOST_TEST(b.version() == version_b);
  BOOST_TEST(a.data()(0) != 1.0);
  bool has_state_0 = false, has_state_1 = false;
  for (const auto& entry : opt.state_dict()) {
    has_state_0 |= entry.first.rfind("state.0.", 0) == 0;
    has_state_1 |= entry.first.rfind("state.1.", 0) == 0;
  }
  BOOST_TEST(has_state_0);
  BOOST_TEST(!has_state_1);
}

BOOST_AUTO_TEST_CASE(step_updates_in_place_without_recording) {
  // The update bumps the version (a saved copy in some graph is now stale),
  // keeps the handle a leaf and works while grad mode is on.
  Tensor<double> w = param({1.0, 2.0});
  Tensor<double> alias = w;
  SGD<double> opt({w}, SGDOptions(0.5));
  set_grad(w, xt::xarray<double>{1.0, 1.0});
  const auto version = w.version();
  BOOST_TEST(xgrad::GradMode::is_enabled());
  opt.step();
  BOOST_TEST(w.version() > version);
  BOOST_TEST(w.is_leaf());
  BOOST_TEST(w.requires_grad());
  BOOST_TEST(equal_arrays(alias.data(), xt::xarray<double>{0.5, 1.5}));
  BOOST_TEST(xgrad::GradMode::is_enabled());
}

BOOST_AUTO_TEST_CASE(a_parameter_reshaped_after_its_state_exists_is_a_shape_error) {
  // Its momentum / moment buffers keep the old size: updating would run past them.
  Tensor<double> w = param({1.0, 2.0}), v = param({1.0, 2.0});
  SGD<double> sgd({w}, SGDOptions(0.5).momentum(0.5));
  Adam<double> adam({v}, AdamOptions(0.5));
  for (Tensor<double>* p : {&w, &v}) set_grad(*p, xt::xarray<double>{1.0, 1.0});
  sgd.step();
  adam.step();
  const auto sgd_before = sgd.state_dict(), adam_before = adam.state_dict();
  for (Tensor<double>* p : {&w, &v}) {
    p->mutable_data() = xt::xarray<double>{1.0, 2.0, 3.0};
    set_grad(*p, xt::xarray<double>{1.0, 1.0, 1.0});
  }
  BOOST_CHECK_THROW(sgd.step(), xgrad::ShapeError);
  BOOST_CHECK_THROW(adam.step(), xgrad::ShapeError);
  BOOST_TEST(equal_arrays(w.data(), xt::xarray<double>{1.0, 2.0, 3.0}));
  BOOST_TEST(equal_arrays(v.data(), xt::xarray<double>{1.0, 2.0, 3.0}));
  BOOST_TEST(equal_arrays(sgd.state_dict().back().second, sgd_before.back().second));
  BOOST_TEST(equal_arrays(adam.state_dict().back().second, adam_before.back().second));
}

// ---- state dicts ----

namespace {

// A deterministic "training" run without any op: minimise
// 0.5 * sum(c * (w - target)^2) whose gradient c * (w - target) we set by hand.
template <class Opt>
void train_quadratic(Tensor<float>& w, Opt& opt, int steps) {
  const xt::xarray<float> c{1.0f, 3.0f, 0.5f}, target{0.3f, -0.7f, 2.0f};
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    w.backward(xt::xarray<float>(c * (w.data() - target)));
    opt.step();
  }
}

template <class Opt, class Options>
void check_resume_is_bit_identical(const Options& options) {
  Tensor<float> straight(xt::xarray<float>{1.0f, 1.0f, 1.0f}, true);
  Opt opt_straight({straight}, options);
  train_quadratic(straight, opt_straight, 10);

  Tensor<float> first(xt::xarray<float>{1.0f, 1.0f, 1.0f}, true);
  Opt opt_first({first}, options);
  train_quadratic(first, opt_first, 4);
  const xgrad::StateDict<float> saved = opt_first.state_dict();
  const xt::xarray<float> saved_w = first.data();

  Tensor<float> resumed(saved_w, true);
  Opt opt_resumed({resumed}, options);
  opt_resumed.load_state_dict(saved);
  train_quadratic(resumed, opt_resumed, 6);
  BOOST_TEST(equal_arrays(resumed.data(), straight.data()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_state_dict_names_and_values) {
  Tensor<double> w = param({1.0, -2.0});
  SGD<double> opt({w}, SGDOptions(0.25).momentum(0.5).dampening(0.25));
  set_grad(w, xt::xarray<double>{1.0, -2.0});
  opt.step();
  const auto dict = opt.state_dict();
  const std::vector<std::string> expected = {
      "optimizer.SGD",         "param_groups.0.lr",      "param_groups.0.weight_decay",
      "param_groups.0.params", "options.momentum",       "options.dampening",
      "options.nesterov",      "state.0.momentum_buffer"};
  BOOST_TEST(xgrad_test::names_of(dict) == expected, boost::test_tools::per_element());
  BOOST_TEST(dict[1].second() == 0.25);
  BOOST_TEST(equal_arrays(dict[3].second, xt::xarray<double>{0.0}));
  BOOST_TEST(equal_arrays(dict[7].second, xt::xarray<double>{1.0, -2.0}));
}

BOOST_AUTO_TEST_CASE(adam_state_dict_names_and_values) {
  Tensor<double> w = param({1.0, -2.0});
  Adam<double> opt({w}, AdamOptions(0.1).amsgrad(true));
  for (int s = 0; s < 2; ++s) {
    set_grad(w, xt::xarray<double>{0.5, -1.0});
    opt.step();
  }
  const auto dict = opt.state_dict();
  const std::vector<std::string> expected = {
      "optimizer.Adam",        "param_groups.0.lr",  "param_groups.0.weight_decay",
      "param_groups.0.params", "options.beta1",      "options.beta2",
      "options.eps",           "options.amsgrad",    "state.0.step",
      "state.0.exp_avg",       "state.0.exp_avg_sq", "state.0.max_exp_avg_sq"};
  BOOST_TEST(xgrad_test::names_of(dict) == expected, boost::test_tools::per_element());
  BOOST_TEST(dict[8].second() == 2.0);
  // m2 = 0.9 * 0.1 g + 0.1 g = 0.19 g
  BOOST_TEST(close_arrays(dict[9].second, xt::xarray<double>{0.095, -0.19}, 1e-15));
}

BOOST_AUTO_TEST_CASE(resumed_sgd_continues_bit_identically) {
  check_resume_is_bit_identical<SGD<float>>(SGDOptions(0.1).momentum(0.9).nesterov(true));
  check_resume_is_bit_identical<SGD<float>>(SGDOptions(0.1).momentum(0.5).dampening(0.1));
}

BOOST_AUTO_TEST_CASE(resumed_adam_continues_bit_identically) {
  check_resume_is_bit_identical<Adam<float>>(AdamOptions(0.05).weight_decay(0.01));
  check_resume_is_bit_identical<Adam<float>>(AdamOptions(0.05).amsgrad(true));
  check_resume_is_bit_identical<AdamW<float>>(AdamWOptions(0.05));
}

BOOST_AUTO_TEST_CASE(load_state_dict_restores_group_lrs) {
  Tensor<double> a = param({1.0}), b = param({1.0});
  SGD<double> source(std::vector<ParamGroup<double>>{{{a}, 0.5, {}}, {{b}, 0.125, 0.25}},
                     SGDOptions(0.1));
  Tensor<double> a2 = param({1.0}), b2 = param({1.0});
  SGD<double> target(std::vector<ParamGroup<double>>{{{a2}, {}, {}}, {{b2}, {}, {}}},
                     SGDOptions(0.1));
  target.load_state_dict(source.state_dict());
  BOOST_TEST(target.lr(0) == 0.5);
  BOOST_TEST(target.lr(1) == 0.125);
  BOOST_TEST(target.weight_decay(1) == 0.25);
}

namespace {

// A dict from an Adam run of 1 step on a [2] parameter, for corrupting.
xgrad::StateDict<double> adam_dict() {
  Tensor<double> w = param({1.0, -2.0});
  Adam<double> opt({w}, AdamOptions(0.1));
  set_grad(w, xt::xarray<double>{0.5, -1.0});
  opt.step();
  return opt.state_dict();
}

xt::xarray<double>& entry(xgrad::StateDict<double>& dict, const std::string& name) {
  for (auto& e : dict) {
    if (e.first == name) return e.second;
  }
  throw std::logic_error("no entry " + name);
}

void erase(xgrad::StateDict<double>& dict, const std::string& name) {
  for (auto it = dict.begin(); it != dict.end(); ++it) {
    if (it->first == name) {
      dict.erase(it);
      return;
    }
  }
}

// Loading `dict` into a fresh 1-step Adam must throw E mentioning `needle` and
// leave the optimizer's state dict unchanged.
template <class E>
void check_load_fails(const xgrad::StateDict<double>& dict, const std::string& needle,
                      const AdamOptions& options = AdamOptions(0.1)) {
  Tensor<double> w = param({3.0, 4.0});
  Adam<double> opt({w}, options);
  set_grad(w, xt::xarray<double>{1.0, 1.0});
  opt.step();
  const auto before = opt.state_dict();
  try {
    opt.load_state_dict(dict);
    BOOST_ERROR("load_state_dict accepted a bad dict (expected: " + needle + ")");
  } catch (const E& e) {
    BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
  }
  const auto after = opt.state_dict();
  BOOST_REQUIRE(after.size() == before.size());
  for (std::size_t k = 0; k < after.size(); ++k) {
    BOOST_TEST(after[k].first == before[k].first);
    BOOST_TEST(equal_arrays(after[k].second, before[k].second));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(load_state_dict_rejects_a_missing_key) {
  auto dict = adam_dict();
  erase(dict, "state.0.exp_avg_sq");
  check_load_fails<ValueError>(dict, "missing key \"state.0.exp_avg_sq\"");
  dict = adam_dict();
  erase(dict, "param_groups.0.lr");
  check_load_fails<ValueError>(dict, "missing key \"param_groups.0.lr\"");
}

BOOST_AUTO_TEST_CASE(load_state_dict_rejects_an_unexpected_key) {
  auto dict = adam_dict();
  dict.emplace_back("state.7.exp_avg", xt::xarray<double>{1.0, 2.0});
  check_load_fails<ValueError>(dict, "unexpected key \"state.7.exp_avg\"");
  dict = adam_dict();
  dict.emplace_back("momentum", xt::xarray<double>(0.0));
  check_load_fails<ValueError>(dict, "unexpected key \"momentum\"");
}

BOOST_AUTO_TEST_CASE(load_state_dict_rejects_a_wrong_shape_with_shape_error) {
  auto dict = adam_dict();
  entry(dict, "state.0.exp_avg") = xt::xarray<double>{1.0, 2.0, 3.0};
  check_load_fails<xgrad::ShapeError>(dict, "\"state.0.exp_avg\" has shape [3]");
}

BOOST_AUTO_TEST_CASE(load_state_dict_rejects_bad_values) {
  auto dict = adam_dict();
  entry(dict, "param_groups.0.lr") = xt::xarray<double>(-1.0);
  check_load_fails<ValueError>(dict, "\"param_groups.0.lr\" must be >= 0, got -1");
  dict = adam_dict();
  entry(dict, "state.0.step") = xt::xarray<double>(1.5);
  check_load_fails<ValueError>(dict, "\"state.0.step\" must be an integer >= 0, got 1.5");
  // Counts beyond 2^53 (incl. inf) would overflow the conversion to int64.
  const std::pair<double, const char*> huge_counts[] = {
      {1e30, "1e+30"}, {std::numeric_limits<double>::infinity(), "inf"}};
  for (const auto& huge : huge_counts) {
    dict = adam_dict();
    entry(dict, "state.0.step") = xt::xarray<double>(huge.first);
    check_load_fails<ValueError>(
        dict, std::string("\"state.0.step\" must be an integer >= 0, got ") + huge.second);
  }
}

BOOST_AUTO_TEST_CASE(load_state_dict_rejects_other_options_or_groups) {
  // Saved without amsgrad: an amsgrad optimizer would lack max_exp_avg_sq.
  check_load_fails<ValueError>(adam_dict(), "\"options.amsgrad\" is 0 but this optimizer has 1",
                               AdamOptions(0.1).amsgrad(true));
  auto dict = adam_dict();
  entry(dict, "param_groups.0.params") = xt::xarray<double>{0.0, 1.0};
  check_load_fails<ValueError>(dict, "\"param_groups.0.params\" does not list parameters 0..0");
}

// ---- bad options ----

BOOST_AUTO_TEST_CASE(bad_sgd_options_throw_value_error_naming_them) {
  struct Case {
    SGDOptions options;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {SGDOptions(-0.1), "lr must be >= 0, got -0.1"},
      {SGDOptions(0.1).momentum(-0.5), "momentum must be >= 0, got -0.5"},
      {SGDOptions(0.1).weight_decay(-1), "weight_decay must be >= 0, got -1"},
      {SGDOptions(0.1).nesterov(true), "nesterov requires momentum > 0 and dampening = 0"},
      {SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true), "dampening 0.1"},
  };
  for (const auto& c : cases) {
    Tensor<double> w = param({1.0});
    try {
      SGD<double> opt({w}, c.options);
      BOOST_ERROR("no error for " + c.needle);
    } catch (const ValueError& e) {
      BOOST_TEST(std::string(e.what()).find(c.needle) != std::string::npos, e.what());
      BOOST_TEST(std::string(e.what()).find("SGD") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_adam_options_throw_value_error_naming_them) {
  struct Case {
    AdamOptions options;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {AdamOptions(-1e-3), "lr must be >= 0, got -0.001"},
      {AdamOptions().betas({1.0, 0.999}), "beta1) must be in [0, 1), got 1"},
      {AdamOptions().betas({0.9, -0.1}), "beta2) must be in [0, 1), got -0.1"},
      {AdamOptions().eps(0), "eps must be > 0, got 0"},
      {AdamOptions().eps(-1e-8), "eps must be > 0, got -1e-08"},
      {AdamOptions().weight_decay(-0.5), "weight_decay must be >= 0, got -0.5"},
  };
  for (const auto& c : cases) {
    Tensor<double> w = param({1.0});
    BOOST_CHECK_THROW(Adam<double>({w}, c.options), ValueError);
    const AdamWOptions w_options = AdamWOptions(c.options.lr())
                                       .betas(c.options.betas())
                                       .eps(c.options.eps())
                                       .weight_decay(c.options.weight_decay());
    BOOST_CHECK_THROW(AdamW<double>({w}, w_options), ValueError);
    try {
      Adam<double> opt({w}, c.options);
    } catch (const ValueError& e) {
      BOOST_TEST(std::string(e.what()).find(c.needle) != std::string::npos, e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_parameter_lists_throw_value_error) {
  Tensor<double> w = param({1.0});
  BOOST_CHECK_THROW(SGD<double>(std::vector<Tensor<double>>{}, SGDOptions(0.1)), ValueError);
  BOOST_CHECK_THROW(SGD<double>({Tensor<double>()}, SGDOptions(0.1)), ValueError);
  BOOST_CHECK_THROW(SGD<double>({w, w}, SGDOptions(0.1)), ValueError);
  // A non-leaf: clone() of a tensor requiring grad records CloneBackward.
  Tensor<double> derived = w.clone();
  BOOST_CHECK_THROW(SGD<double>({derived}, SGDOptions(0.1)), ValueError);
  // A group's own lr is validated too, naming the group.
  try {
    SGD<double> opt(std::vector<ParamGroup<double>>{{{w}, -0.5, {}}}, SGDOptions(0.1));
    BOOST_ERROR("negative group lr accepted");
  } catch (const ValueError& e) {
    BOOST_TEST(
        std::string(e.what()).find("param group 0: lr must be >= 0, got -0.5") != std::string::npos,
        e.what());
  }
}

BOOST_AUTO_TEST_CASE(bad_group_index_or_lr_throws_value_error) {
  Tensor<double> w = param({1.0});
  SGD<double> opt({w}, SGDOptions(0.1));
  BOOST_CHECK_THROW(opt.lr(1), ValueError);
  BOOST_CHECK_THROW(opt.set_lr(1, 0.1), ValueError);
  BOOST_CHECK_THROW(opt.set_lr(0, -0.1), ValueError);
  BOOST_TEST(opt.lr(0) == 0.1);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  const D p = leaf({2});
  r.push_back({"SGD: negative lr",
               raises<ValueError>("SGD", {"lr must be >= 0", "got -1"}),
               [p] { optim::SGD<double>({p}, optim::SGDOptions(-1.0)); },
               {p}});
  r.push_back({"SGD: negative momentum",
               raises<ValueError>("SGD", {"momentum", "got -1"}),
               [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).momentum(-1)); },
               {p}});
  r.push_back({"SGD: nesterov without momentum",
               raises<ValueError>("SGD", {"nesterov", "got momentum 0 and dampening 0"}),
               [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).nesterov(true)); },
               {p}});
  r.push_back({"SGD: negative weight decay",
               raises<ValueError>("SGD", {"weight_decay", "got -1"}),
               [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).weight_decay(-1)); },
               {p}});
  r.push_back({"SGD: no parameters", raises<ValueError>("SGD", {"param group 0 has no parameters"}),
               [] { optim::SGD<double>(std::vector<D>{}, optim::SGDOptions(0.1)); }});
  r.push_back({"SGD: undefined parameter",
               raises<ValueError>("SGD", {"param group 0, parameter 0 is undefined"}),
               [u] { optim::SGD<double>({u}, optim::SGDOptions(0.1)); }});
  r.push_back({"SGD: non-leaf parameter",
               raises<ValueError>("SGD", {"parameter 0 is not a leaf", "MulBackward"}),
               [p] { optim::SGD<double>({p * 2.0}, optim::SGDOptions(0.1)); },
               {p}});
  r.push_back({"SGD: repeated parameter",
               raises<ValueError>("SGD", {"parameter 1 appears more than once"}),
               [p] {
                 optim::SGD<double>({p, p}, optim::SGDOptions(0.1));
               },
               {p}});
  r.push_back({"Adam: beta1 = 1",
               raises<ValueError>("Adam", {"betas.first (beta1)", "got 1"}),
               [p] {
                 optim::Adam<double>({p}, optim::AdamOptions().betas({1.0, 0.9}));
               },
               {p}});
  r.push_back({"Adam: beta2 negative",
               raises<ValueError>("Adam", {"betas.second (beta2)", "got -0.1"}),
               [p] {
                 optim::Adam<double>({p}, optim::AdamOptions().betas({0.9, -0.1}));
               },
               {p}});
  r.push_back({"Adam: eps 0",
               raises<ValueError>("Adam", {"eps", "got 0"}),
               [p] { optim::Adam<double>({p}, optim::AdamOptions().eps(0)); },
               {p}});
  r.push_back({"Adam: NaN lr",
               raises<ValueError>("Adam", {"lr", "got nan"}),
               [p] { optim::Adam<double>({p}, optim::AdamOptions(kNaN)); },
               {p}});
  r.push_back({"AdamW: negative weight decay",
               raises<ValueError>("AdamW", {"weight_decay", "got -1"}),
               [p] { optim::AdamW<double>({p}, optim::AdamWOptions().weight_decay(-1)); },
               {p}});
  auto sgd =
      std::make_shared<optim::SGD<double>>(std::vector<D>{p}, optim::SGDOptions(0.1).momentum(0.9));
  r.push_back({"set_lr: group out of range",
               raises<ValueError>("SGD::set_lr", {"group 3 out of range"}),
               [sgd] { sgd->set_lr(3, 0.1); },
               {p}});
  r.push_back({"set_lr: negative",
               raises<ValueError>("SGD::set_lr", {"lr must be >= 0", "got -0.1"}),
               [sgd] { sgd->set_lr(0, -0.1); },
               {p}});
  r.push_back({"lr: group out of range",
               raises<ValueError>("SGD::lr", {"group 1 out of range"}),
               [sgd] { sgd->lr(1); },
               {p}});
  r.push_back({"params: group out of range",
               raises<ValueError>("SGD::params", {"group 2 out of range"}),
               [sgd] { sgd->params(2); },
               {p}});
  r.push_back({"optimizer load_state_dict: empty",
               raises<ValueError>("SGD::load_state_dict", {"missing key \"optimizer.SGD\""}),
               [sgd] { sgd->load_state_dict({}); },
               {p}});
  r.push_back({"optimizer load_state_dict: another optimizer's",
               raises<TypeError>("SGD::load_state_dict", {"from Adam, not SGD", "optimizer.Adam"}),
               [sgd, p] {
                 optim::Adam<double> adam({p});
                 sgd->load_state_dict(adam.state_dict());
               },
               {p}});
  const D g = leaf({2});
  sum(g * 1.0).backward();
  g.grad().mutable_data() = xt::xarray<double>::from_shape({3});
  auto sgd2 = std::make_shared<optim::SGD<double>>(std::vector<D>{g}, optim::SGDOptions(0.1));
  r.push_back(
      {"step: gradient of the wrong shape",
       raises<ShapeError>("SGD::step", {"parameter 0 has shape [2]", "gradient has shape [3]"}),
       [sgd2] { sgd2->step(); },
       {g}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_optim
