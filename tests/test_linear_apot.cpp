// LinearAPoT (docs/quantization.md): the float path equals a float linear
// with the dequantized weight; the shift-and-add integer path reproduces it bit
// for bit where the float path is exact; the caller's weight is untouched; the
// state travels with the state dict; every bad input is rejected.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <xtensor/xview.hpp>

#include "test_util.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_linear_apot)

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;

using xgrad_test::mentions;

namespace {

struct Config {
  int b, k;
  LevelScheme scheme;
};
// As PyTorch's upstream test_linear.py: b = 8 with k = 1 and k = 2, for both
// weight schemes.
const Config configs[] = {
    {8, 1, LevelScheme::unsigned_levels},
    {8, 2, LevelScheme::unsigned_levels},
    {8, 1, LevelScheme::sign_magnitude},
    {8, 2, LevelScheme::sign_magnitude},
};

std::string describe(const Config& c) {
  return "b=" + std::to_string(c.b) + " k=" + std::to_string(c.k) + " " + to_string(c.scheme);
}

// Sum of the code book's largest powers: a weight whose largest magnitude is
// this value gets gamma = 1, so every level is an exact sum of powers of two.
double top_sum(const Config& c) {
  return (c.scheme == LevelScheme::unsigned_levels ? apot_codebook(c.b, c.k)
                                                   : apot_sign_magnitude_codebook(c.b, c.k))
      .top_sum();
}

// Small integer activations in [-8, 8], as an integer array and as floats.
xt::xarray<std::int64_t> small_ints(std::size_t batch, std::size_t in, Generator& gen) {
  const auto r = randint<double>(-8, 9, {batch, in}, gen);
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape({batch, in});
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = std::int64_t(r.data().data()[i]);
  return out;
}

// Bit-for-bit equality (equal_arrays compares values: 0 == -0).
boost::test_tools::predicate_result same_bits(const xt::xarray<float>& a,
                                              const xt::xarray<float>& b) {
  if (a.shape() != b.shape()) return equal_arrays(a, b);  // names the shapes
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint32_t x, y;
    std::memcpy(&x, &a.data()[i], sizeof x);
    std::memcpy(&y, &b.data()[i], sizeof y);
    if (x != y) {
      boost::test_tools::predicate_result r(false);
      r.message() << "element " << i << " differs in its bits: " << a.data()[i] << " vs "
                  << b.data()[i];
      return r;
    }
  }
  return true;
}

Tensor<float> to_float(const xt::xarray<std::int64_t>& a) {
  xt::xarray<float> out = xt::xarray<float>::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = float(a.data()[i]);
  return Tensor<float>(out);
}

}  // namespace

BOOST_AUTO_TEST_CASE(forward_equals_float_linear_with_the_dequantized_weight) {
  Generator gen(7);
  for (const auto& c : configs) {
    BOOST_TEST_CONTEXT(describe(c)) {
      const auto weight = randn<float>({6, 10}, gen);
      const auto bias = randn<float>({6}, gen);
      const auto x = randn<float>({4, 10}, gen);
      LinearAPoT<float> layer(weight, c.b, c.k, bias, c.scheme);

      // The same quantization done by hand with the core's API.
      APoTObserver<float> observer(c.b, c.k);
      observer.forward(weight);
      const auto q = observer.calculate_qparams(c.scheme);
      const auto w_deq = quant_dequant(weight, q);
      BOOST_TEST(equal_arrays(layer.dequantized_weight().data(), w_deq.data()));
      BOOST_TEST(equal_arrays(layer.weight_codes(), quantize_APoT(weight, q).int_repr()));
      BOOST_TEST(equal_arrays(layer.forward_dequantized(x).data(), linear(x, w_deq, bias).data()));
      // b <= 4: the lookup-table kernel, summing in its own order.
      BOOST_TEST(xgrad_test::close_as_linear(layer(x).data(), x.data(), w_deq.data(), bias.data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(integer_path_is_bit_exact_where_the_float_path_is_exact) {
  Generator gen(11);
  for (const auto& c : configs) {
    BOOST_TEST_CONTEXT(describe(c)) {
      const float top = float(top_sum(c));
      auto weight = rand<float>({7, 20}, gen, -top, top);
      weight.mutable_data()(3, 5) = top;  // alpha = top, so gamma = 1
      const auto bias =
          Tensor<float>(xt::xarray<float>({0.25f, -1.5f, 0.f, 2.f, 0.75f, -3.f, 1.f}));
      LinearAPoT<float> layer(weight, c.b, c.k, bias, c.scheme);
      BOOST_REQUIRE(layer.qparams().gamma == 1.f);
      // Levels are exact sums of at most 2^-11-spaced powers; 20 products of
      // |x| <= 8 stay well inside float32's 24 bits, so the float sum is exact.
      const auto xint = small_ints(5, 20, gen);
      BOOST_TEST(same_bits(layer.forward_integer(xint).data(), layer(to_float(xint)).data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(same_bits_tells_zero_from_negative_zero) {
  BOOST_TEST(!same_bits(xt::xarray<float>({0.f}), xt::xarray<float>({-0.f})));
  BOOST_TEST(same_bits(xt::xarray<float>({1.5f, -2.f}), xt::xarray<float>({1.5f, -2.f})));
}

BOOST_AUTO_TEST_CASE(integer_path_matches_the_float_path_up_to_rounding_in_general) {
  Generator gen(3);
  for (const auto& c : configs) {
    BOOST_TEST_CONTEXT(describe(c)) {
      const auto weight = randn<float>({5, 30}, gen);  // gamma not a power of two
      LinearAPoT<float> layer(weight, c.b, c.k, Tensor<float>(), c.scheme);
      const auto xint = small_ints(3, 30, gen);
      // Each path rounds at most ~30 float32 operations on values below
      // 30 * 8 * 4: 1e-3 is ~30 ulps of the largest possible output.
      BOOST_TEST(
          close_arrays(layer.forward_integer(xint).data(), layer(to_float(xint)).data(), 1e-3));
    }
  }
}

// b = 4, k = 2 unsigned (PyTorch's APoTObserver set): term 0 in {0, 2^0, 2^-2, 2^-4},
// term 1 in {0, 2^-1, 2^-3, 2^-5}; code = field0 << 2 | field1. E = 5.
BOOST_AUTO_TEST_CASE(unsigned_codes_decompose_into_shifted_terms) {
  const auto weight = Tensor<float>(xt::xarray<float>({{1.0f, 0.25f, 0.f}}));
  LinearAPoT<float> layer(weight, 4, 2, Tensor<float>(), LevelScheme::unsigned_levels);
  // alpha = 1, gamma = 1 / 1.5. 1.0 = gamma * (2^0 + 2^-1): fields (1, 1), code 5.
  // 0.25 * 1.5 = 0.375 = 2^-2 + 2^-3: fields (2, 2), code 10.
  BOOST_TEST(equal_arrays(layer.weight_codes(), xt::xarray<std::int64_t>({{5, 10, 0}})));
  BOOST_TEST(layer.accumulator_shift() == 5);
  // x * (2^0 + 2^-1) * 2^5 = (x << 5) + (x << 4); x * (2^-2 + 2^-3) * 2^5 = (x << 3) + (x << 2).
  const xt::xarray<std::int64_t> xint = {{1, 0, 9}, {0, 1, 0}, {-3, 2, 5}};
  xt::xarray<std::int64_t> expected = {48, 12, -3 * 48 + 2 * 12};
  expected.reshape({3, 1});
  BOOST_TEST(equal_arrays(layer.integer_accumulators(xint), expected));
  // gamma * acc / 2^5: 48 -> 1.0, 12 -> 0.25, -120 -> -2.5.
  xt::xarray<float> values = {1.0f, 0.25f, -2.5f};
  values.reshape({3, 1});
  BOOST_TEST(close_arrays(layer.forward_integer(xint).data(), values, 1e-6));
}

// b = 4 sign-magnitude, k = 1: a sign bit (bit 3) plus the 3-bit magnitude
// {2^0, 2^-1, 2^-2} code word. E = 2.
BOOST_AUTO_TEST_CASE(sign_magnitude_codes_subtract) {
  const auto weight = Tensor<float>(xt::xarray<float>({{-1.75f, 1.75f, 0.5f}}));
  LinearAPoT<float> layer(weight, 4, 1);
  BOOST_CHECK(layer.scheme() == LevelScheme::sign_magnitude);  // the default
  // alpha = 1.75 = top sum, gamma = 1: 1.75 -> 0b111, -1.75 -> 0b1111, 0.5 -> 0b010.
  BOOST_TEST(equal_arrays(layer.weight_codes(), xt::xarray<std::int64_t>({{15, 7, 2}})));
  BOOST_TEST(layer.accumulator_shift() == 2);
  const xt::xarray<std::int64_t> xint = {1, 2, 3};
  // -(4 + 2 + 1) * 1 + (4 + 2 + 1) * 2 + 2 * 3 = 13, i.e. 13 / 4 = 3.25.
  BOOST_TEST(equal_arrays(layer.integer_accumulators(xint), xt::xarray<std::int64_t>({13})));
  BOOST_TEST(equal_arrays(layer.forward_integer(xint).data(), xt::xarray<float>({3.25f})));
}

BOOST_AUTO_TEST_CASE(unsigned_scheme_sends_negative_weights_to_zero) {
  const auto weight = Tensor<float>(xt::xarray<float>({{-0.5f, 1.0f}}));
  LinearAPoT<float> layer(weight, 4, 2, Tensor<float>(), LevelScheme::unsigned_levels);
  BOOST_TEST(equal_arrays(layer.dequantized_weight().data(), xt::xarray<float>({{0.f, 1.f}})));
}

BOOST_AUTO_TEST_CASE(callers_weight_and_bias_are_untouched) {
  Generator gen(5);
  auto weight = randn<float>({4, 6}, gen).set_requires_grad(true);
  const auto bias = randn<float>({4}, gen);
  const xt::xarray<float> w_before = weight.data(), b_before = bias.data();
  const auto version = weight.version();
  LinearAPoT<float> layer(weight, 8, 2, bias);
  layer(randn<float>({2, 6}, gen).set_requires_grad(true)).backward(xt::ones<float>({2, 4}));
  BOOST_TEST(equal_arrays(weight.data(), w_before));
  BOOST_TEST(equal_arrays(bias.data(), b_before));
  BOOST_TEST(weight.version() == version);
  BOOST_TEST(!weight.grad().defined());
  BOOST_TEST(layer.parameters().empty());
}

BOOST_AUTO_TEST_CASE(gradient_flows_to_the_input) {
  Generator gen(9);
  const auto weight = randn<float>({3, 5}, gen);
  LinearAPoT<float> layer(weight, 8, 1);
  auto x = randn<float>({2, 5}, gen).set_requires_grad(true);
  layer(x).backward(xt::ones<float>({2, 3}));
  // d(sum of x W^T)/dx = ones @ W: each row of x.grad is the column sums of W.
  const xt::xarray<float> w = layer.dequantized_weight().data();
  xt::xarray<float> expected = xt::zeros<float>({2, 5});
  for (std::size_t r = 0; r < 2; ++r)
    for (std::size_t j = 0; j < 5; ++j)
      for (std::size_t o = 0; o < 3; ++o) expected(r, j) += w(o, j);
  BOOST_TEST(close_arrays(x.grad().data(), expected, 1e-6));
}

BOOST_AUTO_TEST_CASE(state_dict_round_trip_reproduces_the_layer) {
  Generator gen(13);
  LinearAPoT<float> trained(randn<float>({4, 6}, gen), 8, 2, randn<float>({4}, gen));
  LinearAPoT<float> fresh(randn<float>({4, 6}, gen), 8, 2, randn<float>({4}, gen));
  const auto dict = trained.state_dict();
  const std::vector<std::string> expected = {"weight_packed",       "alpha",         "gamma",
                                             "quantization_levels", "level_indices", "bias"};
  BOOST_TEST(xgrad_test::names_of(dict) == expected, boost::test_tools::per_element());
  fresh.load_state_dict(dict);
  const auto x = randn<float>({3, 6}, gen);
  BOOST_TEST(equal_arrays(fresh.weight_codes(), trained.weight_codes()));
  BOOST_TEST(equal_arrays(fresh(x).data(), trained(x).data()));
  const auto xint = small_ints(2, 6, gen);
  BOOST_TEST(
      equal_arrays(fresh.forward_integer(xint).data(), trained.forward_integer(xint).data()));
}

BOOST_AUTO_TEST_CASE(double_layer_works_the_same_way) {
  Generator gen(17);
  const auto weight = randn<double>({3, 4}, gen);
  LinearAPoT<double> layer(weight, 8, 2);
  const auto x = randn<double>({2, 4}, gen);
  BOOST_TEST(equal_arrays(layer(x).data(), linear(x, layer.dequantized_weight()).data()));
}

BOOST_AUTO_TEST_CASE(all_zero_weight_gives_the_bias) {
  const auto bias = Tensor<float>(xt::xarray<float>({1.f, -2.f}));
  LinearAPoT<float> layer(zeros<float>({2, 3}), 8, 2, bias);
  const xt::xarray<std::int64_t> xint = {{5, -3, 7}};
  BOOST_TEST(equal_arrays(layer.forward_integer(xint).data(), xt::xarray<float>({{1.f, -2.f}})));
  BOOST_TEST(equal_arrays(layer(to_float(xint)).data(), xt::xarray<float>({{1.f, -2.f}})));
}

BOOST_AUTO_TEST_CASE(bad_weights_and_settings_are_rejected) {
  const auto w = Tensor<float>(xt::xarray<float>({{0.5f, -1.f}}));
  BOOST_CHECK_THROW(LinearAPoT<float>(Tensor<float>(), 8, 2), ValueError);
  BOOST_CHECK_EXCEPTION(LinearAPoT<float>(Tensor<float>(xt::xarray<float>({1.f, 2.f})), 8, 2),
                        ShapeError, mentions<ShapeError>("[out, in]"));
  BOOST_CHECK_THROW(LinearAPoT<float>(zeros<float>({0, 3}), 8, 2), ShapeError);
  BOOST_CHECK_EXCEPTION(
      LinearAPoT<float>(Tensor<float>(xt::xarray<float>({{0.5f, std::nanf("")}})), 8, 2),
      ValueError, mentions<ValueError>("position 1"));
  BOOST_CHECK_THROW(LinearAPoT<float>(Tensor<float>(xt::xarray<float>({{INFINITY, 1.f}})), 8, 2),
                    ValueError);
  BOOST_CHECK_EXCEPTION(LinearAPoT<float>(w, 8, 2, Tensor<float>(xt::xarray<float>({1.f, 2.f}))),
                        ShapeError, mentions<ShapeError>("bias"));
  BOOST_CHECK_EXCEPTION(LinearAPoT<float>(w, 8, 2, Tensor<float>(), LevelScheme::signed_per_term),
                        ValueError, mentions<ValueError>("signed_per_term"));
  BOOST_CHECK_THROW(LinearAPoT<float>(w, 8, 3, Tensor<float>(), LevelScheme::unsigned_levels),
                    ValueError);                              // 3 does not divide 8
  BOOST_CHECK_THROW(LinearAPoT<float>(w, 8, 3), ValueError);  // nor the magnitude width 7
  BOOST_CHECK_THROW(LinearAPoT<float>(w, 0, 1), ValueError);
}

BOOST_AUTO_TEST_CASE(bad_float_inputs_are_rejected) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, -1.f}})), 8, 2);
  BOOST_CHECK_EXCEPTION(layer(Tensor<float>()), ValueError, mentions<ValueError>("LinearAPoT"));
  BOOST_CHECK_THROW(layer(Tensor<float>(xt::xarray<float>({{1.f, 2.f, 3.f}}))), ShapeError);
  BOOST_CHECK_THROW(layer(scalar<float>(1.f)), ShapeError);
}

BOOST_AUTO_TEST_CASE(bad_integer_inputs_are_rejected) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, -1.f}})), 8, 2);
  BOOST_CHECK_EXCEPTION(layer.forward_integer(xt::xarray<std::int64_t>({{1, 2, 3}})), ShapeError,
                        mentions<ShapeError>("[batch, 2]"));
  BOOST_CHECK_THROW(layer.forward_integer(xt::xarray<std::int64_t>::from_shape({1, 1, 2})),
                    ShapeError);
  const std::int64_t big = std::int64_t(1) << 55;
  BOOST_CHECK_EXCEPTION(layer.forward_integer(xt::xarray<std::int64_t>({big, 1})), ValueError,
                        mentions<ValueError>("overflow"));
}

// b = k = 8 unsigned: one term 2^-j, j = 0 .. 254, so E = 254: no int64
// shift can hold x << 254, and a shift by >= 64 is undefined even for 0.
BOOST_AUTO_TEST_CASE(shifts_beyond_int64_refuse_non_zero_inputs) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, 1.f}})), 8, 8, Tensor<float>(),
                          LevelScheme::unsigned_levels);
  BOOST_TEST(layer.accumulator_shift() == 254);
  BOOST_CHECK_EXCEPTION(layer.forward_integer(xt::xarray<std::int64_t>({{1, 0}})), ValueError,
                        mentions<ValueError>("overflow"));
  BOOST_CHECK_THROW(layer.integer_accumulators(xt::xarray<std::int64_t>({0, -1})), ValueError);
  // An all-zero input needs no shift: exact zeros.
  BOOST_TEST(equal_arrays(layer.integer_accumulators(xt::xarray<std::int64_t>({{0, 0}, {0, 0}})),
                          xt::xarray<std::int64_t>(xt::zeros<std::int64_t>({2, 1}))));
}

// The largest product a code can make is |x| * 2^E * top_sum (< 2): the bound
// is tight enough to accept inputs just below it.
BOOST_AUTO_TEST_CASE(inputs_just_inside_the_int64_bound_are_accepted) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{1.f, 1.f}})), 8, 1, Tensor<float>(),
                          LevelScheme::unsigned_levels);
  const int e = layer.accumulator_shift();  // 7
  // 2 inputs * |x| * 2^(E+1) < 2^62 for |x| = 2^(60 - E - 1).
  const std::int64_t x = std::int64_t(1) << (60 - e - 1);
  const auto acc = layer.integer_accumulators(xt::xarray<std::int64_t>({x, -x}));
  BOOST_TEST(acc(0) == 0);
  BOOST_CHECK_THROW(layer.integer_accumulators(xt::xarray<std::int64_t>({2 * x, x})), ValueError);
}

// Same shapes, other code book: the shift tables of k = 1 cannot run k = 2 codes.
BOOST_AUTO_TEST_CASE(state_of_a_layer_with_another_k_is_rejected) {
  Generator gen(19);
  LinearAPoT<float> k2(randn<float>({3, 4}, gen), 8, 2, Tensor<float>(),
                       LevelScheme::unsigned_levels);
  LinearAPoT<float> k1(randn<float>({3, 4}, gen), 8, 1, Tensor<float>(),
                       LevelScheme::unsigned_levels);
  // Refused at load (nothing changes), as forward would refuse it.
  const auto before = k1.weight_codes();
  BOOST_CHECK_EXCEPTION(k1.load_state_dict(k2.state_dict()), ValueError,
                        mentions<ValueError>("k=1"));
  BOOST_TEST(equal_arrays(k1.weight_codes(), before));
  BOOST_CHECK_NO_THROW(k1.forward_integer(xt::xarray<std::int64_t>({1, 2, 3, 4})));
}

BOOST_AUTO_TEST_CASE(tampered_levels_are_rejected) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, -1.f}})), 8, 2);
  auto dict = layer.state_dict();
  BOOST_REQUIRE(dict[3].first == "quantization_levels");
  dict[3].second(5) *= 1.5f;
  const auto before = layer.dequantized_weight().data();
  BOOST_CHECK_THROW(layer.load_state_dict(dict), ValueError);
  BOOST_TEST(equal_arrays(layer.dequantized_weight().data(), before));
}

BOOST_AUTO_TEST_CASE(corrupt_loaded_codes_are_rejected) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, -1.f}})), 8, 2);
  auto dict = layer.state_dict();
  const auto before = layer.weight_codes();
  // Each refused at load, the layer unchanged. 8-bit codes: one per byte.
  BOOST_REQUIRE(dict[0].first == "weight_packed");
  dict[0].second(1) = 2.5f;  // not an integer
  BOOST_CHECK_EXCEPTION(layer.load_state_dict(dict), ValueError,
                        mentions<ValueError>("\"weight_packed\"[1] = 2.5"));
  dict[0].second(1) = 128.f;  // "-0": no level has this code
  BOOST_CHECK_EXCEPTION(layer.load_state_dict(dict), ValueError,
                        mentions<ValueError>("code 128 of weight 1"));
  dict[0].second(1) = 4096.f;  // outside the 8-bit code range
  BOOST_CHECK_THROW(layer.load_state_dict(dict), ValueError);
  BOOST_TEST(equal_arrays(layer.weight_codes(), before));
}

// LinearAPoT is a quantized::Linear: the family's storage (codes, the APoT set
// as its level table, gamma as the table's scale) and its forward.
BOOST_AUTO_TEST_CASE(is_a_member_of_the_quantized_layer_family) {
  Generator gen(23);
  LinearAPoT<float> layer(randn<float>({3, 4}, gen), 4, 2, randn<float>({3}, gen));
  const quantized::QuantizedLayer<float>& family = layer;
  const APoTQParams<float> q = layer.qparams();
  BOOST_TEST(family.weight_scale() == q.gamma);
  BOOST_TEST(equal_arrays(family.weight_levels(), q.quantization_levels.data()));
  BOOST_TEST(equal_arrays(family.level_codes(), q.level_indices));
  BOOST_TEST(layer.in_features() == 4u);
  BOOST_TEST(layer.out_features() == 3u);
  quantized::Linear<float>& as_linear = layer;
  const auto x = randn<float>({2, 4}, gen);
  BOOST_TEST(equal_arrays(as_linear.forward_dequantized(x).data(),
                          linear(x, layer.dequantized_weight(), layer.bias()).data()));
  BOOST_TEST(layer.kernel().rfind("lut 4-bit", 0) == 0);  // b = 4: the lookup-table kernel
}

// A buffer written in place (not through load_state_dict) is checked before
// the codes are used: no lookup outside the table.
BOOST_AUTO_TEST_CASE(a_code_written_in_place_is_refused_before_use) {
  LinearAPoT<float> layer(Tensor<float>(xt::xarray<float>({{0.5f, -1.f}})), 4, 2);
  // 4-bit codes: weight 1 is the high half of byte 0; code 8 is "-0", no level.
  for (auto& kv : layer.named_buffers())
    if (kv.first == "weight_packed") {
      float& byte = kv.second.mutable_data()(0);
      byte = float((int(byte) & 0x0F) | 0x80);
    }
  BOOST_CHECK_EXCEPTION(layer.dequantized_weight(), ValueError,
                        mentions<ValueError>("LinearAPoT: weight_packed: code 8 of weight 1"));
  BOOST_CHECK_THROW(layer.forward_integer(xt::xarray<std::int64_t>({1, 2})), ValueError);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D w = tensor<double>({{0.5, -0.25}, {1.0, 0.0}});
  r.push_back({"LinearAPoT: undefined weight",
               raises<ValueError>("LinearAPoT", {"weight is undefined"}),
               [u] { LinearAPoT<double>(u, 4, 2); }});
  r.push_back({"LinearAPoT: 1-D weight", raises<ShapeError>("LinearAPoT", {"weight", "got [3]"}),
               [] { LinearAPoT<double>(zeros<double>({3}), 4, 2); }});
  r.push_back({"LinearAPoT: bias of the wrong size",
               raises<ShapeError>("LinearAPoT", {"bias must have shape [2]", "got [3]"}),
               [w] { LinearAPoT<double>(w, 4, 2, zeros<double>({3})); },
               {w}});
  r.push_back({"LinearAPoT: NaN weight",
               raises<ValueError>("LinearAPoT", {"weight holds nan", "flat position 0"}), [] {
                 LinearAPoT<double>(tensor<double>({{kNaN, 1.0}}), 4, 2);
               }});
  r.push_back({"LinearAPoT: signed_per_term",
               raises<ValueError>("LinearAPoT", {"signed_per_term"}),
               [w] { LinearAPoT<double>(w, 4, 2, D(), LevelScheme::signed_per_term); },
               {w}});
  auto la = std::make_shared<LinearAPoT<double>>(w, 4, 2);
  r.push_back(forward_of("LinearAPoT: forward of the wrong width",
                         raises<ShapeError>("linear", {"input [1, 3], weight [2, 2]"}), la,
                         zeros<double>({1, 3})));
  r.push_back({"LinearAPoT: forward undefined",
               raises<ValueError>("LinearAPoT.forward", {"input tensor is undefined"}),
               [la, u] { la->forward(u); },
               {},
               {la}});
  r.push_back({"LinearAPoT: forward_integer of the wrong width",
               raises<ShapeError>("LinearAPoT.forward_integer", {"[batch, 2]", "got [3]"}),
               [la] {
                 la->forward_integer(xt::xarray<std::int64_t>({1, 2, 3}));
               },
               {},
               {la}});
  r.push_back({"LinearAPoT: forward_integer overflowing",
               raises<ValueError>("LinearAPoT.forward_integer", {"overflow the int64 accumulator"}),
               [la] {
                 la->forward_integer(
                     xt::xarray<std::int64_t>({std::int64_t(1) << 61, std::int64_t(1) << 61}));
               },
               {},
               {la}});
  r.push_back({"LinearAPoT: load a code of 1e9",
               raises<ValueError>("LinearAPoT::load_state_dict", {"weight_packed", "1e+09"}),
               [la] {
                 auto d = la->state_dict();
                 d[0].second.data()[0] = 1e9;
                 la->load_state_dict(d);
               },
               {},
               {la}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_linear_apot
