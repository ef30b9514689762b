// Every case of tests/data/apot_pytorch.json (values produced by PyTorch's own
// APoT code in float32, with the out-of-range inputs following our corrected
// clipping rule) must be reproduced exactly by the float path.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "../modules/src/quant/kernels/apot_reference.hpp"  // white-box: both searches directly
#include "test_util.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"

BOOST_AUTO_TEST_SUITE(test_apot_golden)

using namespace xgrad;
using namespace xgrad::quant;
using json = nlohmann::json;

namespace {

const json& golden() {
  static const json data = [] {
    std::ifstream in("data/apot_pytorch.json");
    BOOST_REQUIRE_MESSAGE(in.good(), "cannot open data/apot_pytorch.json (run from tests/)");
    return json::parse(in);
  }();
  return data;
}

std::string case_name(const json& c) {
  return "b=" + std::to_string(c["b"].get<int>()) + " k=" + std::to_string(c["k"].get<int>()) +
         (c["signed"].get<bool>() ? " signed" : " unsigned");
}

template <class T>
APoTQParams<T> qparams_of(const json& c) {
  APoTObserver<T> obs(c["b"].get<int>(), c["k"].get<int>());
  obs.set_min_val(static_cast<T>(c["min_val"].get<double>()));
  obs.set_max_val(static_cast<T>(c["max_val"].get<double>()));
  return obs.calculate_qparams(c["signed"].get<bool>());
}

// The JSON decimals are float32 values written in full: parsing them as double
// and rounding to float is exact.
std::vector<float> floats(const json& a) {
  std::vector<float> v;
  for (const auto& e : a) v.push_back(static_cast<float>(e.get<double>()));
  return v;
}

// The "quantize" list of a case: inputs with PyTorch's index and value.
struct QuantizeCase {
  std::vector<float> x;
  std::vector<std::int64_t> index;
  std::vector<float> value;
};

QuantizeCase quantize_case(const json& c) {
  const json& q = c["quantize"];
  return {floats(q["x"]), q["index"].get<std::vector<std::int64_t>>(), floats(q["value"])};
}

}  // namespace

BOOST_AUTO_TEST_CASE(golden_file_has_all_kinds_of_cases) {
  const json& cases = golden()["cases"];
  BOOST_TEST(cases.size() == 10u);
  int signed_cases = 0, with_quantize = 0;
  for (const auto& c : cases) {
    signed_cases += c["signed"].get<bool>();
    with_quantize += c.contains("quantize");
  }
  BOOST_TEST(signed_cases == 2);
  BOOST_TEST(with_quantize == 8);
}

BOOST_AUTO_TEST_CASE(alpha_gamma_and_levels_match_pytorch_exactly) {
  for (const auto& c : golden()["cases"]) {
    BOOST_TEST_CONTEXT(case_name(c)) {
      const auto [alpha, gamma, levels, indices] = qparams_of<float>(c);
      BOOST_TEST(alpha == static_cast<float>(c["alpha"].get<double>()));
      BOOST_TEST(gamma == static_cast<float>(c["gamma"].get<double>()));
      const std::vector<float> expected = floats(c["levels"]);
      BOOST_REQUIRE(levels.numel() == expected.size());
      // Signed sets are compared by value: both lists are sorted ascending.
      for (std::size_t i = 0; i < expected.size(); ++i)
        BOOST_TEST(levels.data()(i) == expected[i], "level " << i);
      if (c.contains("level_indices")) {
        const auto expected_idx = c["level_indices"].get<std::vector<std::int64_t>>();
        BOOST_REQUIRE(indices.size() == expected_idx.size());
        for (std::size_t i = 0; i < expected_idx.size(); ++i)
          BOOST_TEST(indices(i) == expected_idx[i], "index " << i);
      } else {
        // Only signed sets (duplicate levels, unstable upstream order) omit them.
        BOOST_TEST(c["signed"].get<bool>());
        BOOST_TEST(indices.size() == expected.size());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(quantize_indices_and_values_match_pytorch_exactly) {
  int checked = 0;
  for (const auto& c : golden()["cases"]) {
    if (!c.contains("quantize")) continue;
    BOOST_TEST_CONTEXT(case_name(c)) {
      const APoTQParams<float> q = qparams_of<float>(c);
      const auto [x, index, value] = quantize_case(c);
      xt::xarray<float> xa = xt::adapt(x, {x.size()});
      const Tensor<float> xt_(xa);
      const TensorAPoT<float> t = quantize_APoT(xt_, q);
      const Tensor<float> back = dequantize_APoT(t);
      const Tensor<float> direct = quant_dequant(xt_, q);
      for (std::size_t i = 0; i < x.size(); ++i) {
        BOOST_TEST(t.int_repr()(i) == index[i], "x[" << i << "] = " << x[i]);
        BOOST_TEST(back.data()(i) == value[i], "x[" << i << "] = " << x[i]);
        BOOST_TEST(direct.data()(i) == value[i], "x[" << i << "] = " << x[i]);
        ++checked;
      }
    }
  }
  BOOST_TEST(checked == 104 + 296 + 1064 + 104 + 296 + 56 + 72 + 56);
}

// Large inputs take the bucketed threshold search instead of the per-element
// binary search (src/quant/kernels/apot.cpp); both must give the golden answers. The
// golden inputs are tiled 64 times past the size where the table kicks in.
BOOST_AUTO_TEST_CASE(large_inputs_match_pytorch_exactly) {
  for (const auto& c : golden()["cases"]) {
    if (!c.contains("quantize")) continue;
    BOOST_TEST_CONTEXT(case_name(c)) {
      const APoTQParams<float> q = qparams_of<float>(c);
      const auto [x, index, value] = quantize_case(c);
      const std::size_t reps = (64 * q.quantization_levels.numel() + 1024) / x.size() + 2;
      std::vector<float> big;
      for (std::size_t r = 0; r < reps; ++r) big.insert(big.end(), x.begin(), x.end());
      const Tensor<float> xt_(xt::adapt(big, {big.size()}));
      const TensorAPoT<float> t = quantize_APoT(xt_, q);
      const Tensor<float> direct = quant_dequant(xt_, q);
      std::size_t bad = 0;
      for (std::size_t i = 0; i < big.size(); ++i) {
        const std::size_t j = i % x.size();
        if (t.int_repr()(i) != index[j] || direct.data()(i) != value[j]) ++bad;
      }
      BOOST_TEST(bad == 0u);
    }
  }
}

// The two searches behind quantize_APoT, called directly on the same golden
// inputs: the bucketed threshold table (required to be usable for every golden
// level set, so this cannot silently test the fallback twice) and the binary
// search must both give PyTorch's index.
BOOST_AUTO_TEST_CASE(threshold_table_and_binary_search_agree_on_golden_inputs) {
  namespace qd = xgrad::quant::detail;
  for (const auto& c : golden()["cases"]) {
    if (!c.contains("quantize")) continue;
    BOOST_TEST_CONTEXT(case_name(c)) {
      const APoTQParams<float> q = qparams_of<float>(c);
      const xt::xarray<float>& lv = q.quantization_levels.data();
      const std::size_t L = lv.size();
      std::vector<float> padded(lv.begin(), lv.end());
      padded.push_back(std::numeric_limits<float>::infinity());
      const qd::NearestTable<float> table(lv.data(), L);
      BOOST_REQUIRE(table.usable());
      BOOST_REQUIRE(table.m() == 1);
      const auto [x, index, value] = quantize_case(c);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float clipped = qd::clip_nan_lo(x[i], lv(0), lv(L - 1));
        const std::size_t by_table = table.first_rank()[table.unique_rank<1>(clipped)];
        const std::size_t by_search = qd::nearest_rank(clipped, padded.data(), L);
        BOOST_TEST(q.level_indices(by_table) == index[i], "x[" << i << "] = " << x[i]);
        BOOST_TEST(q.level_indices(by_search) == index[i], "x[" << i << "] = " << x[i]);
      }
    }
  }
}

// For Tensor<double> the distances are computed in double, so only inputs away
// from a midpoint between neighbouring levels must agree with PyTorch's float32
// decision. "Away" = farther than 8 float32 ulps of the larger neighbour.
BOOST_AUTO_TEST_CASE(double_path_agrees_away_from_midpoints) {
  int compared = 0, skipped = 0;
  for (const auto& c : golden()["cases"]) {
    if (!c.contains("quantize")) continue;
    BOOST_TEST_CONTEXT(case_name(c)) {
      const APoTQParams<double> q = qparams_of<double>(c);
      const APoTQParams<float> qf = qparams_of<float>(c);
      // Same float32 level values, stored as double.
      for (std::size_t i = 0; i < qf.quantization_levels.numel(); ++i)
        BOOST_TEST(q.quantization_levels.data()(i) ==
                   static_cast<double>(qf.quantization_levels.data()(i)));
      const auto [x, index, value] = quantize_case(c);
      std::vector<double> xd(x.begin(), x.end());
      const TensorAPoT<double> t = quantize_APoT(Tensor<double>(xt::adapt(xd, {xd.size()})), q);
      const xt::xarray<double>& lv = q.quantization_levels.data();
      for (std::size_t i = 0; i < x.size(); ++i) {
        bool near_mid = false;
        for (std::size_t r = 0; r + 1 < lv.size(); ++r) {
          const double mid = 0.5 * (lv(r) + lv(r + 1));
          const double ulp = std::nextafter(static_cast<float>(lv(r + 1)), 2.0f) - lv(r + 1);
          if (std::abs(xd[i] - mid) <= 8 * ulp) near_mid = true;
        }
        if (near_mid) {
          ++skipped;
          continue;
        }
        BOOST_TEST(t.int_repr()(i) == index[i], "x[" << i << "] = " << x[i]);
        ++compared;
      }
    }
  }
  // The file probes every midpoint, so both sets are non-trivial.
  BOOST_TEST(compared > 700);
  BOOST_TEST(skipped > 100);
}

BOOST_AUTO_TEST_SUITE_END()  // test_apot_golden
