// Per-channel uniform fake quantization: fake_quantize_per_channel_affine is
// the per-tensor op applied channel by channel, and PerChannelFakeQuantize.
#include <boost/test/unit_test.hpp>
#include <limits>
#include <random>

#include "test_util.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"

BOOST_AUTO_TEST_SUITE(test_per_channel_fake_quantize)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

BOOST_AUTO_TEST_CASE(each_channel_equals_the_per_tensor_op_forward_and_backward) {
  std::mt19937 gen(3);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  xt::xarray<float> xs = xt::xarray<float>::from_shape({2, 3, 4});
  for (auto& v : xs) v = dist(gen);
  const xt::xarray<float> scale = {0.05f, 0.3f, 0.011f};
  const xt::xarray<float> zp = {0.0f, 10.0f, 250.0f};
  Tensor<float> x(xs, true);
  Tensor<float> y =
      fake_quantize_per_channel_affine(x, Tensor<float>(scale), Tensor<float>(zp), 1, 0, 255);
  sum(y).backward();
  for (std::size_t c = 0; c < 3; ++c) {
    BOOST_TEST_CONTEXT("channel " << c) {
      for (std::size_t o = 0; o < 2; ++o) {
        xt::xarray<float> row = xt::xarray<float>::from_shape({4});
        for (std::size_t i = 0; i < 4; ++i) row(i) = xs(o, c, i);
        Tensor<float> r(row, true);
        Tensor<float> ry =
            fake_quantize_per_tensor_affine(r, double(scale(c)), std::int64_t(zp(c)), 0, 255);
        sum(ry).backward();
        for (std::size_t i = 0; i < 4; ++i) {
          BOOST_TEST(y.data()(o, c, i) == ry.data()(i));
          BOOST_TEST(x.grad().data()(o, c, i) == r.grad().data()(i));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_typed_errors) {
  const Tensor<float> x = ones<float>({2, 3});
  const Tensor<float> s2 = tensor<float>({0.1f, 0.1f}), z2 = tensor<float>({0.0f, 0.0f});
  BOOST_CHECK_EXCEPTION(fake_quantize_per_channel_affine(x, s2, z2, 2, 0, 255), ShapeError,
                        mentions<ShapeError>("axis 2 is out of range"));
  BOOST_CHECK_EXCEPTION(fake_quantize_per_channel_affine(x, s2, z2, 1, 0, 255), ShapeError,
                        mentions<ShapeError>("must have shape [3]"));
  BOOST_CHECK_EXCEPTION(
      fake_quantize_per_channel_affine(x, tensor<float>({0.1f, 0.0f}), z2, 0, 0, 255), ValueError,
      mentions<ValueError>("scale[1] must be finite and > 0"));
  BOOST_CHECK_EXCEPTION(
      fake_quantize_per_channel_affine(x, s2, tensor<float>({0.0f, 0.5f}), 0, 0, 255), ValueError,
      mentions<ValueError>("zero_point[1] = 0.5 must be an integer in [0, 255]"));
  BOOST_CHECK_EXCEPTION(
      fake_quantize_per_channel_affine(x, s2, tensor<float>({0.0f, 256.0f}), 0, 0, 255), ValueError,
      mentions<ValueError>("zero_point[1]"));
  BOOST_CHECK_EXCEPTION(fake_quantize_per_channel_affine(x, s2, z2, 0, 5, 4), ValueError,
                        mentions<ValueError>("quant_min (5) must be <= quant_max (4)"));
}

BOOST_AUTO_TEST_CASE(module_observes_then_fake_quantizes_per_output_channel) {
  PerChannelFakeQuantize<float> fq;  // axis 0, qint8 symmetric
  const Tensor<float> w = tensor<float>({{0.5f, -1.0f, 0.25f}, {10.0f, 3.0f, -2.0f}});
  const Tensor<float> y = fq.forward(w);
  BOOST_TEST(fq.has_qparams());
  BOOST_TEST(equal_arrays(fq.scale().data(), xt::xarray<float>({1.0f / 127.5f, 10.0f / 127.5f})));
  const Tensor<float> expected =
      fake_quantize_per_channel_affine(w, fq.scale(), fq.zero_point(), 0, -128, 127);
  BOOST_TEST(equal_arrays(y.data(), expected.data()));
  const auto names = fq.state_dict();
  BOOST_TEST(names[2].first == "scale");
  BOOST_TEST(names[3].first == "zero_point");
  BOOST_TEST(names[4].first == "activation_post_process.min_val");
}

BOOST_AUTO_TEST_CASE(module_state_dict_round_trips_and_missing_qparams_are_refused) {
  PerChannelFakeQuantize<float> a;
  a.forward(tensor<float>({{0.5f, -1.0f}, {4.0f, 3.0f}}));
  a.disable_observer();
  PerChannelFakeQuantize<float> b;
  b.disable_observer();
  BOOST_CHECK_EXCEPTION(b.forward(ones<float>({2, 2})), StateError,
                        mentions<StateError>("no qparams"));
  b.load_state_dict(a.state_dict());
  const Tensor<float> x = tensor<float>({{0.3f, 0.7f}, {-5.0f, 2.0f}});
  BOOST_TEST(equal_arrays(b.forward(x).data(), a.forward(x).data()));
  BOOST_TEST(!b.observer_enabled());
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D x = leaf({2, 3});
  auto pc_far = std::make_shared<PerChannelFakeQuantize<double>>(5);
  r.push_back(
      forward_of("PerChannelFakeQuantize: axis 5 of a 2-D input",
                 raises<ShapeError>("PerChannelMinMaxObserver.forward", {"axis 5 is out of range"}),
                 pc_far, x));
  auto pc_neg = std::make_shared<PerChannelFakeQuantize<double>>(-3);
  r.push_back(forward_of(
      "PerChannelFakeQuantize: axis -3 of a 2-D input",
      raises<ShapeError>("PerChannelMinMaxObserver.forward", {"axis -3 is out of range"}), pc_neg,
      x));
  r.push_back(
      {"PerChannelFakeQuantize: a per-tensor qscheme",
       raises<ValueError>("PerChannelMinMaxObserver", {"per_tensor_symmetric", "per tensor"}), [] {
         PerChannelFakeQuantize<double>(0, QuantDtype::qint8, QScheme::per_tensor_symmetric);
       }});
  auto pc_off = std::make_shared<PerChannelFakeQuantize<double>>(0);
  pc_off->disable_observer();
  r.push_back(forward_of("PerChannelFakeQuantize: forward without qparams",
                         raises<StateError>("PerChannelFakeQuantize.forward", {"no qparams"}),
                         pc_off, x));
  r.push_back({"fake_quantize_per_channel_affine: axis out of range",
               raises<ShapeError>("fake_quantize_per_channel_affine", {"axis 2 is out of range"}),
               [x] {
                 fake_quantize_per_channel_affine(x, full<double>({3}, 0.1), zeros<double>({3}), 2,
                                                  -128, 127);
               },
               {x}});
  r.push_back({"fake_quantize_per_channel_affine: scale of the wrong length",
               raises<ShapeError>("fake_quantize_per_channel_affine",
                                  {"scale and zero_point must have shape [3]", "got [2] and [3]"}),
               [x] {
                 fake_quantize_per_channel_affine(x, full<double>({2}, 0.1), zeros<double>({3}), 1,
                                                  -128, 127);
               },
               {x}});
  r.push_back({"fake_quantize_per_channel_affine: zero_point outside the range",
               raises<ValueError>("fake_quantize_per_channel_affine",
                                  {"zero_point[0] = 200", "[-128, 127]"}),
               [x] {
                 fake_quantize_per_channel_affine(x, full<double>({3}, 0.1),
                                                  full<double>({3}, 200.0), 1, -128, 127);
               },
               {x}});
  // load_state_dict refuses qparams forward would fail on later.
  auto pc_load = [] {
    auto m = std::make_shared<PerChannelFakeQuantize<double>>(0);
    m->forward(tensor<double>({{0.5, -1.0}, {4.0, 3.0}}));
    return m;
  };
  const char* pc_op = "PerChannelFakeQuantize::load_state_dict";
  r.push_back(load_of("PerChannelFakeQuantize: load a NaN scale",
                      raises<ValueError>(pc_op, {"scale[1] must be finite and > 0", "got nan"}),
                      pc_load(), "scale", 1, kNaN));
  r.push_back(load_of("PerChannelFakeQuantize: load scale -1",
                      raises<ValueError>(pc_op, {"scale[0] must be finite and > 0", "got -1"}),
                      pc_load(), "scale", 0, -1.0));
  r.push_back(load_of("PerChannelFakeQuantize: load a fractional zero_point",
                      raises<ValueError>(pc_op, {"zero_point[0] must be an integer", "got 0.5"}),
                      pc_load(), "zero_point", 0, 0.5));
  r.push_back(load_of("PerChannelFakeQuantize: load observer_enabled 0.5",
                      raises<ValueError>(pc_op, {"observer_enabled must be 0 or 1", "got 0.5"}),
                      pc_load(), "observer_enabled", 0, 0.5));
  auto pc_uneven = pc_load();
  r.push_back({"PerChannelFakeQuantize: load 2 scales and 3 zero points",
               raises<ValueError>(pc_op, {"scale and zero_point must be 1-D of one size",
                                          "got shapes [2] and [3]"}),
               [pc_uneven] {
                 StateDict<double> d = pc_uneven->state_dict();
                 for (auto& kv : d)
                   if (kv.first == "zero_point") kv.second = xt::xarray<double>({0.0, 0.0, 0.0});
                 pc_uneven->load_state_dict(d);
               },
               {},
               {pc_uneven}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_per_channel_fake_quantize
