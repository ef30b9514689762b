// load_state_dict checks what each module would hold, not only shapes: a
// state a forward would refuse (codes outside the level set, unsorted or NaN
// levels, toggles other than 0 / 1, non-positive scales, negative variances,
// ...) is a ValueError naming the key, and nothing in the whole tree changes.
#include <boost/test/unit_test.hpp>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xbuilder.hpp>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_state_validation)

using namespace xgrad;
using xgrad_test::contains;
using xgrad_test::equal_arrays;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

std::shared_ptr<Module<double>> linear_apot(int k = 2) {
  Generator gen(3);
  return std::make_shared<quant::LinearAPoT<double>>(randn<double>({3, 4}, gen), 4, k,
                                                     randn<double>({3}, gen));
}

// An APoTFakeQuantize that has observed data (so it holds qparams).
std::shared_ptr<Module<double>> apot_fake_quantize() {
  auto fq = std::make_shared<quant::APoTFakeQuantize<double>>(4, 2);
  fq->forward(tensor<double>({-1.0, 0.5, 2.0}));
  return fq;
}

std::shared_ptr<Module<double>> fake_quantize() {
  auto fq = std::make_shared<quant::FakeQuantize<double>>();
  fq->forward(tensor<double>({-1.0, 0.5, 2.0}));
  return fq;
}

std::shared_ptr<Module<double>> batch_norm() {
  return std::make_shared<nn::BatchNorm1d<double>>(2);
}

// Sets element `i` of the (flattened) entry `key` of `dict` to `v`.
std::function<void(StateDict<double>&)> set(const std::string& key, std::size_t i, double v) {
  return [key, i, v](StateDict<double>& dict) {
    for (auto& kv : dict)
      if (kv.first == key) {
        kv.second.data()[i] = v;
        return;
      }
    BOOST_FAIL("no key " + key);
  };
}

// Replaces entry `key` of `dict` by `value`.
std::function<void(StateDict<double>&)> replace(const std::string& key, xt::xarray<double> value) {
  return [key, value](StateDict<double>& dict) {
    for (auto& kv : dict)
      if (kv.first == key) {
        kv.second = value;
        return;
      }
    BOOST_FAIL("no key " + key);
  };
}

struct Case {
  const char* what;
  std::function<std::shared_ptr<Module<double>>()> make;
  std::function<void(StateDict<double>&)> corrupt;
  const char* key;  // the message names it
};

}  // namespace

BOOST_AUTO_TEST_SUITE(refused_states)

BOOST_AUTO_TEST_CASE(each_unusable_state_is_a_value_error_naming_the_key_and_changes_nothing) {
  const std::vector<Case> cases = {
      // LinearAPoT: the codes and qparams a forward relies on.
      // (4-bit codes, two per byte, 12 codes in 6 bytes.)
      {"packed byte of 1e9", [] { return linear_apot(); }, set("weight_packed", 0, 1e9),
       "weight_packed"},
      {"packed bytes missing", [] { return linear_apot(); },
       [](StateDict<double>& d) {
         d[0].second = xt::xarray<double>({1.0, 2.0, 3.0, 4.0, 5.0});
       },
       "weight_packed has 5 bytes"},
      {"negative zero code (no level)", [] { return linear_apot(); }, set("weight_packed", 2, 0x88),
       "level"},
      {"fractional byte", [] { return linear_apot(); }, set("weight_packed", 0, 2.5),
       "weight_packed"},
      {"negative alpha", [] { return linear_apot(); }, set("alpha", 0, -1), "alpha"},
      {"NaN gamma", [] { return linear_apot(); }, set("gamma", 0, kNaN), "gamma"},
      {"levels of another k", [] { return linear_apot(2); },
       [](StateDict<double>& d) {
         const auto other = linear_apot(1)->state_dict();
         for (auto& kv : d)
           if (kv.first != "weight_packed" && kv.first != "bias")
             for (const auto& o : other)
               if (o.first == kv.first) kv.second = o.second;
       },
       "level set"},
      {"unsorted levels", [] { return linear_apot(); }, set("quantization_levels", 0, 100),
       "quantization_levels"},
      {"NaN bias", [] { return linear_apot(); }, set("bias", 1, kNaN), "bias"},
      // APoTFakeQuantize.
      {"observer toggle 2", apot_fake_quantize, set("observer_enabled", 0, 2), "observer_enabled"},
      {"fake quant toggle 0.5", apot_fake_quantize, set("fake_quant_enabled", 0, 0.5),
       "fake_quant_enabled"},
      {"unsorted APoT levels", apot_fake_quantize, set("quantization_levels", 0, 1e6),
       "quantization_levels"},
      {"NaN APoT level", apot_fake_quantize, set("quantization_levels", 3, kNaN),
       "quantization_levels"},
      {"infinite APoT level", apot_fake_quantize, set("quantization_levels", 15, kInf),
       "quantization_levels"},
      {"negative APoT alpha", apot_fake_quantize, set("alpha", 0, -2), "alpha"},
      {"APoT alpha of two elements", apot_fake_quantize,
       replace("alpha", xt::xarray<double>({1.0, 2.0})), "alpha"},
      {"levels without indices", apot_fake_quantize,
       replace("level_indices", xt::xarray<double>::from_shape({0})), "level_indices"},
      {"repeated level index", apot_fake_quantize, set("level_indices", 1, 0), "level_indices"},
      {"fractional level index", apot_fake_quantize, set("level_indices", 1, 1.5), "level_indices"},
      {"observer min above max", apot_fake_quantize, set("activation_post_process.min_val", 0, 10),
       "activation_post_process.min_val"},
      {"observer NaN max", apot_fake_quantize, set("activation_post_process.max_val", 0, kNaN),
       "activation_post_process.max_val"},
      {"observer with only min_val", apot_fake_quantize,
       replace("activation_post_process.max_val", xt::xarray<double>::from_shape({0})),
       "activation_post_process.max_val"},
      // FakeQuantize and its MinMaxObserver.
      {"uniform toggle 3", fake_quantize, set("fake_quant_enabled", 0, 3), "fake_quant_enabled"},
      {"zero scale", fake_quantize, set("scale", 0, 0), "scale"},
      {"NaN scale", fake_quantize, set("scale", 0, kNaN), "scale"},
      {"zero_point beyond quint8", fake_quantize, set("zero_point", 0, 300), "zero_point"},
      {"fractional zero_point", fake_quantize, set("zero_point", 0, 3.5), "zero_point"},
      {"scale without zero_point", fake_quantize,
       replace("zero_point", xt::xarray<double>::from_shape({0})), "zero_point"},
      {"min-max observer min above max", fake_quantize,
       set("activation_post_process.min_val", 0, 5), "activation_post_process.min_val"},
      {"min-max observer NaN", fake_quantize, set("activation_post_process.max_val", 0, kNaN),
       "activation_post_process.max_val"},
      // BatchNorm1d's running statistics.
      {"negative running_var", batch_norm, set("running_var", 1, -1), "running_var"},
      {"NaN running_mean", batch_norm, set("running_mean", 0, kNaN), "running_mean"},
      {"fractional num_batches_tracked", batch_norm, set("num_batches_tracked", 0, 1.5),
       "num_batches_tracked"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      auto m = c.make();
      const StateDict<double> before = m->state_dict();
      StateDict<double> bad = before;
      c.corrupt(bad);
      const std::string msg = xgrad_test::message_of([&] { m->load_state_dict(bad); });
      BOOST_CHECK_THROW(m->load_state_dict(bad), ValueError);
      BOOST_TEST(contains(msg, c.key), msg);
      BOOST_TEST(xgrad_test::same_state(m->state_dict(), before));
      // Non-strict loading checks the same values.
      BOOST_CHECK_THROW(m->load_state_dict(bad, /*strict=*/false), ValueError);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bad_child_state_leaves_every_other_module_unchanged) {
  // The Linear's new weight is fine, the LinearAPoT's codes are not: neither loads.
  nn::Sequential<double> model({std::make_shared<nn::Linear<double>>(4, 4), linear_apot()});
  const StateDict<double> before = model.state_dict();
  StateDict<double> bad = before;
  set("0.weight", 0, 42.0)(bad);
  set("1.weight_packed", 2, 0x88)(bad);  // code 8, "-0": no level
  BOOST_CHECK_EXCEPTION(model.load_state_dict(bad), ValueError,
                        xgrad_test::mentions<ValueError>("\"1.\""));
  BOOST_TEST(xgrad_test::same_state(model.state_dict(), before));
}

BOOST_AUTO_TEST_CASE(a_partial_non_strict_dict_is_checked_together_with_the_current_state) {
  // Only the levels are given; the indices stay: 17 levels for 16 indices.
  auto fq = apot_fake_quantize();
  const StateDict<double> before = fq->state_dict();
  xt::xarray<double> levels = xt::linspace<double>(0.0, 1.0, 17);
  BOOST_CHECK_THROW(fq->load_state_dict({{"quantization_levels", levels}}, /*strict=*/false),
                    ValueError);
  BOOST_TEST(xgrad_test::same_state(fq->state_dict(), before));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accepted_states)

BOOST_AUTO_TEST_CASE(every_module_accepts_its_own_state_and_a_fresh_one) {
  const std::vector<std::pair<const char*, std::function<std::shared_ptr<Module<double>>()>>>
      makers = {
          {"LinearAPoT", [] { return linear_apot(); }},
          {"APoTFakeQuantize observed", apot_fake_quantize},
          {"APoTFakeQuantize fresh",
           [] { return std::make_shared<quant::APoTFakeQuantize<double>>(4, 2); }},
          {"FakeQuantize observed", fake_quantize},
          {"FakeQuantize fresh", [] { return std::make_shared<quant::FakeQuantize<double>>(); }},
          {"BatchNorm1d", batch_norm},
      };
  for (const auto& mk : makers) {
    BOOST_TEST_CONTEXT(mk.first) {
      auto m = mk.second();
      const StateDict<double> own = m->state_dict();
      BOOST_CHECK_NO_THROW(m->load_state_dict(own));
      BOOST_TEST(xgrad_test::same_state(m->state_dict(), own));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_fake_quantize_loads_the_qparams_of_another) {
  // A fresh module (no qparams) takes an observed one's state, and both then
  // fake-quantize alike.
  auto observed = apot_fake_quantize();
  auto fresh = std::make_shared<quant::APoTFakeQuantize<double>>(4, 2);
  fresh->load_state_dict(observed->state_dict());
  auto* a = dynamic_cast<quant::APoTFakeQuantize<double>*>(observed.get());
  a->disable_observer();
  fresh->disable_observer();
  const auto x = tensor<double>({-0.7, 0.1, 1.3});
  BOOST_TEST(equal_arrays(fresh->forward(x).data(), a->forward(x).data()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // test_state_validation
