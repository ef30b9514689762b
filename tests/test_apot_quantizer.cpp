// quantize_APoT / dequantize_APoT / quant_dequant / TensorAPoT: PyTorch's
// upstream quantizer tests (test_quantizer.py, test_quantized_tensor.py), the
// nearest-level rule against a brute-force scan of PyTorch's rule, and our
// documented differences (clipping, NaN, empty inputs, bad codes).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "apot_qparams.hpp"
#include "test_util.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_apot_quantizer)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::apot_qparams;
using xgrad_test::equal_arrays;

namespace {

template <class T>
APoTQParams<T> observe(const Tensor<T>& x, int b, int k, bool signed_ = false) {
  APoTObserver<T> obs(b, k);
  obs.forward(x);
  return obs.calculate_qparams(signed_);
}

// PyTorch's float_to_apot, with our clipping beyond +-alpha: scan the sorted
// levels, distance |level - x| in T, strict < so the lowest level wins ties.
template <class T>
std::int64_t reference_rank(T x, const xt::xarray<T>& lv, T alpha) {
  if (x > alpha) return static_cast<std::int64_t>(lv.size()) - 1;
  if (x < -alpha) return 0;
  T best = std::numeric_limits<T>::infinity();
  std::int64_t r = 0;
  for (std::size_t i = 0; i < lv.size(); ++i) {
    const T d = std::abs(static_cast<T>(lv(i) - x));
    if (d < best) {
      best = d;
      r = static_cast<std::int64_t>(i);
    }
  }
  return r;
}

// Random values in [-1.2 alpha, 1.2 alpha], +-inf, every level, every midpoint
// and the floats just around each midpoint.
template <class T>
std::vector<T> probe_points(const xt::xarray<T>& lv, T alpha, Generator& gen) {
  std::vector<T> xs;
  const Tensor<T> r = rand<T>({2000}, gen, T(-1.2) * alpha, T(1.2) * alpha);
  xs.assign(r.data().begin(), r.data().end());
  xs.insert(xs.end(), {std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity()});
  for (std::size_t i = 0; i + 1 < lv.size(); ++i) {
    const T mid = (lv(i) + lv(i + 1)) / 2;
    const T inf = std::numeric_limits<T>::infinity();
    xs.insert(xs.end(), {lv(i), mid, std::nextafter(mid, inf), std::nextafter(mid, -inf),
                         std::nextafter(std::nextafter(mid, inf), inf)});
  }
  return xs;
}

}  // namespace

// ---- upstream test_quantizer.py: test_quantize_APoT_rand_k1 ----
// k = 1 is a uniform grid: the APoT codes equal PyTorch's uniform quint8 codes
// under a MinMaxObserver: min = min(x, 0) = 0, scale = (max - min) / 255,
// zero_point = 0, code = clamp(round(x / scale) + zero_point, 0, 255).
BOOST_AUTO_TEST_CASE(k1_codes_equal_uniform_quint8_codes) {
  Generator gen(1234);
  const Tensor<float> x = rand<float>({100}, gen, 0.0f, 1000.0f);
  const APoTQParams<float> q = observe(x, 8, 1);
  const TensorAPoT<float> t =
      quantize_APoT(x, q.alpha, q.gamma, q.quantization_levels, q.level_indices);
  float max_val = 0.0f;
  for (float v : x.data()) max_val = std::max(max_val, v);
  const float scale = (max_val - 0.0f) / 255.0f;
  for (std::size_t i = 0; i < 100; ++i) {
    const float code = std::min(255.0f, std::max(0.0f, std::nearbyint(x.data()(i) / scale) + 0.0f));
    BOOST_TEST(t.int_repr()(i) == static_cast<std::int64_t>(code), "x = " << x.data()(i));
  }
}

// ---- upstream: test_quantize_APoT_k2, test_int_repr (test_quantized_tensor.py) ----
BOOST_AUTO_TEST_CASE(known_codes_b4_k2_and_int_repr) {
  const Tensor<float> x = tensor<float>({0.0f, 0.0215f, 0.1692f, 0.385f, 1.0f, 0.0391f});
  const APoTQParams<float> q = observe(x, 4, 2);
  const TensorAPoT<float> t =
      quantize_APoT(x, q.alpha, q.gamma, q.quantization_levels, q.level_indices);
  const xt::xarray<std::int64_t> expected = {0, 3, 8, 13, 5, 12};
  BOOST_TEST(equal_arrays(t.int_repr(), expected));
}

// ---- upstream: test_dequantize_quantize_rand_b4 / _b6 ----
BOOST_AUTO_TEST_CASE(quantize_dequantize_quantize_reproduces_codes) {
  Generator gen(7);
  for (auto [b, k] : std::vector<std::pair<int, int>>{{4, 2}, {12, 4}}) {
    for (std::size_t size : {1u, 7u, 20u}) {
      const Tensor<float> x = rand<float>({size}, gen, 0.0f, 1000.0f);
      const APoTQParams<float> q = observe(x, b, k);
      const TensorAPoT<float> original = quantize_APoT(x, q);
      const Tensor<float> deq = dequantize_APoT(original);
      const TensorAPoT<float> again = quantize_APoT(deq, q);
      BOOST_TEST(equal_arrays(again.int_repr(), original.int_repr()), "b=" << b << " k=" << k);
    }
  }
}

// ---- upstream: test_dequantize_dim ----
BOOST_AUTO_TEST_CASE(dequantize_preserves_dimensions) {
  Generator gen(3);
  const Shape shape{3, 5, 2};
  const Tensor<float> x = rand<float>(shape, gen, 0.0f, 1000.0f);
  const APoTQParams<float> q = observe(x, 4, 2);
  const TensorAPoT<float> t = quantize_APoT(x, q);
  BOOST_TEST((t.int_repr().shape() == shape));
  BOOST_TEST((dequantize_APoT(t).shape() == shape));
  BOOST_TEST((quant_dequant(x, q).shape() == shape));
}

// Probe points of a level set checked against PyTorch's scan twice: as they
// are (few elements: the per-element binary search) and tiled past the size
// where the bucketed threshold table takes over (see src/quant/kernels/apot.cpp), both
// through quant_dequant (values) and quantize_APoT (codes).
template <class T>
void check_both_searches_against_scan(const APoTQParams<T>& q, Generator& gen) {
  const xt::xarray<T>& lv = q.quantization_levels.data();
  const std::vector<T> probes = probe_points(lv, q.alpha, gen);
  std::vector<T> tiled = probes;
  while (tiled.size() < 64 * lv.size() + 1024) tiled.push_back(tiled[tiled.size() % probes.size()]);
  const std::vector<T>* runs[] = {&probes, &tiled};
  for (const std::vector<T>* xs : runs) {
    const Tensor<T> x(xt::adapt(*xs, {xs->size()}));
    const xt::xarray<T> out = quant_dequant(x, q).data();
    const TensorAPoT<T> t = quantize_APoT(x, q);
    for (std::size_t i = 0; i < xs->size(); ++i) {
      const std::int64_t r = reference_rank((*xs)[i], lv, q.alpha);
      BOOST_TEST(out(i) == lv(r), "x = " << (*xs)[i] << ", " << xs->size() << " elements");
      BOOST_TEST(t.int_repr()(i) == q.level_indices(r),
                 "x = " << (*xs)[i] << ", " << xs->size() << " elements");
    }
  }
}

BOOST_AUTO_TEST_CASE(nearest_level_equals_pytorch_scan_float_and_double) {
  Generator gen(11);
  struct Cfg {
    int b, k;
    LevelScheme scheme;
  };
  for (const Cfg c :
       {Cfg{2, 1, LevelScheme::unsigned_levels}, Cfg{4, 2, LevelScheme::unsigned_levels},
        Cfg{8, 2, LevelScheme::unsigned_levels}, Cfg{8, 4, LevelScheme::unsigned_levels},
        Cfg{6, 3, LevelScheme::unsigned_levels}, Cfg{4, 2, LevelScheme::signed_per_term},
        Cfg{6, 2, LevelScheme::signed_per_term}, Cfg{4, 2, LevelScheme::sign_magnitude},
        Cfg{6, 2, LevelScheme::sign_magnitude}}) {
    BOOST_TEST_CONTEXT("b=" << c.b << " k=" << c.k << " " << to_string(c.scheme)) {
      check_both_searches_against_scan(apot_qparams(-0.7f, 0.9f, c.b, c.k, c.scheme), gen);
      check_both_searches_against_scan(apot_qparams(-0.7, 0.9, c.b, c.k, c.scheme), gen);
    }
  }
}

BOOST_AUTO_TEST_CASE(out_of_range_and_infinities_clip_to_end_levels) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor<float> x = tensor<float>({1.5f, 1000.0f, -1.5f, inf, -inf});
  APoTObserver<float> obs(4, 2);
  obs.set_min_val(-1.0f);
  obs.set_max_val(1.0f);
  const auto qu = obs.calculate_qparams(false);
  BOOST_TEST(equal_arrays(quant_dequant(x, qu).data(), xt::xarray<float>{1, 1, 0, 1, 0}));
  BOOST_TEST(
      equal_arrays(quantize_APoT(x, qu).int_repr(), xt::xarray<std::int64_t>{5, 5, 0, 5, 0}));
  const auto qs = obs.calculate_qparams(true);
  BOOST_TEST(equal_arrays(quant_dequant(x, qs).data(), xt::xarray<float>{1, 1, -1, 1, -1}));
  const auto qm = obs.calculate_qparams(LevelScheme::sign_magnitude);
  BOOST_TEST(equal_arrays(quant_dequant(x, qm).data(), xt::xarray<float>{1, 1, -1, 1, -1}));
}

BOOST_AUTO_TEST_CASE(nan_is_an_error_for_codes_and_propagates_in_quant_dequant) {
  const float nan = std::nanf("");
  const Tensor<float> x = tensor<float>({0.5f, 0.25f, nan, nan});
  const APoTQParams<float> q = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  BOOST_CHECK_THROW(quantize_APoT(x, q), ValueError);
  try {
    quantize_APoT(x, q);
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("position 2") != std::string::npos, e.what());
  }
  const xt::xarray<float> y = quant_dequant(x, q).data();
  BOOST_TEST(y(0) == 0.5f);
  BOOST_TEST(y(1) == 0.25f);
  BOOST_TEST(std::isnan(y(2)));
  BOOST_TEST(std::isnan(y(3)));
}

BOOST_AUTO_TEST_CASE(inputs_are_never_modified_and_types_are_preserved) {
  const Tensor<double> x = tensor<double>({0.3, -2.0, 0.77, 5.0});
  const xt::xarray<double> before = x.data();
  const std::uint64_t version = x.version();
  const APoTQParams<double> q = observe(x, 4, 2);
  const TensorAPoT<double> t = quantize_APoT(x, q);
  const auto y = dequantize_APoT(t);
  const auto z = quant_dequant(x, q);
  static_assert(std::is_same<decltype(y), const Tensor<double>>::value, "dequantize keeps double");
  static_assert(std::is_same<decltype(z), const Tensor<double>>::value,
                "quant_dequant keeps double");
  BOOST_TEST(equal_arrays(x.data(), before));
  BOOST_TEST(x.version() == version);
  BOOST_TEST(equal_arrays(y.data(), z.data()));
}

// Documented choice: empty inputs give empty results of the same shape.
BOOST_AUTO_TEST_CASE(empty_inputs_give_empty_results) {
  const APoTQParams<float> q = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  const Tensor<float> e(xt::xarray<float>::from_shape({0, 3}));
  const TensorAPoT<float> t = quantize_APoT(e, q);
  BOOST_TEST((t.int_repr().shape() == Shape{0, 3}));
  BOOST_TEST((dequantize_APoT(t).shape() == Shape{0, 3}));
  BOOST_TEST((quant_dequant(e, q).shape() == Shape{0, 3}));
}

BOOST_AUTO_TEST_CASE(codes_outside_the_level_set_raise_value_error) {
  const APoTQParams<float> q = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  BOOST_CHECK_NO_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{0, 15, 7}, q));
  BOOST_CHECK_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{0, 16}, q), ValueError);
  BOOST_CHECK_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{-1}, q), ValueError);
  try {
    TensorAPoT<float>(xt::xarray<std::int64_t>{3, 99}, q);
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("code 99 at flat position 1") != std::string::npos,
               e.what());
  }
  // Signed per-term sets: 49 indices 0..48.
  const APoTQParams<float> qs = observe(tensor<float>({-1.0f, 1.0f}), 4, 2, true);
  BOOST_CHECK_NO_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{48}, qs));
  BOOST_CHECK_THROW(TensorAPoT<float>(xt::xarray<std::int64_t>{49}, qs), ValueError);
}

BOOST_AUTO_TEST_CASE(bad_qparams_raise_value_error) {
  const APoTQParams<float> good = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  const Tensor<float> x = tensor<float>({0.5f});
  auto with = [&](auto change) {
    APoTQParams<float> q = good;
    q.quantization_levels = Tensor<float>(good.quantization_levels.data());
    change(q);
    return q;
  };
  const std::vector<APoTQParams<float>> bad = {
      with([](auto& q) { q.alpha = std::nanf(""); }),
      with([](auto& q) { q.alpha = -1.0f; }),
      with([](auto& q) { q.gamma = std::nanf(""); }),
      with([](auto& q) {
        q.quantization_levels = Tensor<float>(xt::xarray<float>::from_shape({0}));
      }),
      with([](auto& q) { q.quantization_levels.mutable_data()(3) = 2.0f; }),  // unsorted
      with([](auto& q) { q.quantization_levels.mutable_data()(15) = std::nanf(""); }),
      with([](auto& q) {
        q.level_indices = xt::xarray<std::int64_t>{0, 1};
      }),
      with([](auto& q) { q.level_indices(1) = 0; }),  // duplicate code
      with([](auto& q) { q.level_indices(1) = -3; }),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    BOOST_CHECK_THROW(quantize_APoT(x, bad[i]), ValueError);
    BOOST_CHECK_THROW(quant_dequant(x, bad[i]), ValueError);
    BOOST_CHECK_THROW(fake_quantize_APoT(x, bad[i]), ValueError);
  }
}

BOOST_AUTO_TEST_CASE(undefined_input_raises_value_error) {
  const APoTQParams<float> q = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  BOOST_CHECK_THROW(quantize_APoT(Tensor<float>(), q), ValueError);
  BOOST_CHECK_THROW(quant_dequant(Tensor<float>(), q), ValueError);
  BOOST_TEST(
      xgrad_test::contains(xgrad_test::message_of([&] { quant_dequant(Tensor<float>(), q); }),
                           "quant_dequant: x is undefined"));
}

BOOST_AUTO_TEST_CASE(zero_dim_inputs_keep_their_shape) {
  const APoTQParams<float> q = observe(tensor<float>({0.0f, 1.0f}), 4, 2);
  const Tensor<float> x = scalar<float>(0.3f);
  const TensorAPoT<float> t = quantize_APoT(x, q);
  BOOST_TEST(t.int_repr().dimension() == 0u);
  BOOST_TEST(t.int_repr()() == 1);  // 1/3 (code 0b0001) is nearest to 0.3
  BOOST_TEST(dequantize_APoT(t).dim() == 0u);
  BOOST_TEST(quant_dequant(x, q).item() == q.quantization_levels.data()(9));
  BOOST_TEST(dequantize_APoT(t).item() == quant_dequant(x, q).item());
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D x = leaf({4});
  const APoTQParams<double> good = apot_qparams(-1.0, 2.0, 4, 2);
  r.push_back({"quantize_APoT: NaN input",
               raises<ValueError>("quantize_APoT", {"x is NaN", "flat position 1"}), [good] {
                 quantize_APoT(tensor<double>({0.0, kNaN}), good);
               }});
  r.push_back({"quantize_APoT: undefined input",
               raises<ValueError>("quantize_APoT", {"x is undefined"}),
               [good, u] { quantize_APoT(u, good); }});
  r.push_back({"quantize_APoT: NaN alpha",
               raises<ValueError>("quantize_APoT", {"alpha", "got nan"}),
               [good, x] {
                 quantize_APoT<double>(x, kNaN, good.gamma, good.quantization_levels,
                                       good.level_indices);
               },
               {x}});
  r.push_back({"quantize_APoT: infinite gamma",
               raises<ValueError>("quantize_APoT", {"gamma", "got inf"}),
               [good, x] {
                 quantize_APoT<double>(x, good.alpha, kInf, good.quantization_levels,
                                       good.level_indices);
               },
               {x}});
  r.push_back(
      {"quantize_APoT: unsorted levels",
       raises<ValueError>("quantize_APoT", {"quantization_levels must be sorted", "element 1"}),
       [good, x] {
         quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({1.0, 0.0}),
                               xt::xarray<std::int64_t>({0, 1}));
       },
       {x}});
  r.push_back({"quantize_APoT: empty levels",
               raises<ValueError>("quantize_APoT", {"quantization_levels", "got shape [0]"}),
               [good, x] {
                 quantize_APoT<double>(x, good.alpha, good.gamma, zeros<double>({0}),
                                       xt::xarray<std::int64_t>::from_shape({0}));
               },
               {x}});
  r.push_back({"quantize_APoT: indices of another length",
               raises<ValueError>("quantize_APoT", {"level_indices", "got shape [1]"}),
               [good, x] {
                 quantize_APoT<double>(x, good.alpha, good.gamma, good.quantization_levels,
                                       xt::xarray<std::int64_t>({0}));
               },
               {x}});
  r.push_back({"quantize_APoT: repeated index",
               raises<ValueError>("quantize_APoT", {"level_indices holds 1 twice"}),
               [good, x] {
                 quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({0.0, 1.0}),
                                       xt::xarray<std::int64_t>({1, 1}));
               },
               {x}});
  r.push_back({"quantize_APoT: negative index",
               raises<ValueError>("quantize_APoT", {"level_indices[0] = -1"}),
               [good, x] {
                 quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({0.0, 1.0}),
                                       xt::xarray<std::int64_t>({-1, 1}));
               },
               {x}});
  r.push_back({"TensorAPoT: code not a level index",
               raises<ValueError>("TensorAPoT", {"code 99", "flat position 0"}),
               [good] { TensorAPoT<double>(xt::xarray<std::int64_t>({99}), good); }});
  r.push_back({"quant_dequant: NaN alpha",
               raises<ValueError>("quant_dequant", {"alpha", "got nan"}),
               [good, x] {
                 quant_dequant<double>(x, kNaN, good.gamma, good.quantization_levels,
                                       good.level_indices);
               },
               {x}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_apot_quantizer
