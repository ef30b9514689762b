// The uniform baseline: MinMaxObserver's scale / zero_point exactly as
// PyTorch's float32 arithmetic gives them, fake_quantize_per_tensor_affine's
// values and clipped straight-through gradient, FakeQuantize's toggles and
// state, and every bad-input path.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"

BOOST_AUTO_TEST_SUITE(test_uniform)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;

using xgrad_test::mentions;

namespace {

const float inf = std::numeric_limits<float>::infinity();
const float nan_f = std::numeric_limits<float>::quiet_NaN();

Tensor<float> vec(std::initializer_list<float> xs) {
  xt::xarray<float> a = xt::xarray<float>::from_shape({xs.size()});
  std::copy(xs.begin(), xs.end(), a.begin());
  return Tensor<float>(a);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(min_max_observer)

// Expected values are PyTorch's MinMaxObserver._calculate_qparams worked by
// hand in float32: min_neg = min(min, 0), max_pos = max(max, 0).
struct QParamsCase {
  const char* what;
  QuantDtype dtype;
  QScheme qscheme;
  std::optional<std::int64_t> qmin, qmax;
  float mn, mx;
  float scale;
  std::int64_t zero_point;
};

BOOST_AUTO_TEST_CASE(qparams_match_pytorch_float32_arithmetic) {
  const auto A = QScheme::per_tensor_affine;
  const auto S = QScheme::per_tensor_symmetric;
  const auto U8 = QuantDtype::quint8;
  const auto I8 = QuantDtype::qint8;
  const QParamsCase cases[] = {
      // scale = fl32(3) / 255 = fl32(1/85); zero_point = 0 - round(-1 / scale) = 85.
      {"affine quint8", U8, A, {}, {}, -1.f, 2.f, 3.f / 255.f, 85},
      // Same scale; zero_point = -128 - round(-85) = -43.
      {"affine qint8", I8, A, {}, {}, -1.f, 2.f, 3.f / 255.f, -43},
      // A positive range still includes 0: scale from [0, 3], zero_point = quant_min.
      {"affine, positive data", U8, A, {}, {}, 0.5f, 3.f, 3.f / 255.f, 0},
      // A negative range includes 0 too: zero_point = 0 - round(-3 / (3/255)) = 255.
      {"affine, negative data", U8, A, {}, {}, -3.f, -1.f, 3.f / 255.f, 255},
      // min_neg / scale = -2.5 and -3.5 exactly: round half to even (2 and 4, not 3 and 4).
      {"affine, half to even down", U8, A, {}, {}, -2.5f, 252.5f, 1.f, 2},
      {"affine, half to even up", U8, A, {}, {}, -3.5f, 251.5f, 1.f, 4},
      // Custom 4-bit range: scale = fl32(1) / 15; -0.3f / scale is exactly -4.5 -> 4.
      {"affine, custom [0, 15]", U8, A, 0, 15, -0.3f, 0.7f, 1.f / 15.f, 4},
      // Nothing but zeros: scale is clamped to float32 epsilon.
      {"affine, all zeros", U8, A, {}, {}, 0.f, 0.f, std::numeric_limits<float>::epsilon(), 0},
      // Symmetric: scale = max(1, 2) / 127.5; quint8 default range -> 128.
      {"symmetric quint8", U8, S, {}, {}, -1.f, 2.f, 2.f / 127.5f, 128},
      {"symmetric qint8", I8, S, {}, {}, -1.f, 2.f, 2.f / 127.5f, 0},
      // Custom quint8 range: the rounded-down midpoint (0 + 15) / 2 = 7.
      {"symmetric, custom [0, 15]", U8, S, 0, 15, -0.3f, 0.7f, 0.7f / 7.5f, 7},
      // Custom qint8 range keeps zero_point 0: scale = 4 / 7.5.
      {"symmetric, custom [-8, 7]", I8, S, -8, 7, -4.f, 1.f, 4.f / 7.5f, 0},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      MinMaxObserver<float> obs(c.dtype, c.qscheme, c.qmin, c.qmax);
      obs(vec({c.mn, c.mx}));
      const auto [scale, zero_point] = obs.calculate_qparams();
      BOOST_TEST(scale == c.scale);  // exact: same float32 operations
      BOOST_TEST(zero_point == c.zero_point);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_ranges_follow_the_dtype) {
  MinMaxObserver<float> u8;
  BOOST_TEST(u8.quant_min() == 0);
  BOOST_TEST(u8.quant_max() == 255);
  BOOST_TEST(!u8.has_customized_qrange());
  MinMaxObserver<float> i8(QuantDtype::qint8);
  BOOST_TEST(i8.quant_min() == -128);
  BOOST_TEST(i8.quant_max() == 127);
}

BOOST_AUTO_TEST_CASE(custom_range_replaces_the_dtype_range) {
  MinMaxObserver<float> obs(QuantDtype::qint8, QScheme::per_tensor_symmetric, -8, 7);
  BOOST_TEST(obs.has_customized_qrange());
  BOOST_TEST(obs.quant_min() == -8);
  BOOST_TEST(obs.quant_max() == 7);
  FakeQuantize<float> fq(QuantDtype::quint8, QScheme::per_tensor_affine, 0, 15);
  BOOST_TEST(fq.quant_min() == 0);
  BOOST_TEST(fq.quant_max() == 15);
}

BOOST_AUTO_TEST_CASE(forward_tracks_running_min_and_max_and_returns_its_input) {
  MinMaxObserver<float> obs;
  const auto x = vec({0.5f, -1.f, 2.f});
  const auto y = obs(x);
  BOOST_TEST(y.storage() == x.storage());  // the same tensor, not a copy
  obs(vec({1.f, 3.f}));
  obs(vec({-0.5f}));
  BOOST_TEST(obs.min_val().item() == -1.f);
  BOOST_TEST(obs.max_val().item() == 3.f);
}

BOOST_AUTO_TEST_CASE(empty_input_changes_nothing) {
  MinMaxObserver<float> obs;
  obs(Tensor<float>(xt::xarray<float>::from_shape({0})));
  BOOST_TEST(obs.min_val().item() == inf);
  BOOST_TEST(obs.max_val().item() == -inf);
}

BOOST_AUTO_TEST_CASE(min_max_are_buffers_in_the_state_dict) {
  MinMaxObserver<float> obs;
  obs(vec({-2.f, 5.f}));
  const auto dict = obs.state_dict();
  BOOST_REQUIRE(dict.size() == 2u);
  BOOST_TEST(dict[0].first == "min_val");
  BOOST_TEST(dict[0].second() == -2.f);
  BOOST_TEST(dict[1].first == "max_val");
  BOOST_TEST(dict[1].second() == 5.f);
}

BOOST_AUTO_TEST_CASE(reset_returns_to_the_unobserved_state) {
  MinMaxObserver<float> obs;
  obs(vec({-2.f, 5.f}));
  obs.reset_min_max_vals();
  BOOST_CHECK_THROW(obs.calculate_qparams(), StateError);
}

BOOST_AUTO_TEST_CASE(double_observer_computes_in_double) {
  MinMaxObserver<double> obs;
  obs(Tensor<double>(xt::xarray<double>({-1.0, 2.0})));
  const auto [scale, zero_point] = obs.calculate_qparams();
  BOOST_TEST(scale == 3.0 / 255.0);
  BOOST_TEST(zero_point == 85);
}

BOOST_AUTO_TEST_CASE(qparams_before_observing_is_a_state_error) {
  MinMaxObserver<float> obs;
  BOOST_CHECK_EXCEPTION(obs.calculate_qparams(), StateError, mentions<StateError>("observed"));
}

BOOST_AUTO_TEST_CASE(min_above_max_set_by_hand_is_a_value_error) {
  MinMaxObserver<float> obs;
  obs.set_min_val(2.f);
  obs.set_max_val(1.f);
  BOOST_CHECK_EXCEPTION(obs.calculate_qparams(), ValueError,
                        mentions<ValueError>("min_val <= max_val"));
  obs.min_val().mutable_data() = xt::xarray<float>(nan_f);  // bypassing the setter
  BOOST_CHECK_THROW(obs.calculate_qparams(), ValueError);
}

BOOST_AUTO_TEST_CASE(non_finite_input_is_rejected_and_changes_nothing) {
  MinMaxObserver<float> obs;
  obs(vec({-1.f, 1.f}));
  BOOST_CHECK_EXCEPTION(obs(vec({0.f, nan_f})), ValueError, mentions<ValueError>("position 1"));
  BOOST_CHECK_THROW(obs(vec({inf})), ValueError);
  BOOST_CHECK_THROW(obs(vec({5.f, -inf})), ValueError);
  BOOST_TEST(obs.min_val().item() == -1.f);
  BOOST_TEST(obs.max_val().item() == 1.f);
}

BOOST_AUTO_TEST_CASE(overflowing_range_is_a_value_error) {
  MinMaxObserver<float> obs;
  obs(vec({-3e38f, 3e38f}));  // max - min overflows float32
  BOOST_CHECK_EXCEPTION(obs.calculate_qparams(), ValueError, mentions<ValueError>("overflows"));
}

BOOST_AUTO_TEST_CASE(bad_custom_ranges_are_value_errors) {
  const auto U8 = QuantDtype::quint8;
  const auto I8 = QuantDtype::qint8;
  const auto A = QScheme::per_tensor_affine;
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(U8, A, 0, std::nullopt), ValueError,
                        mentions<ValueError>("both"));
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(I8, A, 1, 10), ValueError,
                        mentions<ValueError>("include 0"));
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(I8, A, -10, -1), ValueError,
                        mentions<ValueError>("include 0"));
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(I8, A, 0, 0), ValueError,
                        mentions<ValueError>("quant_min must be < quant_max"));
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(U8, A, 0, 256), ValueError,
                        mentions<ValueError>("quint8"));
  BOOST_CHECK_EXCEPTION(MinMaxObserver<float>(I8, A, -129, 127), ValueError,
                        mentions<ValueError>("qint8"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fake_quantize_function)

// scale 0.25 (inv_scale 4, both exact), zero_point 4, range [0, 15]:
// q = nearbyint(4x) + 4, out = (clamp(q, 0, 15) - 4) / 4, mask = 0 <= q <= 15.
struct FqCase {
  float x, out, mask;
};
const FqCase fq_cases[] = {
    {-1.0f, -1.0f, 1},  // q = 0, the bottom edge, inside
    {-1.2f, -1.0f, 0},  // q = -1, clipped
    // Ties at the edges: half to even keeps 4x = -4.5 -> -4 inside (q = 0;
    // half away from zero would clip it) and sends 11.5 -> 12 outside (q = 16).
    {-1.125f, -1.0f, 1},
    {2.875f, 2.75f, 0},
    {0.125f, 0.f, 1},   // 4x = 0.5 rounds to even 0
    {0.375f, 0.5f, 1},  // 4x = 1.5 rounds to even 2
    {0.3f, 0.25f, 1},   // 4x = 1.2 -> 1
    {2.75f, 2.75f, 1},  // q = 15, the top edge, inside
    {2.8f, 2.75f, 1},   // 4x = 11.2 -> q = 15
    {2.9f, 2.75f, 0},   // 4x = 11.6 -> q = 16, clipped
    {inf, 2.75f, 0},    // infinities clip
    {-inf, -1.0f, 0},
};

BOOST_AUTO_TEST_CASE(values_follow_the_affine_rounding_and_clipping) {
  for (const auto& c : fq_cases) {
    BOOST_TEST_CONTEXT("x = " << c.x) {
      const auto y = fake_quantize_per_tensor_affine(vec({c.x}), 0.25, 4, 0, 15);
      BOOST_TEST(y.data()(0) == c.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradient_is_the_clipped_straight_through_mask) {
  for (const auto& c : fq_cases) {
    BOOST_TEST_CONTEXT("x = " << c.x) {
      auto x = vec({c.x}).set_requires_grad(true);
      auto y = fake_quantize_per_tensor_affine(x, 0.25, 4, 0, 15);
      BOOST_TEST(std::string(y.grad_fn_name()) == "FakeQuantizePerTensorAffineBackward");
      y.backward(xt::xarray<float>({3.f}));
      BOOST_TEST(x.grad().data()(0) == 3.f * c.mask);
    }
  }
}

BOOST_AUTO_TEST_CASE(nan_propagates_with_zero_gradient) {
  auto x = vec({nan_f, 1.f}).set_requires_grad(true);
  auto y = fake_quantize_per_tensor_affine(x, 0.25, 4, 0, 15);
  BOOST_TEST(std::isnan(y.data()(0)));
  BOOST_TEST(y.data()(1) == 1.f);
  y.backward(xt::xarray<float>({1.f, 1.f}));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<float>({0.f, 1.f})));
}

BOOST_AUTO_TEST_CASE(keeps_shape_and_does_not_touch_the_input) {
  xt::xarray<double> a = {{0.1, -0.7, 3.0}, {0.26, 0.0, -5.0}};
  Tensor<double> x(a);
  const auto y = fake_quantize_per_tensor_affine(x, 0.5, 0, -4, 3);
  BOOST_TEST(equal_arrays(x.data(), a));
  // q = nearbyint(2x) clamped to [-4, 3]: 0, -1, 3, 1, 0, -4.
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>({{0.0, -0.5, 1.5}, {0.5, 0.0, -2.0}})));
}

BOOST_AUTO_TEST_CASE(no_node_is_recorded_under_no_grad) {
  auto x = vec({1.f}).set_requires_grad(true);
  NoGradGuard guard;
  const auto y = fake_quantize_per_tensor_affine(x, 0.25, 4, 0, 15);
  BOOST_TEST(!y.requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_qparams_are_value_errors) {
  const auto x = vec({1.f});
  BOOST_CHECK_EXCEPTION(fake_quantize_per_tensor_affine(x, 0.0, 0, 0, 255), ValueError,
                        mentions<ValueError>("scale"));
  BOOST_CHECK_THROW(fake_quantize_per_tensor_affine(x, -0.1, 0, 0, 255), ValueError);
  BOOST_CHECK_THROW(fake_quantize_per_tensor_affine(x, std::nan(""), 0, 0, 255), ValueError);
  BOOST_CHECK_THROW(fake_quantize_per_tensor_affine(x, 1.0 / 0.0, 0, 0, 255), ValueError);
  // Positive in double but 0 (or with an infinite inverse) in float.
  BOOST_CHECK_THROW(fake_quantize_per_tensor_affine(x, 1e-50, 0, 0, 255), ValueError);
  BOOST_CHECK_THROW(fake_quantize_per_tensor_affine(x, 1e-40, 0, 0, 255), ValueError);
  BOOST_CHECK_EXCEPTION(fake_quantize_per_tensor_affine(x, 0.1, 0, 10, 5), ValueError,
                        mentions<ValueError>("quant_min (10)"));
  BOOST_CHECK_EXCEPTION(fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255), ValueError,
                        mentions<ValueError>("zero_point 300"));
  BOOST_CHECK_EXCEPTION(fake_quantize_per_tensor_affine(Tensor<float>(), 0.1, 0, 0, 255),
                        ValueError, mentions<ValueError>("fake_quantize_per_tensor_affine"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fake_quantize_module)

BOOST_AUTO_TEST_CASE(starts_with_both_toggles_on_and_no_qparams) {
  FakeQuantize<float> fq;
  BOOST_TEST(fq.fake_quant_enabled());
  BOOST_TEST(fq.observer_enabled());
  BOOST_TEST(!fq.has_qparams());
  BOOST_TEST(fq.quant_min() == 0);
  BOOST_TEST(fq.quant_max() == 255);
}

BOOST_AUTO_TEST_CASE(forward_observes_then_fake_quantizes) {
  FakeQuantize<float> fq;
  const auto x = vec({-1.f, 0.3f, 2.f});
  const auto y = fq(x);
  BOOST_REQUIRE(fq.has_qparams());
  BOOST_TEST(fq.qparams().scale == 3.f / 255.f);
  BOOST_TEST(fq.qparams().zero_point == 85);
  const auto expected = fake_quantize_per_tensor_affine(x, 3.f / 255.f, 85, 0, 255);
  BOOST_TEST(equal_arrays(y.data(), expected.data()));
  const auto [scale, zero_point] = fq.calculate_qparams();
  BOOST_TEST(scale == 3.f / 255.f);
  BOOST_TEST(zero_point == 85);
}

BOOST_AUTO_TEST_CASE(gradient_flows_through_the_module) {
  FakeQuantize<float> fq(QuantDtype::quint8, QScheme::per_tensor_affine, 0, 15);
  fq(vec({0.f, 3.75f}));  // scale 0.25, zero_point 0
  fq.disable_observer();
  auto x = vec({-1.f, 1.f, 4.f}).set_requires_grad(true);
  fq(x).backward(xt::xarray<float>({1.f, 1.f, 1.f}));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<float>({0.f, 1.f, 0.f})));
}

BOOST_AUTO_TEST_CASE(disabled_fake_quant_returns_the_input) {
  FakeQuantize<float> fq;
  fq.disable_fake_quant();
  BOOST_TEST(!fq.fake_quant_enabled());
  const auto x = vec({-1.f, 0.3f, 2.f});
  const auto y = fq(x);
  BOOST_TEST(y.storage() == x.storage());
  BOOST_TEST(fq.has_qparams());  // the observer still ran
  fq.enable_fake_quant();
  BOOST_TEST(fq.fake_quant_enabled());
}

BOOST_AUTO_TEST_CASE(disabled_observer_freezes_the_qparams) {
  FakeQuantize<float> fq;
  fq(vec({-1.f, 2.f}));
  fq.disable_observer();
  BOOST_TEST(!fq.observer_enabled());
  fq(vec({-10.f, 20.f}));
  BOOST_TEST(fq.activation_post_process->min_val().item() == -1.f);
  BOOST_TEST(fq.qparams().scale == 3.f / 255.f);
  fq.enable_observer();
  fq(vec({-10.f, 20.f}));
  BOOST_TEST(fq.qparams().scale == 30.f / 255.f);
}

BOOST_AUTO_TEST_CASE(fake_quant_without_qparams_is_a_state_error) {
  FakeQuantize<float> fq;
  fq.disable_observer();
  BOOST_CHECK_EXCEPTION(fq(vec({1.f})), StateError, mentions<StateError>("no qparams"));
}

BOOST_AUTO_TEST_CASE(qparams_travel_with_the_state_dict) {
  FakeQuantize<float> trained(QuantDtype::qint8, QScheme::per_tensor_symmetric);
  trained(vec({-1.f, 2.f}));
  const auto dict = trained.state_dict();
  const std::vector<std::string> expected_names = {"fake_quant_enabled",
                                                   "observer_enabled",
                                                   "scale",
                                                   "zero_point",
                                                   "activation_post_process.min_val",
                                                   "activation_post_process.max_val"};
  BOOST_TEST(xgrad_test::names_of(dict) == expected_names, boost::test_tools::per_element());

  FakeQuantize<float> fresh(QuantDtype::qint8, QScheme::per_tensor_symmetric);
  fresh.load_state_dict(dict);
  fresh.disable_observer();
  trained.disable_observer();
  BOOST_REQUIRE(fresh.has_qparams());
  const auto x = vec({-0.7f, 0.01f, 1.9f, 3.f});
  BOOST_TEST(equal_arrays(fresh(x).data(), trained(x).data()));
}

// Sets one entry of a FakeQuantize's state dict.
void load_with(FakeQuantize<float>& fq, const std::string& key, xt::xarray<float> value) {
  auto dict = fq.state_dict();
  for (auto& kv : dict)
    if (kv.first == key) kv.second = std::move(value);
  fq.load_state_dict(dict);
}

BOOST_AUTO_TEST_CASE(toggles_are_buffers_in_the_state_dict) {
  FakeQuantize<float> fq;
  fq.disable_fake_quant();
  fq.disable_observer();
  const auto dict = fq.state_dict();
  BOOST_TEST(dict[0].first == "fake_quant_enabled");
  BOOST_TEST(equal_arrays(dict[0].second, xt::xarray<float>({0.f})));
  BOOST_TEST(dict[1].first == "observer_enabled");
  BOOST_TEST(equal_arrays(dict[1].second, xt::xarray<float>({0.f})));
  FakeQuantize<float> other;
  other.load_state_dict(dict);
  BOOST_TEST(!other.fake_quant_enabled());
  BOOST_TEST(!other.observer_enabled());
}

// load_state_dict refuses what qparams() would refuse, and keeps the old state.
BOOST_AUTO_TEST_CASE(corrupt_loaded_zero_point_is_a_value_error) {
  FakeQuantize<float> fq;
  fq(vec({-1.f, 2.f}));
  fq.disable_observer();
  const auto before = fq.qparams();
  BOOST_CHECK_EXCEPTION(load_with(fq, "zero_point", xt::xarray<float>({2.5f})), ValueError,
                        mentions<ValueError>("zero_point"));
  BOOST_CHECK_THROW(load_with(fq, "zero_point", xt::xarray<float>({300.f})), ValueError);
  BOOST_CHECK_THROW(load_with(fq, "zero_point", xt::xarray<float>({1.f, 2.f})), ValueError);
  BOOST_TEST(fq.qparams().zero_point == before.zero_point);
  BOOST_CHECK_NO_THROW(fq(vec({1.f})));
}

BOOST_AUTO_TEST_CASE(qparams_before_any_are_a_state_error) {
  FakeQuantize<float> fq;
  BOOST_CHECK_THROW(fq.qparams(), StateError);
}

BOOST_AUTO_TEST_CASE(observer_errors_leave_the_module_unchanged) {
  FakeQuantize<float> fq;
  fq(vec({-1.f, 2.f}));
  BOOST_CHECK_THROW(fq(vec({nan_f})), ValueError);
  BOOST_TEST(fq.qparams().scale == 3.f / 255.f);
  BOOST_CHECK_THROW(fq(Tensor<float>()), ValueError);
}

// The observer accepts [-3e38, 3e38] but its scale overflows float32: the
// forward throws and the observer keeps what it had seen before.
BOOST_AUTO_TEST_CASE(overflowing_scale_leaves_the_module_unchanged) {
  FakeQuantize<float> fq;
  fq(vec({-1.f, 2.f}));
  BOOST_CHECK_EXCEPTION(fq(vec({-3e38f, 3e38f})), ValueError, mentions<ValueError>("overflows"));
  BOOST_TEST(fq.activation_post_process->min_val().item() == -1.f);
  BOOST_TEST(fq.activation_post_process->max_val().item() == 2.f);
  BOOST_TEST(fq.qparams().scale == 3.f / 255.f);
  const auto y = fq(vec({0.5f}));                               // still usable
  BOOST_TEST(std::abs(y.item() - 0.5f) <= 0.5f * 3.f / 255.f);  // half a step
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D x = leaf({3});
  r.push_back({"fake_quantize_per_tensor_affine: scale 0",
               raises<ValueError>("fake_quantize_per_tensor_affine", {"scale", "got 0"}),
               [x] { fake_quantize_per_tensor_affine(x, 0.0, 0, 0, 255); },
               {x}});
  r.push_back({"fake_quantize_per_tensor_affine: NaN scale",
               raises<ValueError>("fake_quantize_per_tensor_affine", {"scale", "got nan"}),
               [x] { fake_quantize_per_tensor_affine(x, kNaN, 0, 0, 255); },
               {x}});
  r.push_back(
      {"fake_quantize_per_tensor_affine: quant_min above quant_max",
       raises<ValueError>("fake_quantize_per_tensor_affine", {"quant_min (10)", "quant_max (5)"}),
       [x] { fake_quantize_per_tensor_affine(x, 0.1, 0, 10, 5); },
       {x}});
  r.push_back(
      {"fake_quantize_per_tensor_affine: zero_point outside",
       raises<ValueError>("fake_quantize_per_tensor_affine", {"zero_point 300", "[0, 255]"}),
       [x] { fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255); },
       {x}});
  r.push_back({"fake_quantize_per_tensor_affine: undefined",
               raises<ValueError>("fake_quantize_per_tensor_affine", {"input tensor is undefined"}),
               [u] { fake_quantize_per_tensor_affine(u, 0.1, 0, 0, 255); }});
  r.push_back({"MinMaxObserver: only quant_min",
               raises<ValueError>("MinMaxObserver", {"quant_max", "got only quant_min"}),
               [] { MinMaxObserver<double>(QuantDtype::quint8, QScheme::per_tensor_affine, 0); }});
  r.push_back({"MinMaxObserver: range without 0",
               raises<ValueError>("MinMaxObserver", {"range [1, 10]", "include 0"}), [] {
                 MinMaxObserver<double>(QuantDtype::quint8, QScheme::per_tensor_affine, 1, 10);
               }});
  r.push_back({"MinMaxObserver: range beyond qint8",
               raises<ValueError>("MinMaxObserver", {"range [-200, 10]", "qint8"}), [] {
                 MinMaxObserver<double>(QuantDtype::qint8, QScheme::per_tensor_affine, -200, 10);
               }});
  auto mm = std::make_shared<MinMaxObserver<double>>();
  r.push_back({"MinMaxObserver: qparams before observing",
               raises<StateError>("MinMaxObserver.calculate_qparams", {"nothing was observed"}),
               [mm] { mm->calculate_qparams(); },
               {},
               {mm}});
  r.push_back(
      forward_of("MinMaxObserver: forward of NaN",
                 raises<ValueError>("MinMaxObserver.forward", {"holds nan", "flat position 1"}), mm,
                 tensor<double>({0.0, kNaN})));
  r.push_back(forward_of_undefined(mm, "MinMaxObserver.forward", "the input tensor"));
  r.push_back({"MinMaxObserver: set_min_val NaN",
               raises<ValueError>("MinMaxObserver.set_min_val", {"NaN"}),
               [mm] { mm->set_min_val(kNaN); },
               {},
               {mm}});
  auto fq = std::make_shared<FakeQuantize<double>>();
  fq->disable_observer();
  r.push_back(forward_of("FakeQuantize: forward without qparams",
                         raises<StateError>("FakeQuantize.qparams", {"no qparams"}), fq, x));
  r.push_back(forward_of_undefined(fq, "FakeQuantize.forward", "the input tensor"));
  auto fq_on = std::make_shared<FakeQuantize<double>>();
  r.push_back(
      forward_of("FakeQuantize: forward of an infinite value",
                 raises<ValueError>("MinMaxObserver.forward", {"holds inf", "flat position 1"}),
                 fq_on, tensor<double>({0.0, kInf})));
  r.push_back({"FakeQuantize: load a zero scale",
               raises<ValueError>("FakeQuantize::load_state_dict", {"scale", "got 0"}),
               [fq] {
                 auto d = fq->state_dict();
                 for (auto& kv : d) {
                   if (kv.first == "scale") kv.second = xt::xarray<double>({0.0});
                   if (kv.first == "zero_point") kv.second = xt::xarray<double>({0.0});
                 }
                 fq->load_state_dict(d);
               },
               {},
               {fq}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_uniform
