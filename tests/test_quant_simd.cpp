// The SIMD variants of the float quantization kernels (xgrad/quant/kernels/simd_isa.hpp):
// every instruction set this machine supports gives the golden APoT values
// and exactly the scalar reference's outputs and gradients, for the register
// search (up to 16 or 32 levels), the gathered bucket search (more levels)
// and uniform fake quantize, on lengths with every tail and on edge values.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "isa_guard.hpp"
#include "test_util.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_quant_simd)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::equal_arrays;
using xgrad_test::IsaGuard;

namespace {

APoTQParams<float> apot_qparams(int b, int k) {
  APoTObserver<float> observer(b, k);
  observer.set_min_val(0.0f);
  observer.set_max_val(1.0f);
  return observer.calculate_qparams(false);
}

// Forward values and input gradient (the STE mask times `seed`) of one op.
struct Result {
  xt::xarray<float> out, grad;
};

template <class Op>
Result run(const std::vector<float>& x, Op op) {
  Tensor<float> t(xt::adapt(x, {x.size()}), true);
  Tensor<float> y = op(t);
  xt::xarray<float> seed = xt::xarray<float>::from_shape({x.size()});
  for (std::size_t i = 0; i < x.size(); ++i) seed(i) = 1.0f + float(i % 7);
  y.backward(seed);
  return {y.data(), t.grad().data()};
}

// Random values over [lo, hi) plus the values where decisions flip: each
// midpoint between neighbouring levels and its float neighbours, the levels
// themselves, NaN, infinities, signed zeros and out-of-range values.
std::vector<float> probe_inputs(const std::vector<float>& levels, std::size_t n, float lo,
                                float hi) {
  std::vector<float> v;
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t r = 0; r + 1 < levels.size(); ++r) {
    const float mid = levels[r] + (levels[r + 1] - levels[r]) / 2;
    for (float m : {mid, std::nextafter(mid, -inf), std::nextafter(mid, inf), levels[r]})
      v.push_back(m);
  }
  for (float e : {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 0.0f, -0.0f, -1e30f, 1e30f})
    v.push_back(e);
  Generator gen(7);
  const xt::xarray<float> r = rand<float>({n}, gen, lo, hi).data();
  v.insert(v.end(), r.begin(), r.end());
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(scalar_is_always_supported_and_the_widest_is_chosen) {
  const std::vector<SimdIsa> isas = supported_simd_isas();
  BOOST_REQUIRE(!isas.empty());
  BOOST_TEST((isas.front() == SimdIsa::scalar));
  BOOST_TEST((simd_isa() == isas.back()), "chosen: " << to_string(simd_isa()));
}

BOOST_AUTO_TEST_CASE(set_simd_isa_accepts_exactly_the_supported_sets) {
  IsaGuard guard;
  const std::vector<SimdIsa> isas = supported_simd_isas();
  for (SimdIsa isa : {SimdIsa::scalar, SimdIsa::avx2, SimdIsa::avx512}) {
    BOOST_TEST_CONTEXT(to_string(isa)) {
      if (std::find(isas.begin(), isas.end(), isa) != isas.end()) {
        set_simd_isa(isa);
        BOOST_TEST((simd_isa() == isa));
      } else {
        BOOST_CHECK_EXCEPTION(set_simd_isa(isa), ValueError,
                              xgrad_test::mentions<ValueError>("not supported"));
      }
    }
  }
}

// Every golden case, tiled past the size where the table search (and so the
// SIMD kernel) is used, through every supported instruction set.
BOOST_AUTO_TEST_CASE(every_instruction_set_gives_the_golden_values) {
  IsaGuard guard;
  std::ifstream in("data/apot_pytorch.json");
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot open data/apot_pytorch.json (run from tests/)");
  const nlohmann::json golden = nlohmann::json::parse(in);
  for (SimdIsa isa : supported_simd_isas()) {
    set_simd_isa(isa);
    for (const auto& c : golden["cases"]) {
      if (!c.contains("quantize") || c["signed"].get<bool>()) continue;
      BOOST_TEST_CONTEXT(to_string(isa) << " b=" << c["b"] << " k=" << c["k"]) {
        const auto q = apot_qparams(c["b"].get<int>(), c["k"].get<int>());
        std::vector<float> x, value;
        for (const auto& e : c["quantize"]["x"]) x.push_back(float(e.get<double>()));
        for (const auto& e : c["quantize"]["value"]) value.push_back(float(e.get<double>()));
        std::vector<float> big;
        while (big.size() < 64 * q.quantization_levels.numel() + 1024 + 5)
          big.insert(big.end(), x.begin(), x.end());
        const Tensor<float> out = quant_dequant(Tensor<float>(xt::adapt(big, {big.size()})), q);
        std::size_t bad = 0;
        for (std::size_t i = 0; i < big.size(); ++i) bad += out.data()(i) != value[i % x.size()];
        BOOST_TEST(bad == 0u);
      }
    }
  }
}

// 2, 4 and 5 bits: register search on AVX2 and AVX-512 (up to 16 and 32
// levels); 6 and 8 bits: the gathered bucket search.
BOOST_AUTO_TEST_CASE(apot_fake_quantize_matches_scalar_on_every_instruction_set) {
  IsaGuard guard;
  for (int b : {2, 4, 5, 6, 8}) {
    const auto q = apot_qparams(b, b == 5 ? 1 : 2);
    const xt::xarray<float>& lv = q.quantization_levels.data();
    const std::vector<float> levels(lv.begin(), lv.end());
    for (std::size_t extra : {0u, 1u, 7u, 15u, 17u}) {
      const std::vector<float> x = probe_inputs(levels, 20000 + extra, -0.3f, 1.3f);
      const auto op = [&](const Tensor<float>& t) { return fake_quantize_APoT(t, q); };
      set_simd_isa(SimdIsa::scalar);
      const Result ref = run(x, op);
      for (SimdIsa isa : supported_simd_isas()) {
        BOOST_TEST_CONTEXT(to_string(isa) << " b=" << b << " n=" << x.size()) {
          set_simd_isa(isa);
          const Result got = run(x, op);
          BOOST_TEST(equal_arrays(got.out, ref.out));
          BOOST_TEST(equal_arrays(got.grad, ref.grad));
        }
      }
    }
  }
}

// Exact values where nearbyint's ties-to-even matters (scale 0.25,
// zero_point 2): 0.125 -> q = 2 + 0 -> 0; 0.375 -> q = 2 + 2 -> 0.5;
// -0.625 -> q = 2 - 2 -> -0.5; 5 -> q = 22 clipped to 15 -> 3.25 (gradient 0);
// NaN stays NaN with gradient 0.
BOOST_AUTO_TEST_CASE(uniform_fake_quantize_gives_exact_values_on_every_instruction_set) {
  IsaGuard guard;
  std::vector<float> x = {0.125f, 0.375f, -0.625f, 5.0f, std::nanf("")};
  x.resize(40, 0.25f);  // a full vector and a tail on every path
  for (SimdIsa isa : supported_simd_isas()) {
    BOOST_TEST_CONTEXT(to_string(isa)) {
      set_simd_isa(isa);
      const Result r = run(x, [](const Tensor<float>& t) {
        return fake_quantize_per_tensor_affine(t, 0.25, 2, 0, 15);
      });
      BOOST_TEST(r.out(0) == 0.0f);
      BOOST_TEST(r.out(1) == 0.5f);
      BOOST_TEST(r.out(2) == -0.5f);
      BOOST_TEST(r.out(3) == 3.25f);
      BOOST_TEST(std::isnan(r.out(4)));
      BOOST_TEST(r.out(39) == 0.25f);
      BOOST_TEST(r.grad(0) == 1.0f);
      BOOST_TEST(r.grad(3) == 0.0f);
      BOOST_TEST(r.grad(4) == 0.0f);
      BOOST_TEST(r.grad(39) == 1.0f + float(39 % 7));
    }
  }
}

BOOST_AUTO_TEST_CASE(uniform_fake_quantize_matches_scalar_on_every_instruction_set) {
  IsaGuard guard;
  struct Params {
    double scale;
    std::int64_t zero_point, quant_min, quant_max;
  };
  for (const Params p : {Params{1.0 / 15, 0, 0, 15}, Params{0.02, 128, 0, 255},
                         Params{0.1, 0, -128, 127}, Params{0.3, -3, -8, 7}}) {
    std::vector<float> levels;  // the grid's half-steps are the ties
    for (std::int64_t k = p.quant_min; k <= p.quant_max; ++k)
      levels.push_back(float((k - p.zero_point) * p.scale));
    for (std::size_t extra : {0u, 3u, 9u}) {
      const std::vector<float> x =
          probe_inputs(levels, 70000 + extra, levels.front() - 1, levels.back() + 1);
      const auto op = [&](const Tensor<float>& t) {
        return fake_quantize_per_tensor_affine(t, p.scale, p.zero_point, p.quant_min, p.quant_max);
      };
      set_simd_isa(SimdIsa::scalar);
      const Result ref = run(x, op);
      for (SimdIsa isa : supported_simd_isas()) {
        BOOST_TEST_CONTEXT(to_string(isa) << " scale=" << p.scale << " n=" << x.size()) {
          set_simd_isa(isa);
          const Result got = run(x, op);
          BOOST_TEST(equal_arrays(got.out, ref.out));
          BOOST_TEST(equal_arrays(got.grad, ref.grad));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_quant_simd
