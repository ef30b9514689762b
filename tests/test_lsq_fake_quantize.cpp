// LSQ (learnable scale and zero point) as PyTorch computes it: closed-form
// gradients at and around every boundary, PyTorch's zero-point rounding in each
// pass, per-channel = per-tensor per channel, the RCF cross-check, and the
// LearnableFakeQuantize module.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "test_util.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"

BOOST_AUTO_TEST_SUITE(test_lsq_fake_quantize)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

struct Grads {
  double y, dx, dscale, dzp;
};

template <class T>
Grads lsq_at(T x, T scale, T zp, std::int64_t qmin, std::int64_t qmax, double factor = 1.0) {
  Tensor<T> xt_ = tensor<T>({x}, true), s = tensor<T>({scale}, true), z = tensor<T>({zp}, true);
  Tensor<T> y = fake_quantize_learnable_per_tensor_affine(xt_, s, z, qmin, qmax, factor);
  sum(y).backward();
  return {double(y.data()(0)), double(xt_.grad().data()(0)), double(s.grad().data()(0)),
          double(z.grad().data()(0))};
}

}  // namespace

BOOST_AUTO_TEST_CASE(per_tensor_closed_forms_at_and_around_the_boundaries) {
  // scale 0.5, zero point 2, range [0, 7]: x in [-1, 2.5] is inside. Dyadic
  // values keep every expected number exact, also in float.
  struct Case {
    double x, y, dx, dscale, dzp;
  };
  const std::vector<Case> cases = {
      {-1.5, -1.0, 0, 0 - 2, -0.5},              // q = -1: below
      {-1.25, -1.0, 1, (-1.0 + 1.25) / 0.5, 0},  // q = nearbyint(-0.5) = 0: inside
      {-1.0, -1.0, 1, 0, 0},                     // the bottom boundary
      {0.375, 0.5, 1, (0.5 - 0.375) / 0.5, 0},
      {2.5, 2.5, 1, 0, 0},                      // the top boundary
      {2.625, 2.5, 1, (2.5 - 2.625) / 0.5, 0},  // q = 7.25 -> 7
      {2.75, 2.5, 0, 7 - 2, -0.5},              // q = nearbyint(7.5) = 8: above
      {100.0, 2.5, 0, 7 - 2, -0.5},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("x=" << c.x) {
      const Grads d = lsq_at<double>(c.x, 0.5, 2.0, 0, 7);
      BOOST_TEST(d.y == c.y);
      BOOST_TEST(d.dx == c.dx);
      BOOST_TEST(d.dscale == c.dscale);
      BOOST_TEST(d.dzp == c.dzp);
      const Grads f = lsq_at<float>(float(c.x), 0.5f, 2.0f, 0, 7);
      BOOST_TEST(f.y == c.y);
      BOOST_TEST(f.dx == c.dx);
      BOOST_TEST(f.dscale == c.dscale);
      BOOST_TEST(f.dzp == c.dzp);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_inside_scale_term_is_within_half_an_ulp_of_xfq_of_pytorchs_fused_one) {
  // PyTorch's AVX2 / AVX-512 kernels compute xfq - x as one FMA,
  // fma(q - zp, scale, -x); xgrad rounds xfq = (q - zp) * scale first (as
  // PyTorch's scalar build). By the rounding model (u = 2^-24): the two
  // differences differ by at most h = half an ulp of xfq plus one rounding of
  // each (u |t|), and multiplying by inv_scale adds one rounding of each
  // result: |ours - fused| <= inv_scale * h + 4 u (|ours| + |fused|).
  std::mt19937 gen(13);
  std::uniform_real_distribution<float> dist(0.0f, 25.0f);
  const float scale = 0.1f, inv = 1.0f / scale;
  const double u = std::ldexp(1.0, -24);
  for (int i = 0; i < 500; ++i) {
    const float x = dist(gen);
    BOOST_TEST_CONTEXT("x=" << x) {
      const Grads g = lsq_at<float>(x, scale, 0.0f, 0, 255);  // q <= 250: inside
      const float q = std::nearbyint(x * inv);
      const float xfq = q * scale;
      const float fused = std::fma(q, scale, -x) * inv;
      const double h =
          (double(std::nextafter(xfq, std::numeric_limits<float>::infinity())) - xfq) / 2;
      BOOST_TEST(std::abs(g.dscale - fused) <=
                 inv * h + 4 * u * (std::abs(g.dscale) + std::abs(double(fused))));
    }
  }
}

BOOST_AUTO_TEST_CASE(grad_factor_scales_the_qparam_gradients_only) {
  const Grads in = lsq_at<double>(0.375, 0.5, 2.0, 0, 7, 0.25);
  BOOST_TEST(in.dx == 1.0);
  BOOST_TEST(in.dscale == 0.25 * 0.25);
  const Grads out = lsq_at<double>(10.0, 0.5, 2.0, 0, 7, 0.25);
  BOOST_TEST(out.dscale == 5 * 0.25);
  BOOST_TEST(out.dzp == -0.5 * 0.25);
}

BOOST_AUTO_TEST_CASE(per_tensor_zero_point_rounds_differently_in_each_pass_as_pytorch) {
  // zp = 2.5: the forward uses nearbyint(2.5) = 2, the backward trunc(2.5 + 0.5)
  // = 3. At x = 2.5 the forward's q = 7 is in range, the backward's q = 8 is not.
  const Grads g = lsq_at<double>(2.5, 0.5, 2.5, 0, 7);
  BOOST_TEST(g.y == 2.5);
  BOOST_TEST(g.dx == 0.0);
  BOOST_TEST(g.dscale == 7 - 3);
  BOOST_TEST(g.dzp == -0.5);
  // Out-of-range zero points are clamped in both passes.
  const Grads c = lsq_at<double>(0.0, 0.5, 12.0, 0, 7);
  BOOST_TEST(c.y == 0.0);  // q = 7: (7 - 7) * 0.5
}

BOOST_AUTO_TEST_CASE(nan_gives_nan_and_no_gradient) {
  const Grads g = lsq_at<float>(std::numeric_limits<float>::quiet_NaN(), 0.5f, 2.0f, 0, 7);
  BOOST_TEST(std::isnan(g.y));
  BOOST_TEST(g.dx == 0.0);
  BOOST_TEST(g.dscale == 0.0);
  BOOST_TEST(g.dzp == 0.0);
}

BOOST_AUTO_TEST_CASE(per_channel_is_the_per_tensor_op_channel_by_channel) {
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  xt::xarray<float> xs = xt::xarray<float>::from_shape({3, 2, 5});
  for (auto& v : xs) v = dist(gen);
  const xt::xarray<float> scale = {0.02f, 0.1f}, zp = {128.0f, 3.0f};
  Tensor<float> x(xs, true), s(scale, true), z(zp, true);
  Tensor<float> y = fake_quantize_learnable_per_channel_affine(x, s, z, 1, 0, 255, 0.5);
  y.backward(xt::xarray<float>(xs * 2.0f));  // a non-uniform upstream gradient
  for (std::size_t c = 0; c < 2; ++c) {
    BOOST_TEST_CONTEXT("channel " << c) {
      xt::xarray<float> part = xt::xarray<float>::from_shape({3, 5});
      for (std::size_t o = 0; o < 3; ++o)
        for (std::size_t i = 0; i < 5; ++i) part(o, i) = xs(o, c, i);
      Tensor<float> px(part, true), ps = tensor<float>({scale(c)}, true),
                                    pz = tensor<float>({zp(c)}, true);
      Tensor<float> py = fake_quantize_learnable_per_tensor_affine(px, ps, pz, 0, 255, 0.5);
      py.backward(xt::xarray<float>(part * 2.0f));
      for (std::size_t o = 0; o < 3; ++o)
        for (std::size_t i = 0; i < 5; ++i) {
          BOOST_TEST(y.data()(o, c, i) == py.data()(o, i));
          BOOST_TEST(x.grad().data()(o, c, i) == px.grad().data()(o, i));
        }
      // The same per-element terms, grouped differently into float lanes: 15
      // terms of size <= 255 * 2, so a few float ulps of that at most.
      BOOST_TEST(std::abs(s.grad().data()(c) - ps.grad().data()(0)) <= 1e-4);
      BOOST_TEST(std::abs(z.grad().data()(c) - pz.grad().data()(0)) <= 1e-4);
    }
  }
}

BOOST_AUTO_TEST_CASE(per_channel_zero_point_rounds_half_to_even_in_both_passes) {
  Tensor<double> x(xgrad_test::array_of({2, 1}, {2.5, 2.5}), true);
  Tensor<double> s = tensor<double>({0.5, 0.5}, true), z = tensor<double>({2.5, 3.5}, true);
  Tensor<double> y = fake_quantize_learnable_per_channel_affine(x, s, z, 0, 0, 7);
  sum(y).backward();
  // channel 0: zp 2 -> q = 7 inside; channel 1: zp 4 -> q = 9 above.
  BOOST_TEST(equal_arrays(y.data(), xgrad_test::array_of({2, 1}, {2.5, 1.5})));
  BOOST_TEST(equal_arrays(x.grad().data(), xgrad_test::array_of({2, 1}, {1.0, 0.0})));
  BOOST_TEST(equal_arrays(s.grad().data(), xt::xarray<double>({0.0, 7.0 - 4.0})));
  BOOST_TEST(equal_arrays(z.grad().data(), xt::xarray<double>({0.0, -0.5})));
}

BOOST_AUTO_TEST_CASE(rcf_alpha_gradient_is_lsqs_step_gradient_over_the_top_level) {
  // RCF over a uniform grid with alpha = scale * top is LSQ with that scale and
  // zero point 0: d/dalpha = d/dscale / top. Random doubles avoid exact ties,
  // where RCF takes the lower level and nearbyint the even one. PyTorch clips
  // on the rounded q, so within half a step outside the clip points LSQ still
  // counts x as inside (next case): those bands are left out here.
  std::mt19937 gen(5);
  std::normal_distribution<double> dist(0.0, 1.0);
  for (bool is_signed : {false, true}) {
    for (int b : {2, 3, 4, 8}) {
      BOOST_TEST_CONTEXT((is_signed ? "signed" : "unsigned") << " b=" << b) {
        const LevelSet set = uniform_levels(b, is_signed);
        const std::int64_t top = set.top_code();
        const double alpha = 1.3;
        xt::xarray<double> xs = xt::xarray<double>::from_shape({500});
        const double step = alpha / double(top), lo = is_signed ? -alpha : 0.0;
        for (auto& v : xs) {
          do v = dist(gen);
          while ((v > alpha && v < alpha + step / 2) || (v < lo && v > lo - step / 2));
        }
        const xt::xarray<double> up = xs * 0.5 + 1.0;
        Tensor<double> x1(xs, true), a = tensor<double>({alpha}, true);
        Tensor<double> y1 = rcf_fake_quantize(x1, a, set.values<double>());
        y1.backward(up);
        Tensor<double> x2(xs, true), s = tensor<double>({alpha / double(top)}, true),
                                     z = tensor<double>({0.0}, true);
        Tensor<double> y2 =
            fake_quantize_learnable_per_tensor_affine(x2, s, z, is_signed ? -top : 0, top);
        y2.backward(up);
        // Forward values agree to rounding (alpha * level vs (q - 0) * scale).
        BOOST_TEST(xgrad_test::close_arrays(y1.data(), y2.data(), 1e-12));
        BOOST_TEST(equal_arrays(x1.grad().data(), x2.grad().data()));
        // 500 terms of size <= 1: a few ulps each after the reassociation.
        BOOST_TEST(std::abs(a.grad().item() - s.grad().item() / double(top)) <= 1e-10);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(lsq_counts_half_a_step_beyond_the_clip_point_as_inside_rcf_does_not) {
  // Uniform 2-bit grid, alpha = 3, scale = 1: x = 3.25 rounds to q = 3 = qmax.
  const Grads lsq = lsq_at<double>(3.25, 1.0, 0.0, 0, 3);
  BOOST_TEST(lsq.dx == 1.0);
  BOOST_TEST(lsq.dscale == 3.0 - 3.25);
  Tensor<double> x = tensor<double>({3.25}, true), a = tensor<double>({3.0}, true);
  sum(rcf_fake_quantize(x, a, uniform_levels(2, false).values<double>())).backward();
  BOOST_TEST(x.grad().item() == 0.0);
  BOOST_TEST(a.grad().item() == 1.0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_typed_errors) {
  const Tensor<float> x = ones<float>({2, 3});
  const Tensor<float> one = tensor<float>({1.0f}), zero = tensor<float>({0.0f});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (float sc : {0.0f, -1.0f, nan, std::numeric_limits<float>::infinity(), 1e-45f}) {
    BOOST_TEST_CONTEXT("scale=" << sc) {
      BOOST_CHECK_EXCEPTION(
          fake_quantize_learnable_per_tensor_affine(x, tensor<float>({sc}), zero, 0, 255),
          ValueError, mentions<ValueError>("scale must be finite and > 0"));
    }
  }
  BOOST_CHECK_EXCEPTION(
      fake_quantize_learnable_per_tensor_affine(x, one, tensor<float>({nan}), 0, 255), ValueError,
      mentions<ValueError>("zero_point[0] is NaN"));
  BOOST_CHECK_EXCEPTION(
      fake_quantize_learnable_per_tensor_affine(x, tensor<float>({1.0f, 1.0f}), zero, 0, 255),
      ShapeError, mentions<ShapeError>("must hold one value each"));
  BOOST_CHECK_EXCEPTION(fake_quantize_learnable_per_tensor_affine(x, one, zero, 3, 2), ValueError,
                        mentions<ValueError>("quant_min (3) must be <= quant_max (2)"));
  BOOST_CHECK_EXCEPTION(fake_quantize_learnable_per_channel_affine(x, one, zero, -3, 0, 255),
                        ShapeError, mentions<ShapeError>("axis -3 is out of range"));
  BOOST_CHECK_EXCEPTION(fake_quantize_learnable_per_channel_affine(x, one, zero, 1, 0, 255),
                        ShapeError, mentions<ShapeError>("must have shape [3]"));
  BOOST_CHECK_EXCEPTION(
      fake_quantize_learnable_per_channel_affine(x, tensor<float>({1.0f, -1.0f}),
                                                 tensor<float>({0.0f, 0.0f}), 0, 0, 255),
      ValueError, mentions<ValueError>("scale[1] must be finite and > 0"));
}

// ---- module ----

BOOST_AUTO_TEST_CASE(module_state_is_pytorchs_learnable_fake_quantize) {
  LearnableFakeQuantize<float> fq;
  const std::vector<std::string> expected = {"scale",
                                             "zero_point",
                                             "fake_quant_enabled",
                                             "observer_enabled",
                                             "learning_enabled",
                                             "eps",
                                             "activation_post_process.min_val",
                                             "activation_post_process.max_val"};
  BOOST_TEST(xgrad_test::names_of(fq.state_dict()) == expected, boost::test_tools::per_element());
  BOOST_TEST(fq.parameters().size() == 2u);
  BOOST_TEST(fq.activation_post_process->type_name() == "MovingAverageMinMaxObserver");
  BOOST_TEST(fq.learning_enabled());
}

BOOST_AUTO_TEST_CASE(observer_on_copies_the_observers_qparams_into_the_parameters) {
  LearnableFakeQuantize<float> fq;
  const Tensor<float> x = tensor<float>({-1.0f, 0.0f, 3.0f});
  const Tensor<float> y = fq.forward(x);
  MovingAverageMinMaxObserver<float> ref;
  ref.forward(x);
  const auto [sc, zp] = ref.calculate_qparams();
  BOOST_TEST(fq.scale().item() == sc);
  BOOST_TEST(fq.zero_point().item() == float(zp));
  BOOST_TEST(equal_arrays(y.data(), fake_quantize_per_tensor_affine(x, sc, zp, 0, 255).data()));
}

BOOST_AUTO_TEST_CASE(learning_after_calibration_gives_gradients_with_lsq_scaling) {
  LearnableFakeQuantizeOptions<double> o;
  o.use_grad_scaling = true;
  LearnableFakeQuantize<double> fq(o);
  fq.forward(tensor<double>({0.0, 2.55}));  // scale 0.01, zero point 0
  fq.enable_param_learning();
  BOOST_TEST(!fq.observer_enabled());
  Tensor<double> x = tensor<double>({0.0, 5.0, 5.0, 5.0}, true);
  sum(fq.forward(x)).backward();
  // Three elements above the range: dscale = 3 * (255 - 0) * grad_factor.
  const double factor = 1.0 / std::sqrt(4.0 * 255.0);
  BOOST_TEST(std::abs(fq.scale().grad().item() - 3 * 255 * factor) <= 1e-12);
  fq.toggle_qparam_learning(false);
  BOOST_TEST(!fq.scale().requires_grad());
}

BOOST_AUTO_TEST_CASE(static_modes_set_the_three_flags) {
  LearnableFakeQuantize<float> fq;
  fq.enable_static_observation();
  BOOST_TEST(!fq.learning_enabled());
  BOOST_TEST(!fq.fake_quant_enabled());
  BOOST_TEST(fq.observer_enabled());
  const Tensor<float> x = tensor<float>({0.3f, 0.7f});
  BOOST_TEST((fq.forward(x).storage() == x.storage()));
  fq.enable_static_estimate();
  BOOST_TEST(fq.fake_quant_enabled());
  BOOST_TEST(fq.observer_enabled());
  BOOST_TEST(!fq.learning_enabled());
}

BOOST_AUTO_TEST_CASE(symmetric_qscheme_zeroes_the_zero_point_and_scale_is_clamped_to_eps) {
  LearnableFakeQuantizeOptions<float> o;
  o.quant_min = -128;
  o.quant_max = 127;
  o.dtype = QuantDtype::qint8;
  o.qscheme = QScheme::per_tensor_symmetric;
  o.zero_point = 3.0f;
  LearnableFakeQuantize<float> fq(o);
  fq.disable_observer();
  fq.scale().mutable_data()(0) = -1.0f;
  fq.forward(tensor<float>({1.0f}));
  BOOST_TEST(fq.zero_point().item() == 0.0f);
  BOOST_TEST(fq.scale().item() == std::numeric_limits<float>::epsilon());
}

BOOST_AUTO_TEST_CASE(per_channel_module_learns_one_scale_per_channel) {
  LearnableFakeQuantizeOptions<float> o;
  o.channel_len = 2;
  o.qscheme = QScheme::per_channel_symmetric;
  o.dtype = QuantDtype::qint8;
  o.quant_min = -128;
  o.quant_max = 127;
  LearnableFakeQuantize<float> fq(o);
  fq.forward(tensor<float>({{1.0f, -0.5f}, {4.0f, 2.0f}}));
  BOOST_TEST(equal_arrays(fq.scale().data(), xt::xarray<float>({1.0f / 127.5f, 4.0f / 127.5f})));
  fq.enable_param_learning();
  Tensor<float> w = tensor<float>({{0.0f, 9.0f}, {4.0f, 2.0f}}, true);
  sum(fq.forward(w)).backward();
  BOOST_TEST(fq.scale().grad().numel() == 2u);
  BOOST_TEST(fq.scale().grad().data()(0) == 127.0f);  // 0 adds 0; 9 clips above: 127 - 0
  // Another channel count than channel_len: ShapeError, nothing changed.
  fq.enable_observer();
  const auto before = fq.state_dict();
  BOOST_CHECK_EXCEPTION(fq.forward(ones<float>({3, 2})), ShapeError,
                        mentions<ShapeError>("3 channels"));
  const auto after = fq.state_dict();
  for (std::size_t i = 0; i < before.size(); ++i)
    BOOST_TEST(equal_arrays(before[i].second, after[i].second));
}

BOOST_AUTO_TEST_CASE(module_state_dict_round_trips) {
  LearnableFakeQuantize<float> a;
  a.forward(tensor<float>({-2.0f, 5.0f}));
  a.enable_param_learning();
  a.scale().mutable_data()(0) = 0.125f;
  LearnableFakeQuantize<float> b;
  b.load_state_dict(a.state_dict());
  BOOST_TEST(b.scale().item() == 0.125f);
  BOOST_TEST(!b.observer_enabled());
  const Tensor<float> x = tensor<float>({0.3f, -7.0f, 1.9f});
  BOOST_TEST(equal_arrays(b.forward(x).data(), a.forward(x).data()));
  const auto qa = a.calculate_qparams(), qb = b.calculate_qparams();
  BOOST_TEST(equal_arrays(qa.zero_point, qb.zero_point));
}

BOOST_AUTO_TEST_CASE(module_options_are_validated) {
  auto make = [](auto edit) {
    LearnableFakeQuantizeOptions<float> o;
    edit(o);
    LearnableFakeQuantize<float> fq(o);
  };
  BOOST_CHECK_EXCEPTION(make([](auto& o) { o.quant_min = 5, o.quant_max = 5; }), ValueError,
                        mentions<ValueError>("strictly less"));
  BOOST_CHECK_EXCEPTION(make([](auto& o) { o.channel_len = 0; }), ValueError,
                        mentions<ValueError>("channel_len must be -1"));
  BOOST_CHECK_EXCEPTION(make([](auto& o) { o.channel_len = 4; }), ValueError,
                        mentions<ValueError>("is per tensor but channel_len is 4"));
  BOOST_CHECK_EXCEPTION(make([](auto& o) { o.scale = 0.0f; }), ValueError,
                        mentions<ValueError>("scale must be finite and > 0"));
  BOOST_CHECK_EXCEPTION(make([](auto& o) { o.quant_max = 300; }), ValueError,
                        mentions<ValueError>("exceeds quint8"));
}

// 1 / sqrt(numel * quant_max) would be infinite (PyTorch computes it anyway).
BOOST_AUTO_TEST_CASE(grad_scaling_needs_a_positive_quant_max) {
  LearnableFakeQuantizeOptions<float> o;
  o.dtype = QuantDtype::qint8;
  o.quant_min = -8;
  o.quant_max = 0;
  BOOST_CHECK_NO_THROW(LearnableFakeQuantize<float>{o});
  o.use_grad_scaling = true;
  BOOST_CHECK_EXCEPTION(LearnableFakeQuantize<float>{o}, ValueError,
                        mentions<ValueError>("use_grad_scaling needs quant_max > 0"));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D x = leaf({2, 3});
  r.push_back({"lsq_grad_scale: numel 0",
               raises<ValueError>("lsq_grad_scale", {"numel", "numel=0"}),
               [] { lsq_grad_scale(0, 7); }});
  const D s1 = D(xt::xarray<double>({0.1}), true), z1 = D(xt::xarray<double>({0.0}), true);
  r.push_back({"fake_quantize_learnable_per_tensor_affine: scale 0",
               raises<ValueError>("fake_quantize_learnable_per_tensor_affine", {"scale", "got 0"}),
               [x, z1] {
                 fake_quantize_learnable_per_tensor_affine(x, D(xt::xarray<double>({0.0})), z1, 0,
                                                           255);
               },
               {x, z1}});
  r.push_back(
      {"fake_quantize_learnable_per_tensor_affine: scale of two values",
       raises<ShapeError>("fake_quantize_learnable_per_tensor_affine",
                          {"scale and zero_point must hold one value", "got shapes [2] and [1]"}),
       [x, z1] { fake_quantize_learnable_per_tensor_affine(x, leaf({2}), z1, 0, 255); },
       {x, z1}});
  r.push_back({"fake_quantize_learnable_per_tensor_affine: quant_min above quant_max",
               raises<ValueError>("fake_quantize_learnable_per_tensor_affine",
                                  {"quant_min (10)", "quant_max (5)"}),
               [x, s1, z1] { fake_quantize_learnable_per_tensor_affine(x, s1, z1, 10, 5); },
               {x, s1, z1}});
  r.push_back(
      {"fake_quantize_learnable_per_tensor_affine: NaN grad_factor",
       raises<ValueError>("fake_quantize_learnable_per_tensor_affine", {"grad_factor", "got nan"}),
       [x, s1, z1] { fake_quantize_learnable_per_tensor_affine(x, s1, z1, 0, 255, kNaN); },
       {x, s1, z1}});
  r.push_back(
      {"fake_quantize_learnable_per_channel_affine: axis out of range",
       raises<ShapeError>("fake_quantize_learnable_per_channel_affine", {"axis 2 is out of range"}),
       [x] {
         fake_quantize_learnable_per_channel_affine(x, leaf({3}), zeros<double>({3}), 2, 0, 255);
       },
       {x}});
  // Constructing from the default options changed by `edit`.
  const auto constructed_with = [](void (*edit)(LearnableFakeQuantizeOptions<double>&)) {
    return [edit] {
      LearnableFakeQuantizeOptions<double> o;
      edit(o);
      LearnableFakeQuantize<double>{o};
    };
  };
  r.push_back({"LearnableFakeQuantize: scale 0",
               raises<ValueError>("LearnableFakeQuantize", {"scale", "got 0"}),
               constructed_with([](LearnableFakeQuantizeOptions<double>& o) { o.scale = 0.0; })});
  r.push_back({"LearnableFakeQuantize: negative scale",
               raises<ValueError>("LearnableFakeQuantize", {"scale", "got -0.1"}),
               constructed_with([](LearnableFakeQuantizeOptions<double>& o) { o.scale = -0.1; })});
  r.push_back(
      {"LearnableFakeQuantize: NaN zero_point",
       raises<ValueError>("LearnableFakeQuantize", {"zero_point must be finite"}),
       constructed_with([](LearnableFakeQuantizeOptions<double>& o) { o.zero_point = kNaN; })});
  r.push_back({"LearnableFakeQuantize: quant_min equal to quant_max",
               raises<ValueError>("LearnableFakeQuantize",
                                  {"quant_min must be strictly less than quant_max", "got [7, 7]"}),
               constructed_with([](LearnableFakeQuantizeOptions<double>& o) {
                 o.quant_min = o.quant_max = 7;
               })});
  r.push_back(
      {"LearnableFakeQuantize: quant range beyond quint8",
       raises<ValueError>("MovingAverageMinMaxObserver", {"range [0, 1000]", "quint8"}),
       constructed_with([](LearnableFakeQuantizeOptions<double>& o) { o.quant_max = 1000; })});
  r.push_back(
      {"LearnableFakeQuantize: channel_len 0",
       raises<ValueError>("LearnableFakeQuantize", {"channel_len", "got 0"}),
       constructed_with([](LearnableFakeQuantizeOptions<double>& o) { o.channel_len = 0; })});
  r.push_back(
      {"LearnableFakeQuantize: per-channel qscheme without channel_len",
       raises<ValueError>("LearnableFakeQuantize", {"per_channel_affine", "channel_len is -1"}),
       constructed_with([](LearnableFakeQuantizeOptions<double>& o) {
         o.qscheme = QScheme::per_channel_affine;
       })});
  LearnableFakeQuantizeOptions<double> per_channel;
  per_channel.qscheme = QScheme::per_channel_affine;
  per_channel.channel_len = 4;
  auto lsq = std::make_shared<LearnableFakeQuantize<double>>(per_channel);
  r.push_back(forward_of(
      "LearnableFakeQuantize: forward of another channel count",
      raises<ShapeError>("LearnableFakeQuantize.forward", {"found 2 channels", "channel_len is 4"}),
      lsq, x));
  // load_state_dict refuses what forward would silently rewrite or fail on.
  auto lsq_load = [] {
    auto m = std::make_shared<LearnableFakeQuantize<double>>();
    m->forward(tensor<double>({-0.5, 1.5}));
    return m;
  };
  const char* lsq_op = "LearnableFakeQuantize::load_state_dict";
  r.push_back(load_of("LearnableFakeQuantize: load scale -1",
                      raises<ValueError>(lsq_op, {"scale[0] must be finite and > 0", "got -1"}),
                      lsq_load(), "scale", 0, -1.0));
  r.push_back(load_of("LearnableFakeQuantize: load a NaN scale",
                      raises<ValueError>(lsq_op, {"scale[0] must be finite and > 0", "got nan"}),
                      lsq_load(), "scale", 0, kNaN));
  r.push_back(load_of("LearnableFakeQuantize: load a NaN zero_point",
                      raises<ValueError>(lsq_op, {"zero_point[0] must be finite", "got nan"}),
                      lsq_load(), "zero_point", 0, kNaN));
  r.push_back(load_of("LearnableFakeQuantize: load a NaN eps",
                      raises<ValueError>(lsq_op, {"eps must be finite and > 0", "got nan"}),
                      lsq_load(), "eps", 0, kNaN));
  r.push_back(load_of("LearnableFakeQuantize: load learning_enabled 0.5",
                      raises<ValueError>(lsq_op, {"learning_enabled must be 0 or 1", "got 0.5"}),
                      lsq_load(), "learning_enabled", 0, 0.5));
  r.push_back(load_of("LearnableFakeQuantize: load a NaN fake_quant_enabled",
                      raises<ValueError>(lsq_op, {"fake_quant_enabled must be 0 or 1", "got nan"}),
                      lsq_load(), "fake_quant_enabled", 0, kNaN));
  LearnableFakeQuantizeOptions<double> channels;
  channels.channel_len = 3;
  channels.qscheme = QScheme::per_channel_affine;
  auto lsq_pc = std::make_shared<LearnableFakeQuantize<double>>(channels);
  r.push_back(load_of("LearnableFakeQuantize: load a per-channel scale of 0",
                      raises<ValueError>(lsq_op, {"scale[2] must be finite and > 0", "got 0"}),
                      lsq_pc, "scale", 2, 0.0));
}

BOOST_AUTO_TEST_SUITE_END()  // test_lsq_fake_quantize
