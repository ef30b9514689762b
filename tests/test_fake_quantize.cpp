// Port of PyTorch's test/quantization/core/experimental/test_fake_quantize.py:
// the same four cases, as literally as C++ allows.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <xtensor/xadapt.hpp>

#include "test_util.hpp"
#include "xgrad/gradcheck.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_fake_quantize)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;

namespace {

// The engine function the STE is checked with: its value is the declared
// surrogate clamp(x, -alpha, alpha) (what finite differences see), its
// gradient is the fake quantize op's backward (what the engine sees):
//   f(x) = fq(x) + detach(surrogate(x) - fq(x)).
GradcheckFn ste_against(const APoTQParams<double>& q,
                        std::function<Tensor<double>(const Tensor<double>&)> surrogate) {
  return [q, surrogate](const std::vector<Tensor<double>>& in) {
    const Tensor<double> fq = fake_quantize_function::apply(in[0], q.alpha, q.gamma,
                                                            q.quantization_levels, q.level_indices);
    return fq + (surrogate(in[0]) - fq).detach();
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(TestFakeQuantize)

// Tests fake quantize calculate_qparams() method by comparing with result from
// observer calculate_qparams. Uses hard-coded values: alpha=1.0, b=4, k=2.
BOOST_AUTO_TEST_CASE(test_fake_calc_qparams) {
  APoTFakeQuantize<float> apot_fake(/*b=*/4, /*k=*/2);
  apot_fake.activation_post_process->set_min_val(tensor<float>({0.0f}));
  apot_fake.activation_post_process->set_max_val(tensor<float>({1.0f}));

  auto [alpha, gamma, quantization_levels, level_indices] =
      apot_fake.calculate_qparams(/*signed=*/false);

  APoTObserver<float> observer(/*b=*/4, /*k=*/2);
  observer.set_min_val(tensor<float>({0.0f}));
  observer.set_max_val(tensor<float>({1.0f}));

  const auto qparams_expected = observer.calculate_qparams(/*signed=*/false);

  BOOST_TEST(alpha == qparams_expected.alpha);
  BOOST_TEST(gamma == qparams_expected.gamma);
  BOOST_TEST(equal_arrays(quantization_levels.data(), qparams_expected.quantization_levels.data()));
  BOOST_TEST(equal_arrays(level_indices, qparams_expected.level_indices));
}

// Tests fake quantize forward() method by comparing result with expected
// quant_dequant_APoT mapping of input tensor. Uses input tensor with random
// values from 0 -> 1000 and APoT observer with hard-coded values b=4, k=2.
BOOST_AUTO_TEST_CASE(test_forward) {
  const Tensor<float> X = 1000.0f * rand<float>({20});

  APoTObserver<float> observer(/*b=*/4, /*k=*/2);
  observer.forward(X);
  auto [alpha, gamma, quantization_levels, level_indices] =
      observer.calculate_qparams(/*signed=*/false);

  APoTFakeQuantize<float> apot_fake(/*b=*/4, /*k=*/2);
  apot_fake.enable_observer();
  apot_fake.enable_fake_quant();

  const Tensor<float> X_reduced_precision_fp = apot_fake.forward(X.clone(), false);

  const TensorAPoT<float> X_to_apot =
      quantize_APoT(X, alpha, gamma, quantization_levels, level_indices);
  const Tensor<float> X_expected = dequantize_APoT(X_to_apot);

  BOOST_TEST(equal_arrays(X_reduced_precision_fp.data(), X_expected.data()));
}

// Tests fake quantize forward() method throws error when qparams are None.
BOOST_AUTO_TEST_CASE(test_forward_exception) {
  const Tensor<float> X = 1000.0f * rand<float>({20});

  APoTFakeQuantize<float> apot_fake(/*b=*/4, /*k=*/2);
  // Disable the observer so that qparams are never set.
  apot_fake.disable_observer();
  apot_fake.enable_fake_quant();

  // Not any exception: our documented StateError saying the qparams are missing.
  BOOST_CHECK_THROW(apot_fake.forward(X.clone(), false), StateError);
  try {
    apot_fake.forward(X.clone(), false);
  } catch (const StateError& e) {
    BOOST_TEST(std::string(e.what()).find("qparams are missing") != std::string::npos, e.what());
  }
}

// Tests fake quantize helper backward() method using the framework's gradcheck.
// Upstream gradchecks the piecewise-constant forward itself, which cannot pass
// (numerical derivative 0, STE 1). Here the STE is checked against its declared
// surrogate clamp(x, -alpha, alpha), at points away from +-alpha, and the same
// check rejects a wrong surrogate.
BOOST_AUTO_TEST_CASE(test_backward) {
  Generator gen(20);
  Tensor<double> input = randn<double>({20}, gen, 0.0, 1.0, /*requires_grad=*/true);

  APoTObserver<double> observer(/*b=*/4, /*k=*/2);
  observer(input);
  const APoTQParams<double> q = observer.calculate_qparams(/*signed=*/false);
  const double alpha = q.alpha;

  // gradcheck points: the observed values that are not within 1e-3 of +-alpha
  // (the extreme one sits exactly on the boundary), plus points outside the
  // clipping range where the clip decides.
  std::vector<double> pts;
  for (double v : input.data())
    if (std::abs(std::abs(v) - alpha) > 1e-3) pts.push_back(v);
  pts.insert(pts.end(), {1.5 * alpha, -1.5 * alpha, 3.0 * alpha});
  BOOST_REQUIRE(pts.size() >= 22u);
  const Tensor<double> x(xt::adapt(pts, {pts.size()}), /*requires_grad=*/true);

  const auto clamp_surrogate = [alpha](const Tensor<double>& t) { return clamp(t, -alpha, alpha); };
  BOOST_TEST(xgrad_test::passes_gradcheck(ste_against(q, clamp_surrogate), {x}, 1e-6, 1e-4));

  // The check can fail: an unclipped identity surrogate (plain STE) and a
  // surrogate with the wrong slope are both rejected.
  const auto identity = [](const Tensor<double>& t) { return t * 1.0; };
  const auto steep = [alpha](const Tensor<double>& t) { return clamp(t, -alpha, alpha) * 2.0; };
  BOOST_TEST(!gradcheck(ste_against(q, identity), {x}, 1e-6, 1e-4).passed);
  BOOST_TEST(!gradcheck(ste_against(q, steep), {x}, 1e-6, 1e-4).passed);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D x = leaf({4});
  r.push_back({"APoTFakeQuantize: b not a multiple of k",
               raises<ValueError>("apot_level_count", {"multiple of k", "got b=5, k=2"}),
               [] { APoTFakeQuantize<double>(5, 2); }});
  auto afq = std::make_shared<APoTFakeQuantize<double>>(4, 2);
  afq->disable_observer();
  r.push_back(forward_of("APoTFakeQuantize: forward without qparams",
                         raises<StateError>("APoTFakeQuantize", {"qparams are missing"}), afq, x));
  r.push_back({"APoTFakeQuantize: load unsorted levels",
               raises<ValueError>("APoTFakeQuantize::load_state_dict",
                                  {"quantization_levels must be sorted"}),
               [afq] {
                 auto d = afq->state_dict();
                 for (auto& kv : d) {
                   if (kv.first == "alpha" || kv.first == "gamma")
                     kv.second = xt::xarray<double>({1.0});
                   if (kv.first == "quantization_levels")
                     kv.second = xt::xarray<double>({1.0, 0.0});
                   if (kv.first == "level_indices") kv.second = xt::xarray<double>({0.0, 1.0});
                 }
                 afq->load_state_dict(d);
               },
               {},
               {afq}});
  auto afq_on = std::make_shared<APoTFakeQuantize<double>>(4, 2);
  r.push_back(forward_of("APoTFakeQuantize: forward on a range beyond float32",
                         raises<ValueError>("apot_level_set", {"alpha=1e+300", "float32"}), afq_on,
                         tensor<double>({-1e300, 1e300})));
}

BOOST_AUTO_TEST_SUITE_END()  // test_fake_quantize
