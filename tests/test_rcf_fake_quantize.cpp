// RCF fake quantize (learnable alpha): the op's closed-form forward and
// gradients at and around every boundary, its equality with the authors'
// stop-gradient composition, and the RCFFakeQuantize module.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/observers/clip_observers.hpp"

BOOST_AUTO_TEST_SUITE(test_rcf_fake_quantize)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

// P: the nearest level by brute force (distances in T, lower level on ties).
template <class T>
T nearest(T c, const std::vector<T>& lv) {
  T best = lv[0];
  for (T l : lv)
    if (std::abs(l - c) < std::abs(best - c)) best = l;
  return best;
}

// The authors' composition from engine primitives with a stop-gradient:
// alpha * (c + detach(P(c) - c)), c = clamp(x / alpha, lo, 1).
template <class T>
Tensor<T> rcf_composed(const Tensor<T>& x, const Tensor<T>& alpha, const std::vector<T>& lv) {
  const Tensor<T> c = clamp(x / alpha, lv.front(), T(1));
  xt::xarray<T> p = c.data();
  for (auto& v : p) v = nearest(v, lv);
  const Tensor<T> offset = (Tensor<T>(p) - c).detach();
  return alpha * (c + offset);
}

struct Grads {
  double y, dx, dalpha;
};

// Forward value and both gradients of a one-element RCF (dy = 1).
template <class T>
Grads rcf_at(T x, T alpha, const std::vector<T>& lv, double grad_scale = 1.0) {
  Tensor<T> xt_ = tensor<T>({x}, true);
  Tensor<T> a = tensor<T>({alpha}, true);
  Tensor<T> y = rcf_fake_quantize(xt_, a, lv, grad_scale);
  sum(y).backward();
  return {double(y.data()(0)), double(xt_.grad().data()(0)), double(a.grad().data()(0))};
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_projects_onto_alpha_times_the_nearest_level) {
  const std::vector<float> lv = apot_unsigned_levels(2, 2).values<float>();  // {0, 1/4, 1/2, 1}
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor<float> x =
      tensor<float>({-1.0f, 0.0f, 0.25f, 0.3f, 0.75f, 1.5f, 2.0f, 3.0f, inf, nan});
  const Tensor<float> y = rcf_fake_quantize(x, tensor<float>({2.0f}), lv);
  // u = x/2: -0.5 clips to 0; 0.125 ties 0 / 0.25 -> lower; 0.15 -> 0.25;
  // 0.375 ties -> 0.25; 0.75 ties 0.5 / 1 -> 0.5; 1 and above -> 1.
  const xt::xarray<float> expected = {0.0f, 0.0f, 0.0f, 0.5f, 0.5f, 1.0f, 2.0f, 2.0f, 2.0f, nan};
  BOOST_TEST(equal_arrays(y.data(), expected));
}

BOOST_AUTO_TEST_CASE(closed_form_gradients_at_and_around_every_boundary) {
  // alpha = 2 (a power of two) keeps u = x / alpha exact, so every expected
  // value below is exact (dyadic, also in float).
  struct Case {
    const char* set;
    std::vector<double> lv;
    double x, y, dx, dalpha;
  };
  const std::vector<double> u4 = {0, 0.25, 0.5, 1};
  const std::vector<double> tern = {-1, 0, 1};
  const double e = 1.0 / 1024;  // a step well inside each region
  const std::vector<Case> cases = {
      // unsigned: below the range, at 0, just inside, the top boundary, above
      {"unsigned", u4, -2 * e, 0, 0, 0},
      {"unsigned", u4, -1e300, 0, 0, 0},
      {"unsigned", u4, 0, 0, 1, 0},
      {"unsigned", u4, 2 * e, 0, 1, 0 - e},  // u = e, P = 0: P - u = -e
      {"unsigned", u4, 0.625, 0.5, 1, 0.25 - 0.3125},
      {"unsigned", u4, 2 - 2 * e, 2, 1, 1 - (1 - e)},
      {"unsigned", u4, 2, 2, 1, 0},  // u = 1 is inside: P(1) - 1 = 0
      {"unsigned", u4, 2 + 2 * e, 2, 0, 1},
      {"unsigned", u4, 1e300, 2, 0, 1},
      // signed: both clip boundaries, their neighbours and the midpoint ties
      {"signed", tern, -2 - 2 * e, -2, 0, -1},
      {"signed", tern, -2, -2, 1, 0},  // u = -1 inside: P(-1) + 1 = 0
      {"signed", tern, -2 + 2 * e, -2, 1, -1 - (-1 + e)},
      {"signed", tern, -1, -2, 1, -1 + 0.5},  // u = -0.5 ties -1 / 0: lower
      {"signed", tern, 1, 0, 1, -0.5},        // u = 0.5 ties 0 / 1: lower
      {"signed", tern, 1 + 2 * e, 2, 1, 1 - (0.5 + e)},
      {"signed", tern, 2, 2, 1, 0},
      {"signed", tern, 2 + 2 * e, 2, 0, 1},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.set << " x=" << c.x) {
      const Grads g = rcf_at<double>(c.x, 2.0, c.lv);
      BOOST_TEST(g.y == c.y);
      BOOST_TEST(g.dx == c.dx);
      BOOST_TEST(g.dalpha == c.dalpha);
      const Grads f = rcf_at<float>(float(c.x), 2.0f, std::vector<float>(c.lv.begin(), c.lv.end()));
      BOOST_TEST(f.y == double(float(c.y)));
      BOOST_TEST(f.dx == c.dx);
      BOOST_TEST(f.dalpha == double(float(c.dalpha)));
    }
  }
}

BOOST_AUTO_TEST_CASE(range_test_at_the_last_floats_matches_the_division) {
  // Backward decides "inside" from x by thresholds; they must reproduce
  // lo <= fl(x / alpha) <= 1 exactly, also where the division rounds.
  for (float alpha : {0.1f, 3.7f, 1e-3f, 7e30f, 1.0f}) {
    for (float lo : {0.0f, -1.0f}) {
      std::vector<float> xs;
      for (float centre : {alpha, lo * alpha, 0.0f, -alpha}) {
        float v = centre;
        for (int k = 0; k < 6; ++k) v = std::nextafter(v, -1e38f);
        for (int k = 0; k < 13; ++k, v = std::nextafter(v, 1e38f)) xs.push_back(v);
      }
      xs.push_back(-1e-45f);
      xs.push_back(1e-45f);
      const std::vector<float> lv =
          lo < 0 ? std::vector<float>{-1, 0, 1} : std::vector<float>{0, 1};
      Tensor<float> x(xt::xarray<float>::from_shape({xs.size()}), true);
      std::copy(xs.begin(), xs.end(), x.mutable_data().begin());
      Tensor<float> a = tensor<float>({alpha}, true);
      sum(rcf_fake_quantize(x, a, lv)).backward();
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const float u = xs[i] / alpha;
        BOOST_TEST_CONTEXT("alpha=" << alpha << " lo=" << lo << " x=" << xs[i]) {
          BOOST_TEST(x.grad().data()(i) == ((u >= lo && u <= 1.0f) ? 1.0f : 0.0f));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(grad_scale_multiplies_only_alphas_gradient) {
  const std::vector<double> lv = {0, 0.25, 0.5, 1};
  const Grads plain = rcf_at<double>(3.0, 2.0, lv);
  const Grads scaled = rcf_at<double>(3.0, 2.0, lv, 0.125);
  BOOST_TEST(scaled.y == plain.y);
  BOOST_TEST(scaled.dx == plain.dx);
  BOOST_TEST(scaled.dalpha == plain.dalpha * 0.125);
}

BOOST_AUTO_TEST_CASE(nan_gives_nan_and_no_gradient) {
  const std::vector<double> lv = {-1, 0, 1};
  const Grads g = rcf_at<double>(std::numeric_limits<double>::quiet_NaN(), 2.0, lv);
  BOOST_TEST(std::isnan(g.y));
  BOOST_TEST(g.dx == 0.0);
  BOOST_TEST(g.dalpha == 0.0);
}

BOOST_AUTO_TEST_CASE(alpha_gradient_sums_over_the_tensor_with_the_upstream_gradient) {
  const std::vector<double> lv = {0, 0.25, 0.5, 1};
  Tensor<double> x = tensor<double>({0.6, 3.0, -1.0, 1.0}, true);
  Tensor<double> a = tensor<double>({2.0}, true);
  Tensor<double> y = rcf_fake_quantize(x, a, lv);
  y.backward(xt::xarray<double>({1.0, 2.0, 5.0, -4.0}));
  // per element: 0.25 - 0.3; 1 (clipped); 0 (below unsigned); P(0.5) - 0.5 = 0.
  BOOST_TEST(a.grad().data()(0) == 1.0 * (0.25 - 0.3) + 2.0 * 1 + 5.0 * 0 - 4.0 * 0);
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>({1.0, 0.0, 0.0, -4.0})));
}

BOOST_AUTO_TEST_CASE(equals_the_stop_gradient_composition_forward_and_backward) {
  std::mt19937 gen(7);
  std::normal_distribution<double> dist(0.0, 1.5);
  struct Case {
    LevelSet set;
    double alpha;
  };
  const std::vector<Case> cases = {
      {apot_unsigned_levels(4, 2), 1.7},    {apot_unsigned_levels(3, 2), 0.9},
      {apot_sign_magnitude_levels(4), 2.3}, {apot_sign_magnitude_levels(2), 1.1},
      {uniform_levels(3, true), 1.3},       {power_of_two_levels(3, false), 2.0}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.set.name << " alpha=" << c.alpha) {
      xt::xarray<double> xs = xt::xarray<double>::from_shape({257});
      for (auto& v : xs) v = dist(gen);
      xt::xarray<double> up = xt::xarray<double>::from_shape({257});
      for (auto& v : up) v = dist(gen);
      const std::vector<double> lv = c.set.values<double>();
      Tensor<double> x1(xs, true), a1 = tensor<double>({c.alpha}, true);
      Tensor<double> x2(xs, true), a2 = tensor<double>({c.alpha}, true);
      Tensor<double> fused = rcf_fake_quantize(x1, a1, lv);
      Tensor<double> composed = rcf_composed(x2, a2, lv);
      // Exact: P(c) - c is exact (Sterbenz: a named set's neighbouring nonzero
      // levels are within a factor 2), so c + (P(c) - c) == P(c).
      BOOST_TEST(equal_arrays(fused.data(), composed.data()));
      fused.backward(up);
      composed.backward(up);
      // dx: the composition computes (dy * alpha) / alpha, one rounding from dy.
      BOOST_TEST(xgrad_test::close_arrays(x1.grad().data(), x2.grad().data(), 1e-15));
      // dalpha: the same 257 terms summed in another order and split as
      // P(c) - x / alpha: agreement to a few ulps of the terms' magnitude.
      BOOST_TEST(std::abs(a1.grad().item() - a2.grad().item()) <= 1e-12);
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_typed_errors) {
  const std::vector<float> lv = {0, 0.5f, 1};
  const Tensor<float> x = tensor<float>({0.3f});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float a : {0.0f, -1.0f, nan, std::numeric_limits<float>::infinity()}) {
    BOOST_TEST_CONTEXT("alpha=" << a) {
      BOOST_CHECK_EXCEPTION(
          rcf_fake_quantize(x, tensor<float>({a}), lv), ValueError,
          mentions<ValueError>("rcf_fake_quantize: alpha must be finite and > 0"));
    }
  }
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, tensor<float>({1.0f, 2.0f}), lv), ShapeError,
                        mentions<ShapeError>("alpha must hold one value"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, Tensor<float>(), lv), ValueError,
                        mentions<ValueError>("alpha is undefined"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(Tensor<float>(), scalar<float>(1.0f), lv), ValueError,
                        mentions<ValueError>("x is undefined"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, scalar<float>(1.0f), {0.0f, 0.5f, 0.9f}), ValueError,
                        mentions<ValueError>("from 0 (unsigned) or -1 (signed) to 1"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, scalar<float>(1.0f), {0.0f, 0.5f, 0.5f, 1.0f}),
                        ValueError, mentions<ValueError>("strictly ascending"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, scalar<float>(1.0f), {1.0f}), ValueError,
                        mentions<ValueError>("at least 2"));
  BOOST_CHECK_EXCEPTION(rcf_fake_quantize(x, scalar<float>(1.0f), lv, double(nan)), ValueError,
                        mentions<ValueError>("grad_scale"));
}

// ---- module ----

BOOST_AUTO_TEST_CASE(module_state_is_alpha_then_flags_levels_and_the_observer) {
  RCFFakeQuantize<float> fq(apot_sign_magnitude_levels(4));  // fixed alpha: no observer
  const auto sd = fq.state_dict();
  std::vector<std::string> names;
  for (const auto& e : sd) names.push_back(e.first);
  const std::vector<std::string> expected = {"alpha", "fake_quant_enabled", "observer_enabled",
                                             "levels"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  BOOST_TEST(!fq.activation_post_process);
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<float> observing(apot_sign_magnitude_levels(4), o);
  BOOST_TEST(observing.state_dict().back().first == "activation_post_process.max_abs");
  BOOST_TEST(fq.alpha().item() == 3.0f);
  BOOST_TEST(fq.alpha().requires_grad());
  BOOST_TEST(fq.parameters().size() == 1u);
  BOOST_TEST(fq.is_signed());
  BOOST_TEST(fq.levels() == apot_sign_magnitude_levels(4).values<float>(),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(module_forward_is_the_op_with_the_learnable_alpha) {
  RCFFakeQuantize<double> fq(apot_unsigned_levels(2, 2));  // fixed alpha 3
  Tensor<double> x = tensor<double>({0.5, 1.4, 4.0}, true);
  Tensor<double> y = fq.forward(x);
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>({0.75, 1.5, 3.0})));
  sum(y).backward();
  // u = 1/6 -> 0.25; 1.4/3 -> 0.5; clipped -> 1.
  const double expected = (0.25 - 0.5 / 3.0) + (0.5 - 1.4 / 3.0) + 1.0;
  BOOST_TEST(std::abs(fq.alpha().grad().item() - expected) <= 1e-15);
  BOOST_TEST(fq.alpha().item() == 3.0);  // fixed: the observer leaves alpha alone
}

BOOST_AUTO_TEST_CASE(max_abs_policy_tracks_the_running_max_while_observing) {
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<float> fq(apot_sign_magnitude_levels(3), o);
  fq.forward(tensor<float>({0.5f, -2.5f}));
  BOOST_TEST(fq.alpha().item() == 2.5f);
  fq.forward(tensor<float>({1.0f}));
  BOOST_TEST(fq.alpha().item() == 2.5f);
  fq.forward(tensor<float>({-4.0f}));
  BOOST_TEST(fq.alpha().item() == 4.0f);
  fq.disable_observer();
  fq.forward(tensor<float>({8.0f}));
  BOOST_TEST(fq.alpha().item() == 4.0f);
}

BOOST_AUTO_TEST_CASE(lsq_clip_point_policy_is_two_mean_abs_times_sqrt_top_code) {
  RCFOptions<double> o;
  o.init = AlphaInit::lsq_clip_point;
  RCFFakeQuantize<double> fq(apot_unsigned_levels(4, 2), o);  // top_code 15
  fq.disable_fake_quant();
  fq.forward(tensor<double>({1.0, -3.0, 2.0, 2.0}));
  BOOST_TEST(fq.alpha().item() == 2.0 * 2.0 * std::sqrt(15.0));
}

// Any ClipObserver may set the initial alpha, whatever the level set's top code.
BOOST_AUTO_TEST_CASE(an_observer_given_to_the_constructor_sets_the_initial_alpha) {
  auto observer = std::make_shared<LsqClipPointObserver<double>>(3);
  RCFFakeQuantize<double> fq(apot_unsigned_levels(4, 2), {}, observer);
  BOOST_TEST(fq.activation_post_process == observer);
  fq.disable_fake_quant();
  fq.forward(tensor<double>({1.0, -3.0}));
  BOOST_TEST(fq.alpha().item() == 2.0 * 2.0 * std::sqrt(3.0));
  BOOST_TEST(observer->calculate_qparams() == fq.alpha().item());
  RCFFakeQuantize<double> learned_only(apot_unsigned_levels(4, 2), {}, nullptr);
  learned_only.forward(tensor<double>({7.0}));
  BOOST_TEST(learned_only.alpha().item() == 3.0);
}

BOOST_AUTO_TEST_CASE(clip_observers_refuse_non_finite_values_and_keep_their_state) {
  MaxAbsObserver<float> max_abs;
  BOOST_TEST(max_abs.calculate_qparams() == 0.0f);
  max_abs.forward(tensor<float>({1.0f, -2.0f}));
  max_abs.forward(tensor<float>({1.5f}));
  BOOST_TEST(max_abs.calculate_qparams() == 2.0f);
  BOOST_CHECK_EXCEPTION(max_abs.forward(tensor<float>({3.0f, std::nanf("")})), ValueError,
                        mentions<ValueError>("MaxAbsObserver.forward: cannot observe nan"));
  BOOST_TEST(max_abs.calculate_qparams() == 2.0f);
  max_abs.forward(Tensor<float>(xt::xarray<float>::from_shape({0})));
  BOOST_TEST(max_abs.calculate_qparams() == 2.0f);
  LsqClipPointObserver<float> clip(15);
  BOOST_CHECK_EXCEPTION(clip.forward(tensor<float>({3e38f, 3e38f})), ValueError,
                        mentions<ValueError>("overflows"));
  BOOST_TEST(clip.calculate_qparams() == 0.0f);
  BOOST_CHECK_EXCEPTION(LsqClipPointObserver<float>(0), ValueError,
                        mentions<ValueError>("top_code must be >= 1"));
}

BOOST_AUTO_TEST_CASE(an_all_zero_calibration_batch_gives_min_alpha) {
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;
  o.min_alpha = 0.01f;
  RCFFakeQuantize<float> fq(apot_unsigned_levels(2, 2), o);
  fq.forward(zeros<float>({3}));
  BOOST_TEST(fq.alpha().item() == 0.01f);
}

BOOST_AUTO_TEST_CASE(lsq_grad_scale_option_scales_alphas_gradient) {
  RCFOptions<double> o;
  o.lsq_grad_scale = true;
  o.alpha = 2.0;
  RCFFakeQuantize<double> fq(uniform_levels(2, false), o);  // top_code 3
  Tensor<double> x = tensor<double>({5.0, 5.0, 5.0}, true);
  sum(fq.forward(x)).backward();
  BOOST_TEST(fq.alpha().grad().item() == 3.0 * (1.0 / std::sqrt(3.0 * 3.0)));
  BOOST_TEST(lsq_grad_scale(3, 3) == 1.0 / 3.0);
}

BOOST_AUTO_TEST_CASE(clamp_alpha_keeps_alpha_positive) {
  RCFOptions<float> o;
  o.min_alpha = 1e-3f;
  RCFFakeQuantize<float> fq(apot_unsigned_levels(2, 2), o);
  fq.alpha().mutable_data()(0) = -0.5f;  // what a large optimizer step can do
  BOOST_CHECK_EXCEPTION(fq.forward(tensor<float>({1.0f})), ValueError,
                        mentions<ValueError>("alpha must be finite and > 0, got -0.5"));
  fq.clamp_alpha_();
  BOOST_TEST(fq.alpha().item() == 1e-3f);
  fq.alpha().mutable_data()(0) = std::numeric_limits<float>::quiet_NaN();
  fq.clamp_alpha_();
  BOOST_TEST(fq.alpha().item() == 1e-3f);
  fq.alpha().mutable_data()(0) = 2.0f;
  fq.clamp_alpha_();
  BOOST_TEST(fq.alpha().item() == 2.0f);
}

BOOST_AUTO_TEST_CASE(state_dict_round_trips_alpha_levels_and_flags) {
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<float> a(apot_unsigned_levels(4, 2), o);
  a.forward(tensor<float>({0.2f, 1.7f}));
  a.disable_observer();
  RCFFakeQuantize<float> b(apot_unsigned_levels(4, 2), o);
  b.load_state_dict(a.state_dict());
  BOOST_TEST(b.alpha().item() == 1.7f);
  BOOST_TEST(!b.observer_enabled());
  const Tensor<float> x = tensor<float>({0.3f, 1.0f, 5.0f});
  BOOST_TEST(equal_arrays(b.forward(x).data(), a.forward(x).data()));
  // A state dict of another level-set size does not load, and changes nothing.
  RCFFakeQuantize<float> c(apot_unsigned_levels(2, 2), o);
  BOOST_CHECK_THROW(c.load_state_dict(a.state_dict()), ShapeError);
  BOOST_TEST(c.alpha().item() == 3.0f);
  BOOST_TEST(c.observer_enabled());
  BOOST_TEST(c.activation_post_process->calculate_qparams() == 0.0f);
}

BOOST_AUTO_TEST_CASE(bad_module_input_leaves_the_module_unchanged) {
  using xgrad_test::message_of;
  RCFOptions<float> bad;
  bad.alpha = 0.0f;
  BOOST_CHECK_EXCEPTION(RCFFakeQuantize<float>(apot_unsigned_levels(2, 2), bad), ValueError,
                        mentions<ValueError>("RCFFakeQuantize: alpha"));
  bad.alpha = 1.0f;
  bad.min_alpha = -1.0f;
  BOOST_CHECK_EXCEPTION(RCFFakeQuantize<float>(apot_unsigned_levels(2, 2), bad), ValueError,
                        mentions<ValueError>("min_alpha"));
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<float> fq(apot_unsigned_levels(2, 2), o);
  fq.forward(tensor<float>({1.0f}));
  const auto before = fq.state_dict();
  BOOST_CHECK_EXCEPTION(fq.forward(tensor<float>({5.0f, std::numeric_limits<float>::infinity()})),
                        ValueError, mentions<ValueError>("cannot observe inf at flat position 1"));
  BOOST_CHECK_EXCEPTION(fq.forward(Tensor<float>()), ValueError,
                        mentions<ValueError>("x is undefined"));
  const auto after = fq.state_dict();
  for (std::size_t i = 0; i < before.size(); ++i)
    BOOST_TEST(equal_arrays(before[i].second, after[i].second));
}

// ---- per channel ----

BOOST_AUTO_TEST_CASE(per_channel_op_is_the_per_tensor_op_on_every_channel) {
  // x [2, 3, 4] on axis 1: channel c holds x[:, c, :]; each channel's output
  // and x-gradient are the per-tensor op's with alpha[c], bit for bit, and
  // alpha[c]'s gradient is that op's alpha gradient on the slice (4 + 4 terms,
  // exact here: dyadic values and alphas).
  const std::vector<double> lv = apot_sign_magnitude_levels(3).values<double>();
  const std::vector<double> alphas = {0.5, 2.0, 4.0};
  xt::xarray<double> xs = xt::xarray<double>::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < xs.size(); ++i) xs.data()[i] = -3.0 + 0.375 * double(i % 17);
  Tensor<double> x(xs, true), alpha = tensor<double>(alphas, true);
  Tensor<double> y = rcf_fake_quantize_per_channel(x, alpha, 1, lv);
  sum(y).backward();
  for (std::size_t c = 0; c < 3; ++c) {
    BOOST_TEST_CONTEXT("channel " << c) {
      xt::xarray<double> slice = xt::xarray<double>::from_shape({8});
      for (std::size_t o = 0; o < 2; ++o)
        for (std::size_t i = 0; i < 4; ++i) slice(o * 4 + i) = xs(o, c, i);
      Tensor<double> xc(slice, true), ac = tensor<double>({alphas[c]}, true);
      Tensor<double> yc = rcf_fake_quantize(xc, ac, lv);
      sum(yc).backward();
      for (std::size_t o = 0; o < 2; ++o) {
        for (std::size_t i = 0; i < 4; ++i) {
          BOOST_TEST(y.data()(o, c, i) == yc.data()(o * 4 + i));
          BOOST_TEST(x.grad().data()(o, c, i) == xc.grad().data()(o * 4 + i));
        }
      }
      BOOST_TEST(alpha.grad().data()(c) == ac.grad().item());
    }
  }
}

BOOST_AUTO_TEST_CASE(per_channel_op_equals_the_broadcast_stop_gradient_composition) {
  // The authors' composition with alpha of shape [C, 1] broadcast over the
  // rows of x [C, n], built from engine ops: forward bit for bit, gradients
  // to summation rounding (the engine's broadcast sum and ours, n = 65 terms).
  std::mt19937 gen(11);
  std::normal_distribution<double> dist(0.0, 1.5);
  const std::vector<double> lv = apot_sign_magnitude_levels(4).values<double>();
  const std::vector<double> alphas = {0.7, 1.9, 3.1};
  xt::xarray<double> xs = xt::xarray<double>::from_shape({3, 65});
  for (auto& v : xs) v = dist(gen);
  xt::xarray<double> up = xt::xarray<double>::from_shape({3, 65});
  for (auto& v : up) v = dist(gen);
  Tensor<double> x1(xs, true), a1 = tensor<double>(alphas, true);
  Tensor<double> x2(xs, true),
      a2 = reshape(tensor<double>(alphas), {3, 1}).detach().set_requires_grad(true);
  Tensor<double> fused = rcf_fake_quantize_per_channel(x1, a1, 0, lv);
  Tensor<double> composed = rcf_composed(x2, a2, lv);
  BOOST_TEST(equal_arrays(fused.data(), composed.data()));
  fused.backward(up);
  composed.backward(up);
  BOOST_TEST(xgrad_test::close_arrays(x1.grad().data(), x2.grad().data(), 1e-15));
  for (std::size_t c = 0; c < 3; ++c)
    BOOST_TEST(std::abs(a1.grad().data()(c) - a2.grad().data()(c, 0)) <= 1e-12);
}

BOOST_AUTO_TEST_CASE(a_per_channel_module_has_one_alpha_per_output_channel) {
  RCFOptions<double> o;
  o.channel_len = 3;
  RCFFakeQuantize<double> fixed(apot_sign_magnitude_levels(2), o);  // alpha 3 each
  BOOST_TEST(fixed.is_per_channel());
  BOOST_TEST(equal_arrays(fixed.alpha().data(), xt::xarray<double>({3.0, 3.0, 3.0})));
  // Ternary: channel 1 clips its 4 to alpha 3, the others round their values.
  const Tensor<double> w = tensor<double>({{1.0, -2.0}, {4.0, 0.5}, {-1.75, 1.25}});
  BOOST_TEST(equal_arrays(fixed.forward(w).data(),
                          xt::xarray<double>({{0.0, -3.0}, {3.0, 0.0}, {-3.0, 0.0}})));
  // Observed per channel: each row's own max |w| and LSQ clip point.
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<double> by_max(apot_sign_magnitude_levels(2), o);
  by_max.forward(w);
  BOOST_TEST(equal_arrays(by_max.alpha().data(), xt::xarray<double>({2.0, 4.0, 1.75})));
  BOOST_TEST(by_max.activation_post_process->calculate_qparams() == 4.0);  // the tensor's
  o.init = AlphaInit::lsq_clip_point;  // 2 mean|w| sqrt(1) per row
  RCFFakeQuantize<double> by_lsq(apot_sign_magnitude_levels(2), o);
  by_lsq.forward(w);
  BOOST_TEST(equal_arrays(by_lsq.alpha().data(), xt::xarray<double>({3.0, 4.5, 3.0})));
  by_lsq.disable_observer();
  sum(by_lsq.forward(w)).backward();
  BOOST_TEST(by_lsq.alpha().grad().numel() == 3u);
}

BOOST_AUTO_TEST_CASE(a_per_channel_state_dict_round_trips_and_checks_every_alpha) {
  RCFOptions<float> o;
  o.channel_len = 2;
  o.init = AlphaInit::max_abs;
  RCFFakeQuantize<float> a(apot_sign_magnitude_levels(3), o);
  a.forward(tensor<float>({{0.5f, -1.0f}, {2.0f, 0.25f}}));
  RCFFakeQuantize<float> b(apot_sign_magnitude_levels(3), o);
  b.load_state_dict(a.state_dict());
  BOOST_TEST(equal_arrays(b.alpha().data(), xt::xarray<float>({1.0f, 2.0f})));
  auto sd = a.state_dict();
  sd[0].second(1) = -1.0f;
  BOOST_CHECK_EXCEPTION(b.load_state_dict(sd), ValueError,
                        mentions<ValueError>("alpha[1] must be finite and > 0, got -1"));
  BOOST_TEST(equal_arrays(b.alpha().data(), xt::xarray<float>({1.0f, 2.0f})));
  o.channel_len = 3;
  RCFFakeQuantize<float> c(apot_sign_magnitude_levels(3), o);
  BOOST_CHECK_THROW(c.load_state_dict(a.state_dict()), ShapeError);
}

BOOST_AUTO_TEST_CASE(per_channel_clamp_alpha_raises_every_channel) {
  RCFOptions<float> o;
  o.channel_len = 3;
  o.min_alpha = 0.5f;
  RCFFakeQuantize<float> fq(apot_sign_magnitude_levels(2), o);
  fq.alpha().mutable_data() = xt::xarray<float>({-1.0f, 2.0f, 0.1f});
  fq.clamp_alpha_();
  BOOST_TEST(equal_arrays(fq.alpha().data(), xt::xarray<float>({0.5f, 2.0f, 0.5f})));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  const D x = leaf({2, 3}), alpha = D(xt::xarray<double>({2.0}), true);
  const std::vector<double> lv = {0.0, 0.5, 1.0};
  r.push_back({"rcf_fake_quantize: alpha 0",
               raises<ValueError>("rcf_fake_quantize", {"alpha must be finite and > 0", "got 0"}),
               [x] {
                 rcf_fake_quantize(x, D(xt::xarray<double>({0.0}), true), {0.0, 0.5, 1.0});
               },
               {x}});
  r.push_back({"rcf_fake_quantize: negative alpha",
               raises<ValueError>("rcf_fake_quantize", {"alpha must be finite and > 0", "got -1"}),
               [x, lv] { rcf_fake_quantize(x, D(xt::xarray<double>({-1.0})), lv); },
               {x}});
  r.push_back({"rcf_fake_quantize: NaN alpha",
               raises<ValueError>("rcf_fake_quantize", {"alpha must be finite and > 0", "got nan"}),
               [x, lv] { rcf_fake_quantize(x, D(xt::xarray<double>({kNaN})), lv); },
               {x}});
  r.push_back(
      {"rcf_fake_quantize: alpha of two values",
       raises<ShapeError>("rcf_fake_quantize", {"alpha must hold one value", "got shape [2]"}),
       [x, lv] { rcf_fake_quantize(x, leaf({2}), lv); },
       {x}});
  r.push_back({"rcf_fake_quantize_per_channel: alpha of the wrong length",
               raises<ShapeError>("rcf_fake_quantize_per_channel",
                                  {"alpha must have shape [3]", "got shape [2]"}),
               [x, lv] { rcf_fake_quantize_per_channel(x, leaf({2}), 1, lv); },
               {x}});
  r.push_back({"rcf_fake_quantize_per_channel: axis out of range",
               raises<ShapeError>("rcf_fake_quantize_per_channel", {"2"}),
               [x, lv] { rcf_fake_quantize_per_channel(x, leaf({3}), 2, lv); },
               {x}});
  r.push_back({"rcf_fake_quantize_per_channel: a zero alpha",
               raises<ValueError>("rcf_fake_quantize_per_channel",
                                  {"alpha[1] must be finite and > 0", "got 0"}),
               [x, lv] {
                 rcf_fake_quantize_per_channel(x, D(xt::xarray<double>({1.0, 0.0})), 0, lv);
               },
               {x}});
  r.push_back({"RCFFakeQuantize: channel_len 0",
               raises<ValueError>("RCFFakeQuantize", {"channel_len", "got 0"}), [] {
                 RCFOptions<double> o;
                 o.channel_len = 0;
                 RCFFakeQuantize<double> fq(apot_sign_magnitude_levels(2), o);
               }});
  {
    RCFOptions<double> o;
    o.channel_len = 3;
    o.init = AlphaInit::max_abs;
    auto fq = std::make_shared<RCFFakeQuantize<double>>(apot_sign_magnitude_levels(2), o);
    const D w = leaf({2, 3});
    r.push_back(
        {"RCFFakeQuantize per channel: x with 2 channels",
         raises<ShapeError>("RCFFakeQuantize.forward", {"x has 2 channels", "channel_len is 3"}),
         [fq, w] { fq->forward(w); },
         {w},
         {fq}});
  }
  r.push_back({"rcf_fake_quantize: undefined alpha",
               raises<ValueError>("rcf_fake_quantize", {"alpha is undefined"}),
               [x, u, lv] { rcf_fake_quantize(x, u, lv); },
               {x}});
  r.push_back({"rcf_fake_quantize: undefined x",
               raises<ValueError>("rcf_fake_quantize", {"x is undefined"}),
               [u, alpha, lv] { rcf_fake_quantize(u, alpha, lv); },
               {alpha}});
  r.push_back({"rcf_fake_quantize: unsorted levels",
               raises<ValueError>("rcf_fake_quantize", {"strictly ascending", "levels[2]"}),
               [x, alpha] {
                 rcf_fake_quantize(x, alpha, {0.0, 0.75, 0.5, 1.0});
               },
               {x, alpha}});
  r.push_back({"rcf_fake_quantize: levels not ending at 1",
               raises<ValueError>("rcf_fake_quantize", {"levels must run from 0", "to 1"}),
               [x, alpha] {
                 rcf_fake_quantize(x, alpha, {0.0, 0.5, 0.9});
               },
               {x, alpha}});
  r.push_back({"rcf_fake_quantize: one level",
               raises<ValueError>("rcf_fake_quantize", {"at least 2", "got 1"}),
               [x, alpha] { rcf_fake_quantize(x, alpha, {1.0}); },
               {x, alpha}});
  r.push_back({"rcf_fake_quantize: NaN grad_scale",
               raises<ValueError>("rcf_fake_quantize", {"grad_scale", "got nan"}),
               [x, alpha, lv] { rcf_fake_quantize(x, alpha, lv, kNaN); },
               {x, alpha}});
  r.push_back({"RCFFakeQuantize: alpha 0",
               raises<ValueError>("RCFFakeQuantize", {"alpha must be finite and > 0", "got 0"}),
               [] {
                 RCFOptions<double> o;
                 o.alpha = 0.0;
                 RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
               }});
  r.push_back({"RCFFakeQuantize: NaN min_alpha",
               raises<ValueError>("RCFFakeQuantize", {"min_alpha", "got nan"}), [] {
                 RCFOptions<double> o;
                 o.min_alpha = kNaN;
                 RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
               }});
  r.push_back({"RCFFakeQuantize: infinite grad_scale",
               raises<ValueError>("RCFFakeQuantize", {"grad_scale", "got inf"}), [] {
                 RCFOptions<double> o;
                 o.grad_scale = kInf;
                 RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
               }});
  auto rcf = std::make_shared<RCFFakeQuantize<double>>(apot_sign_magnitude_levels(4));
  rcf->alpha().mutable_data().fill(
      -0.5);  // as an optimizer step without clamp_alpha_() could leave it
  r.push_back(forward_of("RCFFakeQuantize: forward with a negative alpha",
                         raises<ValueError>("rcf_fake_quantize", {"alpha", "got -0.5"}), rcf, x));
  RCFOptions<double> observing;
  observing.init = AlphaInit::max_abs;
  auto rcf_obs = std::make_shared<RCFFakeQuantize<double>>(apot_unsigned_levels(4, 2), observing);
  r.push_back(
      {"RCFFakeQuantize: observe a NaN",
       raises<ValueError>("MaxAbsObserver.forward", {"cannot observe nan", "flat position 1"}),
       [rcf_obs] {
         rcf_obs->forward(tensor<double>({1.0, kNaN}));
       },
       {},
       {rcf_obs}});

  // load_state_dict refuses what forward would (or would silently misuse).
  auto rcf_load = [] {
    RCFOptions<double> o;
    o.init = AlphaInit::max_abs;
    auto m = std::make_shared<RCFFakeQuantize<double>>(apot_unsigned_levels(4, 2), o);
    m->forward(tensor<double>({0.5, 1.5}));
    return m;
  };
  const char* rcf_op = "RCFFakeQuantize::load_state_dict";
  r.push_back(load_of("RCFFakeQuantize: load a NaN alpha",
                      raises<ValueError>(rcf_op, {"alpha must be finite and > 0", "got nan"}),
                      rcf_load(), "alpha", 0, kNaN));
  r.push_back(load_of("RCFFakeQuantize: load alpha -1",
                      raises<ValueError>(rcf_op, {"alpha must be finite and > 0", "got -1"}),
                      rcf_load(), "alpha", 0, -1.0));
  r.push_back(
      load_of("RCFFakeQuantize: load unsorted levels",
              raises<ValueError>(rcf_op, {"levels must be strictly ascending", "levels[2] = 0.9"}),
              rcf_load(), "levels", 2, 0.9));
  r.push_back(load_of("RCFFakeQuantize: load levels ending below 1",
                      raises<ValueError>(rcf_op, {"levels must run from 0", "to 1, got [0, 0.5]"}),
                      rcf_load(), "levels", 15, 0.5));
  r.push_back(load_of("RCFFakeQuantize: load a NaN level",
                      raises<ValueError>(rcf_op, {"levels", "nan"}), rcf_load(), "levels", 4,
                      kNaN));
  r.push_back(load_of("RCFFakeQuantize: load fake_quant_enabled 0.5",
                      raises<ValueError>(rcf_op, {"fake_quant_enabled must be 0 or 1", "got 0.5"}),
                      rcf_load(), "fake_quant_enabled", 0, 0.5));
  r.push_back(load_of("RCFFakeQuantize: load a NaN observer_enabled",
                      raises<ValueError>(rcf_op, {"observer_enabled must be 0 or 1", "got nan"}),
                      rcf_load(), "observer_enabled", 0, kNaN));
  r.push_back(load_of(
      "RCFFakeQuantize: load a negative observed max |x|",
      raises<ValueError>("MaxAbsObserver::load_state_dict",
                         {"activation_post_process.max_abs must be finite and >= 0", "got -2"}),
      rcf_load(), "activation_post_process.max_abs", 0, -2.0));
  auto rcf_lsq = std::make_shared<RCFFakeQuantize<double>>(
      apot_unsigned_levels(4, 2), RCFOptions<double>{AlphaInit::lsq_clip_point});
  r.push_back(load_of("RCFFakeQuantize: load a NaN LSQ clip point",
                      raises<ValueError>("LsqClipPointObserver::load_state_dict",
                                         {"activation_post_process.clip_point", "got nan"}),
                      rcf_lsq, "activation_post_process.clip_point", 0, kNaN));
  auto rcf_ok = rcf_load();
  r.push_back({"RCFFakeQuantize: load the levels of another size",
               raises<ShapeError>("RCFFakeQuantize::load_state_dict",
                                  {"shape mismatch: levels (expected [16], got [4])"}),
               [rcf_ok] {
                 RCFOptions<double> o;
                 o.init = AlphaInit::max_abs;
                 RCFFakeQuantize<double> other(apot_unsigned_levels(2, 2), o);
                 rcf_ok->load_state_dict(other.state_dict());
               },
               {},
               {rcf_ok}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_rcf_fake_quantize
