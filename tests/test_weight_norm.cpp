// Weight normalization (W - mean) / (std + eps), unbiased std, gradients
// through mean and std; and the std rescale for layers without BatchNorm.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <random>

#include "isa_guard.hpp"
#include "test_util.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"

BOOST_AUTO_TEST_SUITE(test_weight_norm)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::close_arrays;
using xgrad_test::mentions;

namespace {

xt::xarray<double> random_array(const Shape& shape, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> dist(0.3, 1.7);
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (auto& v : a) v = dist(gen);
  return a;
}

// The same normalization from engine primitives.
Tensor<double> composed(const Tensor<double>& w, double eps) {
  const Tensor<double> d = w - mean(w);
  const Tensor<double> s = sqrt(sum(d * d) / double(w.numel() - 1));
  return d / (s + eps);
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_uses_the_unbiased_std) {
  const Tensor<double> w = tensor<double>({1.0, 2.0, 3.0, 4.0});
  const Tensor<double> y = weight_standardize(w, 0.0);
  const double s = std::sqrt(5.0 / 3.0);  // sum of squares 5 over n - 1 = 3
  BOOST_TEST(
      close_arrays(y.data(), xt::xarray<double>({-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s}), 1e-15));
  BOOST_TEST(weight_std(w) == s);
}

BOOST_AUTO_TEST_CASE(eps_is_added_to_the_std) {
  const Tensor<float> w = tensor<float>({-1.0f, 1.0f});  // std sqrt(2)
  const Tensor<float> y = weight_standardize(w);         // eps 1e-5
  BOOST_TEST(y.data()(1) == float(1.0 / (std::sqrt(2.0) + 1e-5)));
}

BOOST_AUTO_TEST_CASE(gradcheck_through_mean_and_std) {
  // {2100}: more than one of the 2048-value chunks the sums run in, and a
  // tail shorter than a vector step.
  const std::vector<Shape> shapes = {{2}, {7}, {3, 4}, {2, 3, 2, 2}, {2100}};
  unsigned seed = 1;
  for (const Shape& shape : shapes) {
    for (double eps : {0.0, 1e-5, 0.5}) {
      BOOST_TEST_CONTEXT(to_string(shape) << " eps=" << eps) {
        const Tensor<double> w(random_array(shape, seed++), true);
        // A weighted sum so the upstream gradient is not uniform (a uniform one
        // is annihilated by the mean term).
        const Tensor<double> weights(random_array(shape, seed++));
        BOOST_TEST(xgrad_test::passes_gradcheck(
            [&](const std::vector<Tensor<double>>& in) {
              return sum(weight_standardize(in[0], eps) * weights);
            },
            {w}));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(equals_the_composition_from_primitives) {
  const xt::xarray<double> a = random_array({5, 6}, 42), up = random_array({5, 6}, 43);
  Tensor<double> w1(a, true), w2(a, true);
  Tensor<double> y1 = weight_standardize(w1, 1e-5), y2 = composed(w2, 1e-5);
  // Different association of the same sums: agreement to ~1e-15 relative.
  BOOST_TEST(close_arrays(y1.data(), y2.data(), 1e-14));
  y1.backward(up);
  y2.backward(up);
  BOOST_TEST(close_arrays(w1.grad().data(), w2.grad().data(), 1e-13));
}

BOOST_AUTO_TEST_CASE(a_constant_weight_gives_zeros_and_a_finite_gradient) {
  Tensor<double> w = full<double>({4}, 2.5, true);
  Tensor<double> y = weight_standardize(w, 0.5);
  BOOST_TEST(close_arrays(y.data(), xt::xarray<double>({0.0, 0.0, 0.0, 0.0}), 0.0));
  y.backward(xt::xarray<double>({1.0, 2.0, 3.0, 6.0}));
  // (g - mean(g)) / eps with mean(g) = 3; the std term is 0.
  BOOST_TEST(close_arrays(w.grad().data(), xt::xarray<double>({-4.0, -2.0, 0.0, 6.0}), 0.0));
}

BOOST_AUTO_TEST_CASE(rescale_multiplies_by_the_detached_std) {
  Tensor<double> w = tensor<double>({1.0, 2.0, 3.0, 4.0}, true);
  Tensor<double> q = tensor<double>({0.5, -1.0, 0.0, 1.0}, true);
  Tensor<double> out = rescale_by_weight_std(q, w);
  const double s = std::sqrt(5.0 / 3.0);
  BOOST_TEST(close_arrays(out.data(), xt::xarray<double>({0.5 * s, -s, 0.0, s}), 1e-15));
  sum(out).backward();
  BOOST_TEST(close_arrays(q.grad().data(), xt::xarray<double>({s, s, s, s}), 1e-15));
  BOOST_TEST(!w.grad().defined());  // the std is a constant
}

BOOST_AUTO_TEST_CASE(the_std_given_with_the_normalization_is_weight_std_bit_for_bit) {
  const Tensor<float> w(xt::xarray<float>(random_array({5000}, 44)));
  const StandardizedWeight<float> both = weight_standardize_with_std(w, 1e-5);
  BOOST_TEST(both.std == weight_std(w));
  BOOST_TEST(xgrad_test::equal_arrays(both.normalized.data(), weight_standardize(w, 1e-5).data()));
}

BOOST_AUTO_TEST_CASE(a_large_mean_does_not_cancel_the_std) {
  // 1e8 + N(0.3, 1.7) over three chunks: sum w^2 - n mean^2 would lose every
  // digit (the squares are 1e16, the variance 3); the chunks' centred sums,
  // their means taken relative to w[0] and combined pairwise, keep it.
  // Reference: two passes in long double. Bound: each chunk sums 256 terms
  // per lane in double (gamma_256 = 2.8e-14 of the centred sum), w - mu and
  // mu - w[0] are exact (Sterbenz) and the combination adds a few roundings:
  // the variance within 3e-14, the std within 1.5e-14. (Means rounded to
  // the ulp of 1e8 instead would put the std 5e-11 off.)
  xt::xarray<double> a = random_array({5000}, 45);
  a += 1e8;
  long double mean = 0, ss = 0;
  for (double v : a) mean += v;
  mean /= a.size();
  for (double v : a) ss += (v - mean) * (v - mean);
  const double expected = double(std::sqrt(ss / (a.size() - 1)));
  const double got = weight_std(Tensor<double>(a));
  BOOST_TEST(std::abs(got - expected) <= 1e-13 * expected);
}

// RCFFakeQuantize::forward_standardized (a QAT layer's RCF weight path in one
// Function) against the composition it replaces: the same operations per
// element and the same sums in the same order, so the same bits forward and
// backward, for w, alpha and any thread count.
template <class T>
void check_fused_rcf_path(std::size_t n, bool rescale, double grad_scale, T alpha, int threads) {
  const int saved_threads = get_num_threads();
  set_num_threads(threads);
  xt::xarray<T> a = xt::cast<T>(random_array({n}, 50 + unsigned(n)));
  a(0) = T(7);  // far outside: clipped high for any alpha below 7 std
  a(1) = T(-7);
  const xt::xarray<T> up = xt::cast<T>(random_array({n}, 51 + unsigned(n)));
  RCFOptions<T> o;
  o.alpha = alpha;
  o.grad_scale = grad_scale;
  RCFFakeQuantize<T> fused(apot_sign_magnitude_levels(4), o),
      composed(apot_sign_magnitude_levels(4), o);
  Tensor<T> w1(a, true), w2(a, true);
  const Tensor<T> y1 = fused.forward_standardized(w1, 1e-5, rescale);
  BOOST_REQUIRE(y1.defined());
  const StandardizedWeight<T> sw = weight_standardize_with_std(w2, 1e-5);
  Tensor<T> y2 = composed.forward(sw.normalized);
  if (rescale) y2 = mul(y2, sw.std);
  BOOST_TEST(xgrad_test::equal_arrays(y1.data(), y2.data()));
  sum(y1 * Tensor<T>(up)).backward();
  sum(y2 * Tensor<T>(up)).backward();
  BOOST_TEST(xgrad_test::equal_arrays(w1.grad().data(), w2.grad().data()));
  BOOST_TEST(xgrad_test::equal_arrays(fused.alpha().grad().data(), composed.alpha().grad().data()));
  BOOST_TEST(fused.alpha().grad().data()(0) != T(0));
  set_num_threads(saved_threads);
}

BOOST_AUTO_TEST_CASE(the_fused_rcf_weight_path_has_the_bits_of_the_composition) {
  // 2: the smallest weight; 2100: one chunk of the fused backward, two of the
  // normalization's sums, a tail shorter than a vector step; 9001: three
  // chunks, the last one short; alpha 1.5 clips both ends of N(0, 1).
  for (std::size_t n : {std::size_t(2), std::size_t(2100), std::size_t(9001)}) {
    for (bool rescale : {true, false}) {
      for (int threads : {1, 2}) {
        BOOST_TEST_CONTEXT("n=" << n << " rescale=" << rescale << " threads=" << threads) {
          check_fused_rcf_path<float>(n, rescale, 1.0, 1.5f, threads);
          check_fused_rcf_path<double>(n, rescale, 0.25, 2.0, threads);
        }
      }
    }
  }
}

// The fused loops' vector variants (float, kernel table) hold the same bits:
// 8192 is two full chunks of the backward's sums (the variant's unit), 9001
// adds a short chunk that takes the scalar loop.
BOOST_AUTO_TEST_CASE(the_fused_rcf_weight_path_has_the_same_bits_on_every_instruction_set) {
  xgrad_test::IsaGuard guard;
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (std::size_t n : {std::size_t(8192), std::size_t(9001)}) {
      for (bool rescale : {true, false}) {
        BOOST_TEST_CONTEXT(to_string(isa) << " n=" << n << " rescale=" << rescale) {
          check_fused_rcf_path<float>(n, rescale, 1.0, 1.5f, 1);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_fused_rcf_weight_path_steps_aside_for_an_observer_or_fake_quant_off) {
  const Tensor<float> w(xt::xarray<float>(random_array({100}, 52)), true);
  RCFOptions<float> o;
  o.init = AlphaInit::max_abs;  // an observer child, enabled
  RCFFakeQuantize<float> observing(apot_sign_magnitude_levels(4), o);
  BOOST_TEST(!observing.forward_standardized(w, 1e-5, true).defined());
  observing.disable_observer();
  BOOST_TEST(observing.forward_standardized(w, 1e-5, true).defined());
  observing.disable_fake_quant();
  BOOST_TEST(!observing.forward_standardized(w, 1e-5, true).defined());
}

BOOST_AUTO_TEST_CASE(bad_input_is_a_value_error) {
  BOOST_CHECK_EXCEPTION(
      weight_standardize(tensor<float>({1.0f})), ValueError,
      mentions<ValueError>("weight_standardize: the unbiased std needs at least 2"));
  BOOST_CHECK_EXCEPTION(weight_standardize(tensor<float>({1.0f, 2.0f}), -1.0), ValueError,
                        mentions<ValueError>("eps must be finite and >= 0"));
  BOOST_CHECK_EXCEPTION(weight_standardize(Tensor<float>()), ValueError,
                        mentions<ValueError>("the weight is undefined"));
  BOOST_CHECK_EXCEPTION(weight_std(zeros<double>({1})), ValueError,
                        mentions<ValueError>("weight_std"));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D x = leaf({2, 3});
  r.push_back({"weight_standardize: one element",
               raises<ValueError>("weight_standardize", {"at least 2 elements", "got 1"}),
               [] { weight_standardize(leaf({1})); }});
  r.push_back({"weight_standardize: negative eps",
               raises<ValueError>("weight_standardize", {"eps must be finite and >= 0", "got -"}),
               [x] { weight_standardize(x, -1e-5); },
               {x}});
  r.push_back({"weight_standardize: NaN eps",
               raises<ValueError>("weight_standardize", {"eps", "got nan"}),
               [x] { weight_standardize(x, kNaN); },
               {x}});
  r.push_back({"weight_standardize: undefined",
               raises<ValueError>("weight_standardize", {"weight is undefined"}),
               [u] { weight_standardize(u); }});
  r.push_back({"weight_std: one element",
               raises<ValueError>("weight_std", {"at least 2 elements", "got 1"}),
               [] { weight_std(leaf({1})); }});
  r.push_back({"rescale_by_weight_std: undefined quantized",
               raises<ValueError>("rescale_by_weight_std", {"quantized weight is undefined"}),
               [x, u] { rescale_by_weight_std(u, x); },
               {x}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_weight_norm
