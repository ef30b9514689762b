// Calibration observers beyond MinMaxObserver: MovingAverageMinMaxObserver,
// PercentileObserver and PerChannelMinMaxObserver (PyTorch semantics).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "test_util.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"
#include "xgrad/quant/observers/moving_average_observer.hpp"
#include "xgrad/quant/observers/per_channel_observer.hpp"
#include "xgrad/quant/observers/percentile_observer.hpp"

BOOST_AUTO_TEST_SUITE(test_uniform_observers)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {
template <class M>
StateDict<float> state_of(const M& m) {
  return m.state_dict();
}
}  // namespace

// ---- moving average ----

BOOST_AUTO_TEST_CASE(moving_average_first_batch_sets_then_averages) {
  MovingAverageMinMaxObserver<float> obs(0.5);
  obs.forward(tensor<float>({-1.0f, 3.0f, 0.0f}));
  BOOST_TEST(obs.min_val().item() == -1.0f);
  BOOST_TEST(obs.max_val().item() == 3.0f);
  obs.forward(tensor<float>({1.0f, 5.0f}));
  BOOST_TEST(obs.min_val().item() == 0.0f);  // -1 + 0.5 * (1 - -1)
  BOOST_TEST(obs.max_val().item() == 4.0f);  // 3 + 0.5 * (5 - 3)
  const auto [scale, zp] = obs.calculate_qparams();
  BOOST_TEST(scale == 4.0f / 255.0f);
  BOOST_TEST(zp == 0);
}

BOOST_AUTO_TEST_CASE(moving_average_default_constant_is_pytorchs) {
  MovingAverageMinMaxObserver<double> obs;
  BOOST_TEST(obs.averaging_constant() == 0.01);
  obs.forward(tensor<double>({0.0, 1.0}));
  obs.forward(tensor<double>({0.0, 2.0}));
  BOOST_TEST(obs.max_val().item() == 1.0 + 0.01 * (2.0 - 1.0));
  BOOST_TEST(obs.type_name() == "MovingAverageMinMaxObserver");
}

BOOST_AUTO_TEST_CASE(moving_average_refuses_bad_input_unchanged) {
  BOOST_CHECK_EXCEPTION(MovingAverageMinMaxObserver<float>(0.0), ValueError,
                        mentions<ValueError>("averaging_constant must be in (0, 1], got 0"));
  BOOST_CHECK_EXCEPTION(MovingAverageMinMaxObserver<float>(1.5), ValueError,
                        mentions<ValueError>("averaging_constant"));
  BOOST_CHECK_EXCEPTION(
      MovingAverageMinMaxObserver<float>(0.1, QuantDtype::qint8, QScheme::per_channel_affine),
      ValueError, mentions<ValueError>("use PerChannelMinMaxObserver"));
  MovingAverageMinMaxObserver<float> obs(0.5);
  obs.forward(tensor<float>({1.0f}));
  const auto before = state_of(obs);
  BOOST_CHECK_EXCEPTION(
      obs.forward(tensor<float>({2.0f, std::numeric_limits<float>::quiet_NaN()})), ValueError,
      mentions<ValueError>(
          "MovingAverageMinMaxObserver.forward: the input holds nan at flat position 1"));
  BOOST_TEST(xgrad_test::same_state(before, state_of(obs)));
  obs.forward(zeros<float>({0}));
  BOOST_TEST(xgrad_test::same_state(before, state_of(obs)));
}

// ---- percentile ----

BOOST_AUTO_TEST_CASE(percentile_takes_the_mean_of_batch_percentiles) {
  PercentileObserver<double> obs(99.0);
  xt::xarray<double> a = xt::xarray<double>::from_shape({101});
  for (std::size_t i = 0; i < 101; ++i) a(i) = double(100 - i);  // 100 .. 0, unsorted order
  obs.forward(Tensor<double>(a));
  BOOST_TEST(obs.min_val().item() == 1.0);  // 1st percentile of 0..100
  BOOST_TEST(obs.max_val().item() == 99.0);
  obs.forward(Tensor<double>(xt::xarray<double>(2.0 * a)));
  BOOST_TEST(obs.min_val().item() == 1.5);  // mean of 1 and 2
  BOOST_TEST(obs.max_val().item() == 148.5);
  BOOST_TEST(obs.num_batches() == 2);
}

BOOST_AUTO_TEST_CASE(percentile_interpolates_between_order_statistics) {
  PercentileObserver<double> obs(75.0);
  obs.forward(tensor<double>({0.0, 10.0, 20.0}));  // positions 0.5 and 1.5
  BOOST_TEST(obs.min_val().item() == 5.0);
  BOOST_TEST(obs.max_val().item() == 15.0);
}

BOOST_AUTO_TEST_CASE(percentile_ignores_a_single_outlier) {
  PercentileObserver<float> obs(99.0);
  xt::xarray<float> a = xt::xarray<float>::from_shape({1001});
  for (std::size_t i = 0; i < a.size(); ++i) a(i) = float(i % 10) / 10.0f;
  a(500) = 1000.0f;
  obs.forward(Tensor<float>(a));
  BOOST_TEST(obs.max_val().item() < 1.0f);
}

BOOST_AUTO_TEST_CASE(percentile_reset_starts_a_new_mean_and_bad_input_is_refused) {
  PercentileObserver<double> obs(100.0);
  obs.forward(tensor<double>({0.0, 4.0}));
  obs.reset_min_max_vals();
  obs.forward(tensor<double>({1.0, 2.0}));
  BOOST_TEST(obs.max_val().item() == 2.0);
  BOOST_TEST(obs.num_batches() == 1);
  BOOST_CHECK_EXCEPTION(PercentileObserver<float>(50.0), ValueError,
                        mentions<ValueError>("percentile must be in (50, 100]"));
  BOOST_CHECK_EXCEPTION(obs.forward(tensor<double>({std::numeric_limits<double>::infinity()})),
                        ValueError,
                        mentions<ValueError>("PercentileObserver.forward: the input holds inf"));
  BOOST_TEST(obs.max_val().item() == 2.0);
}

BOOST_AUTO_TEST_CASE(percentile_state_dict_round_trips_the_running_mean) {
  PercentileObserver<double> a(100.0);
  a.forward(tensor<double>({0.0, 4.0}));
  a.forward(tensor<double>({2.0, 8.0}));
  PercentileObserver<double> b(100.0);
  b.load_state_dict(a.state_dict());
  BOOST_TEST(b.num_batches() == 2);
  b.forward(tensor<double>({-3.0, 3.0}));
  a.forward(tensor<double>({-3.0, 3.0}));
  BOOST_TEST(b.min_val().item() == a.min_val().item());
  BOOST_TEST(b.max_val().item() == a.max_val().item());
  BOOST_TEST(a.max_val().item() == 5.0);  // mean of 4, 8, 3
}

// ---- per channel ----

BOOST_AUTO_TEST_CASE(per_channel_tracks_running_extremes_per_slice) {
  PerChannelMinMaxObserver<float> obs(0);
  BOOST_TEST(obs.min_val().numel() == 0u);
  obs.forward(tensor<float>({{-1.0f, 2.0f, 0.5f}, {0.0f, 4.0f, 3.0f}}));
  BOOST_TEST(equal_arrays(obs.min_val().data(), xt::xarray<float>({-1.0f, 0.0f})));
  BOOST_TEST(equal_arrays(obs.max_val().data(), xt::xarray<float>({2.0f, 4.0f})));
  obs.forward(tensor<float>({{-3.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}}));
  BOOST_TEST(equal_arrays(obs.min_val().data(), xt::xarray<float>({-3.0f, 0.0f})));
  BOOST_TEST(equal_arrays(obs.max_val().data(), xt::xarray<float>({2.0f, 4.0f})));
}

BOOST_AUTO_TEST_CASE(per_channel_axis_may_be_any_and_negative) {
  PerChannelMinMaxObserver<double> obs(-1);
  obs.forward(tensor<double>({{{-1.0, 2.0}, {5.0, 0.0}}, {{3.0, -4.0}, {0.0, 1.0}}}));
  BOOST_TEST(equal_arrays(obs.min_val().data(), xt::xarray<double>({-1.0, -4.0})));
  BOOST_TEST(equal_arrays(obs.max_val().data(), xt::xarray<double>({5.0, 2.0})));
}

BOOST_AUTO_TEST_CASE(per_channel_qparams_are_the_per_tensor_formula_per_channel) {
  struct Case {
    QuantDtype dtype;
    QScheme scheme;
  };
  for (const Case c : {Case{QuantDtype::quint8, QScheme::per_channel_affine},
                       Case{QuantDtype::qint8, QScheme::per_channel_symmetric},
                       Case{QuantDtype::quint8, QScheme::per_channel_symmetric}}) {
    BOOST_TEST_CONTEXT(to_string(c.dtype) << " " << to_string(c.scheme)) {
      PerChannelMinMaxObserver<float> obs(1, c.dtype, c.scheme);
      obs.forward(tensor<float>({{-3.0f, 0.5f, 0.0f}, {2.0f, 0.25f, 7.0f}}));
      const auto q = obs.calculate_qparams();
      BOOST_TEST_REQUIRE(q.scale.size() == 3u);
      const QScheme per_tensor = c.scheme == QScheme::per_channel_affine
                                     ? QScheme::per_tensor_affine
                                     : QScheme::per_tensor_symmetric;
      const float mins[] = {-3.0f, 0.25f, 0.0f}, maxs[] = {2.0f, 0.5f, 7.0f};
      for (std::size_t ch = 0; ch < 3; ++ch) {
        MinMaxObserver<float> one(c.dtype, per_tensor);
        one.set_min_val(mins[ch]);
        one.set_max_val(maxs[ch]);
        const auto [s, z] = one.calculate_qparams();
        BOOST_TEST(q.scale(ch) == s);
        BOOST_TEST(q.zero_point(ch) == z);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(per_channel_bad_input_is_typed_and_changes_nothing) {
  BOOST_CHECK_EXCEPTION(
      PerChannelMinMaxObserver<float>(0, QuantDtype::quint8, QScheme::per_tensor_affine),
      ValueError, mentions<ValueError>("is per tensor"));
  PerChannelMinMaxObserver<float> obs(2);
  BOOST_CHECK_EXCEPTION(
      obs.forward(ones<float>({2, 2})), ShapeError,
      mentions<ShapeError>("axis 2 is out of range for a tensor of 2 dimensions"));
  BOOST_CHECK_EXCEPTION(obs.calculate_qparams(), StateError,
                        mentions<StateError>("nothing was observed yet"));
  PerChannelMinMaxObserver<float> ok(0);
  ok.forward(ones<float>({2, 2}));
  const auto before = state_of(ok);
  BOOST_CHECK_EXCEPTION(ok.forward(ones<float>({3, 2})), ShapeError,
                        mentions<ShapeError>("x has 3 channels on axis 0, but 2 were observed"));
  BOOST_CHECK_EXCEPTION(
      ok.forward(tensor<float>({{1.0f, std::numeric_limits<float>::quiet_NaN()}, {0.0f, 0.0f}})),
      ValueError, mentions<ValueError>("at flat position 1"));
  BOOST_TEST(xgrad_test::same_state(before, state_of(ok)));
}

BOOST_AUTO_TEST_CASE(per_channel_state_dict_round_trips_any_channel_count) {
  PerChannelMinMaxObserver<float> a(0);
  a.forward(tensor<float>({{1.0f, 0.0f}, {-2.0f, 0.0f}, {3.0f, 1.0f}}));
  PerChannelMinMaxObserver<float> b(0);
  b.load_state_dict(a.state_dict());
  BOOST_TEST(equal_arrays(b.min_val().data(), a.min_val().data()));
  const auto qa = a.calculate_qparams(), qb = b.calculate_qparams();
  BOOST_TEST(equal_arrays(qa.scale, qb.scale));
  BOOST_TEST(equal_arrays(qa.zero_point, qb.zero_point));
}

BOOST_AUTO_TEST_SUITE_END()  // test_uniform_observers
