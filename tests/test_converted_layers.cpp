// Converted layers on packed codes (quant/quantized/quantized_layer.hpp): the
// storage (keys, packed sizes, b from the levels, one table or one per
// channel), packing round trips at every bit width through the checkpoint,
// the lookup-table kernels against the float-table path on odd shapes, on
// every instruction set and thread count, hostile converted checkpoints, and
// summary()'s storage lines.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/fused.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"
#include "xgrad/summary.hpp"

BOOST_AUTO_TEST_SUITE(test_converted_layers)

namespace quant = xgrad::quant;
namespace nn = xgrad::nn;
using quant::quantized::QuantizedLayer;
using xgrad::Generator;
using xgrad::Module;
using xgrad::StateDict;
using xgrad::Tensor;
using xgrad_test::close_as_linear;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

template <class T>
using Layer = std::shared_ptr<nn::Sequential<T>>;

// A calibrated, frozen and converted one-layer model (a Sequential holding
// the layer as "0"), and the QAT model's eval output before converting.
// Calibrated on |x|: the APoT configs' unsigned input sets refuse negative
// inputs (calibrate); x itself then runs through both models alike.
template <class T>
Layer<T> converted(std::shared_ptr<Module<T>> layer, const quant::QConfig<T>& config,
                   const Tensor<T>& x, xt::xarray<T>* qat_out = nullptr) {
  auto net = std::make_shared<nn::Sequential<T>>();
  net->push_back(layer);
  quant::prepare_qat<T>(*net, config);
  quant::calibrate<T>(*net, {xgrad::abs(x)});
  quant::freeze(*net);
  net->eval();
  if (qat_out) *qat_out = net->forward(x).data();
  quant::convert(*net);
  return net;
}

template <class T>
QuantizedLayer<T>& q(const Layer<T>& net) {
  return *(*net)[0]->template as<QuantizedLayer<T>>();
}

quant::QConfig<float> config_for_bits(int bits) {
  // APoT for 2 and 4 bits (the paper's), uniform for the other widths.
  if (bits == 2 || bits == 4) return quant::apot_rcf_qconfig<float>(bits);
  return quant::uniform_qconfig<float>(bits);
}

// The sums of |x| |w| + |b| of a convolution, for its bound: conv2d on the
// absolute values, in double.
xt::xarray<double> abs_conv_sums(const Tensor<float>& x, const Tensor<float>& w,
                                 const Tensor<float>& b, const nn::Conv2dOptions& o) {
  auto to_abs = [](const Tensor<float>& t) {
    return Tensor<double>(xt::xarray<double>(xt::abs(xt::cast<double>(t.data()))));
  };
  return xgrad::conv2d(to_abs(x), to_abs(w), b.defined() ? to_abs(b) : Tensor<double>(), o.stride(),
                       o.padding(), o.dilation(), o.groups())
      .data();
}

// A converted conv's output y against its float-table path, when each is
// within gamma_n (sum |w x| + |b|) of the exact convolution: within twice
// that, plus the rounding of the double reference sums.
boost::test_tools::predicate_result conv_near_float_path(QuantizedLayer<float>& layer,
                                                         const xt::xarray<float>& y,
                                                         const Tensor<float>& x,
                                                         const nn::Conv2dOptions& o,
                                                         std::size_t n) {
  const auto w = layer.dequantized_weight();
  const std::size_t K = w.numel() / w.shape()[0];
  xt::xarray<double> bound = abs_conv_sums(layer.quantized_input(x), w, layer.bias, o);
  bound *= 2 * xgrad_test::gamma_n<float>(n) + xgrad_test::gamma_n<double>(K + 1);
  return xgrad_test::close_within(y, layer.forward_dequantized(x).data(), bound);
}

std::uintmax_t file_size(const std::string& path) { return std::filesystem::file_size(path); }

}  // namespace

// ---- storage ----

BOOST_AUTO_TEST_CASE(a_converted_linear_stores_packed_codes_a_table_and_the_bias) {
  Generator gen(1);
  const auto x = xgrad::randn<float>({8, 40}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(40, 24, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  const std::vector<std::string> keys = xgrad_test::names_of(net->state_dict());
  BOOST_REQUIRE(keys.size() >= 4u);
  BOOST_TEST(keys[0] == "0.weight_packed");
  BOOST_TEST(keys[1] == "0.weight_table");
  BOOST_TEST(keys[2] == "0.bias");
  BOOST_TEST(keys[3] == "0.qconfig");
  const auto dict = net->state_dict();
  BOOST_TEST(dict[0].second.size() == 24u * 40u * 4u / 8u);  // 4 bits a code
  BOOST_TEST((dict[1].second.shape() == std::vector<std::size_t>{1, 16}));
  BOOST_TEST(net->byte_state_keys() == std::vector<std::string>{"0.weight_packed"});
  BOOST_TEST(q(net).code_bits() == 4);
  const xgrad::WeightStorage s = q(net).weight_storage();
  BOOST_TEST(s.bytes == 480u + 4u * (16u + 24u));
  BOOST_TEST(s.float_bytes == 4u * (24u * 40u + 24u));
}

// b: the fewest bits (at least 2) that hold the weight's distinct values; the
// dequantized weight is the QAT layer's fake-quantized weight bit for bit at
// every width, and survives a checkpoint (uint8 member) into an empty model.
BOOST_AUTO_TEST_CASE(packing_round_trips_at_every_bit_width_through_a_checkpoint) {
  xgrad_test::TempDir dir;
  for (int bits = 2; bits <= 8; ++bits) {
    BOOST_TEST_CONTEXT("bits " << bits) {
      Generator gen(std::uint64_t(10 + bits));
      const auto x = xgrad::randn<float>({16, 37}, gen);
      auto layer = std::make_shared<nn::Linear<float>>(37, 19, true, gen);
      auto net = std::make_shared<nn::Sequential<float>>();
      net->push_back(layer);
      quant::prepare_qat<float>(*net, config_for_bits(bits));
      quant::calibrate<float>(*net, {xgrad::abs(x)});  // non-negative: see converted()
      quant::freeze(*net);
      auto* qat = (*net)[0]->as<quant::qat::FakeQuantizedLayer<float>>();
      const xt::xarray<float> fq = [&] {
        xgrad::NoGradGuard no_grad;
        return qat->fake_quantized_weight().data();
      }();
      quant::convert(*net);
      auto& layer_q = q(net);
      // APoT 2-bit sign-magnitude has 3 values, uniform 3-bit at most 8...
      BOOST_TEST(layer_q.code_bits() <= bits);
      BOOST_TEST(layer_q.code_bits() >= 2);
      BOOST_TEST(equal_arrays(layer_q.dequantized_weight().data(), fq));
      const std::string path = dir / ("b" + std::to_string(bits) + ".npz");
      xgrad::save(*net, path);
      const auto loaded = xgrad::load_state_dict_file<float>(path);
      BOOST_TEST(equal_arrays(loaded[0].second, net->state_dict()[0].second));

      auto fresh = std::make_shared<nn::Sequential<float>>();
      fresh->push_back(std::make_shared<nn::Linear<float>>(37, 19, true, gen));
      quant::prepare_qat<float>(*fresh, config_for_bits(bits));
      quant::convert(*fresh, quant::ConvertMode::empty);
      xgrad::load(*fresh, path);
      BOOST_TEST(equal_arrays(q(fresh).dequantized_weight().data(), fq));
      BOOST_TEST(q(fresh).kernel() == layer_q.kernel());
      BOOST_TEST(equal_arrays(fresh->forward(x).data(), net->forward(x).data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_converted_checkpoint_is_about_b_over_32_of_the_float_one) {
  xgrad_test::TempDir dir;
  Generator gen(3);
  const auto x = xgrad::randn<float>({8, 256}, gen);
  auto layer = std::make_shared<nn::Linear<float>>(256, 256, true, gen);
  auto float_net = std::make_shared<nn::Sequential<float>>();
  float_net->push_back(layer);
  xgrad::save(*float_net, dir / "float.npz");
  for (int bits : {2, 4}) {
    BOOST_TEST_CONTEXT("bits " << bits) {
      auto clone = std::make_shared<nn::Linear<float>>(256, 256, true, gen);
      clone->load_state_dict(layer->state_dict());
      auto net = converted<float>(clone, quant::apot_rcf_qconfig<float>(bits), x);
      BOOST_TEST(q(net).code_bits() == bits);
      const std::string path = dir / "q.npz";
      xgrad::save(*net, path);
      // The codes are b/32 of the weight; the float bias (0.4 % of the float
      // file), the table, the input quantizer's state and the members'
      // headers (~200 bytes each) add a little: within 1.5 % of the float file.
      const double ratio = double(file_size(path)) / double(file_size(dir / "float.npz"));
      BOOST_TEST(ratio > bits / 32.0);
      BOOST_TEST(ratio < bits / 32.0 + 0.015);
    }
  }
}

BOOST_AUTO_TEST_CASE(per_channel_weights_store_one_table_per_channel) {
  Generator gen(4);
  // 40 channels of up to 16 values: more than 256 in all.
  const auto x = xgrad::randn<float>({8, 64}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(64, 40, true, gen),
                              quant::uniform_qconfig<float>(4, true), x);
  const auto& table = q(net).weight_levels();
  BOOST_TEST((table.shape() == std::vector<std::size_t>{40, 16}));
  q(net).enable_lut_kernel(false);
  BOOST_TEST(equal_arrays(net->forward(x).data(), q(net).forward_dequantized(x).data()));
}

// ---- per-channel weights on the kernels ----

namespace {

// Row-scaled kernels (quantized_layer.hpp): each output is s_o * (sum of K
// fma's of integer levels q_j with x_j) + b_o, and the float-table weight is
// w_j = fl(q_j s_o) = q_j s_o (1 + d_j), |d_j| <= u. So against the exact
// sum_j w_j x_j + b: the K-term sum (gamma_K), the weights' roundings (u),
// the scale product and the bias sum (u each): within gamma_{K+3}
// (sum_j |w_j x_j| + |b|).
boost::test_tools::predicate_result row_scaled_close(const xt::xarray<float>& y,
                                                     const xt::xarray<float>& x,
                                                     const xt::xarray<float>& w,
                                                     const xt::xarray<float>& b) {
  const std::size_t K = w.shape()[1], O = w.shape()[0], N = x.size() / K;
  xt::xarray<double> def = xt::zeros<double>({N, O}), abs = xt::zeros<double>({N, O});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < O; ++o) {
      double d = b.size() ? double(b(o)) : 0.0, a = std::fabs(d);
      for (std::size_t k = 0; k < K; ++k) {
        const double t = double(x.data()[n * K + k]) * double(w.data()[o * K + k]);
        d += t;
        a += std::fabs(t);
      }
      def(n, o) = d;
      abs(n, o) = a;
    }
  xt::xarray<double> flat = xt::cast<double>(y);
  flat.reshape({N, O});
  return xgrad_test::close_as_sums<float>(flat, def, abs, K + 3);
}

}  // namespace

BOOST_AUTO_TEST_CASE(per_channel_uniform_weights_run_the_row_scaled_kernels) {
  // 40 rows (one table per row) and 12 rows (one 8-bit table): both are
  // integers in [-8, 7] times a scale per row.
  for (std::size_t rows : {40u, 12u}) {
    for (int bits : {2, 3, 4}) {
      for (std::size_t batch : {1u, 5u, 64u}) {
        BOOST_TEST_CONTEXT(rows << " rows, " << bits << "-bit, batch " << batch) {
          Generator gen(rows * 10 + std::size_t(bits));
          const auto x = xgrad::randn<float>({batch, 67}, gen);
          auto net = converted<float>(std::make_shared<nn::Linear<float>>(67, rows, true, gen),
                                      quant::uniform_qconfig<float>(bits, true), x);
          auto& layer = q(net);
          layer.enable_integer_kernel(false);  // the integer path: its own cases
          BOOST_TEST(layer.kernel().rfind("lut ", 0) == 0);
          BOOST_TEST(layer.kernel().find("row-scaled") != std::string::npos);
          const auto y = net->forward(x).data();
          BOOST_TEST(row_scaled_close(y, layer.quantized_input(x).data(),
                                      layer.dequantized_weight().data(), layer.bias.data()));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(per_channel_conv_runs_the_row_scaled_kernels_on_any_thread_count) {
  Generator gen(8);
  const auto img = xgrad::randn<float>({5, 3, 10, 9}, gen);
  const nn::Conv2dOptions o = nn::Conv2dOptions(3, 24, 3).padding(1);
  auto net = converted<float>(std::make_shared<nn::Conv2d<float>>(o, gen),
                              quant::uniform_qconfig<float>(4, true), img);
  auto& layer = q(net);
  layer.enable_integer_kernel(false);  // the integer path: its own cases
  BOOST_TEST(layer.kernel().find("row-scaled") != std::string::npos);
  const auto w = layer.dequantized_weight();
  const std::size_t K = w.numel() / w.shape()[0];
  const int threads = xgrad::get_num_threads();
  xgrad::set_num_threads(1);
  const auto y1 = net->forward(img).data();
  for (int t : {2, 3}) {
    xgrad::set_num_threads(t);
    BOOST_TEST(equal_arrays(net->forward(img).data(), y1));
  }
  xgrad::set_num_threads(threads);
  // Within gamma_{K+3} of the exact convolution (row_scaled_close).
  BOOST_TEST(conv_near_float_path(layer, y1, img, o, K + 3));
}

BOOST_AUTO_TEST_CASE(per_channel_tables_of_no_common_integers_take_the_float_path) {
  Generator gen(9);
  const auto x = xgrad::randn<float>({3, 20}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(20, 30, true, gen),
                              quant::uniform_qconfig<float>(4, true), x);
  // Rows of levels that are no integers times a unit (0.1 and 0.3 are not
  // multiples of one float unit within 127).
  auto d = net->state_dict();
  xt::xarray<float>& table = d[1].second;
  for (std::size_t o = 0; o < table.shape()[0]; ++o)
    for (std::size_t c = 0; c < table.shape()[1]; ++c)
      table(o, c) = float(o + 1) * (c % 2 ? 0.1f : 0.3f) + 0.01f * float(c);
  net->load_state_dict(d);
  BOOST_TEST(q(net).kernel() == "dequantized");
  BOOST_TEST(equal_arrays(net->forward(x).data(), q(net).forward_dequantized(x).data()));
}

// ---- the input quantizer ----

// A frozen input quantizer runs as its steps (quantized_layer.hpp): every
// value is the quantizer's own, bit for bit, at the steps' edges, zeros of
// both signs and infinities too; NaN inputs run the quantizer.
BOOST_AUTO_TEST_CASE(frozen_input_quantizers_give_their_own_bits) {
  const float inf = std::numeric_limits<float>::infinity();
  const quant::QConfig<float> configs[] = {
      quant::apot_rcf_qconfig<float>(4),    quant::apot_rcf_qconfig<float>(2),
      quant::apot_fixed_qconfig<float>(4),  quant::uniform_qconfig<float>(4),
      quant::uniform_lsq_qconfig<float>(3), quant::uniform_qconfig<float>(8)};
  for (const auto& config : configs) {
    BOOST_TEST_CONTEXT(config.name) {
      Generator gen(10);
      const auto x0 = xgrad::randn<float>({4, 50}, gen);
      auto net =
          converted<float>(std::make_shared<nn::Linear<float>>(50, 6, true, gen), config, x0);
      auto& layer = q(net);
      BOOST_REQUIRE(layer.input_fake_quant);
      // Random values at several magnitudes, every float near the levels
      // (the quantizer's own outputs and their midpoints), zeros, infinities.
      std::vector<float> v(x0.data().begin(), x0.data().end());
      for (float s : {0.01f, 0.3f, 3.0f, 30.0f})
        for (float e : x0.data()) v.push_back(s * e);
      const Tensor<float> lv = layer.input_fake_quant->forward(x0);
      for (float l : lv.data())
        for (float m : {l, std::nextafter(l, inf), std::nextafter(l, -inf), l * 0.5f, l * 1.5f})
          v.push_back(m);
      for (float z : {0.0f, -0.0f, inf, -inf, 1e-45f, -1e-45f}) v.push_back(z);
      xt::xarray<float> xs = xt::xarray<float>::from_shape({v.size()});
      std::copy(v.begin(), v.end(), xs.begin());
      const Tensor<float> x(xs);
      xgrad::NoGradGuard no_grad;
      const auto want = layer.input_fake_quant->forward(x).data();
      const auto got = layer.quantized_input(x).data();
      BOOST_REQUIRE(got.size() == want.size());
      BOOST_TEST(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
      xs(3) = std::numeric_limits<float>::quiet_NaN();
      BOOST_TEST(equal_arrays(layer.quantized_input(Tensor<float>(xs)).data(),
                              layer.input_fake_quant->forward(Tensor<float>(xs)).data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_input_steps_follow_a_loaded_quantizer_state) {
  Generator gen(12);
  const auto x = xgrad::randn<float>({4, 30}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(30, 5, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  auto& layer = q(net);
  xgrad::NoGradGuard no_grad;
  const auto before = layer.quantized_input(x).data();
  // Halve every float parameter and buffer of the input quantizer that is
  // not a flag (the clipping alpha among them), as a load would.
  auto d = net->state_dict();
  bool changed = false;
  for (auto& kv : d) {
    if (kv.first.find("input_fake_quant") == std::string::npos ||
        kv.first.find("enabled") != std::string::npos || kv.second.size() != 1)
      continue;
    kv.second *= 0.5f;
    changed = true;
  }
  BOOST_REQUIRE(changed);
  net->load_state_dict(d);
  const auto after = layer.quantized_input(x).data();
  BOOST_TEST(!equal_arrays(after, before));
  BOOST_TEST(equal_arrays(after, layer.input_fake_quant->forward(x).data()));
}

// ---- kernels ----

// Each output of the kernel and of the float-table path is a sum of K + 1
// terms (K products, the bias), each within gamma_{K+1} sum|terms| of the
// exact value in any order (test_util.hpp): close_as_linear checks that
// against the definition in double.
BOOST_AUTO_TEST_CASE(linear_kernels_equal_the_float_table_path_within_the_bound) {
  struct Shape {
    std::size_t in, out;
  };
  const Shape shapes[] = {{2, 1}, {5, 3}, {17, 17}, {33, 31}, {129, 7}, {300, 40}};
  for (int bits : {2, 3, 4}) {
    for (const Shape& s : shapes) {
      for (std::size_t batch : {1u, 3u, 64u}) {
        BOOST_TEST_CONTEXT(bits << "-bit " << s.out << " x " << s.in << ", batch " << batch) {
          Generator gen(s.in * 100 + s.out + std::size_t(bits));
          const auto x = xgrad::randn<float>({batch, s.in}, gen);
          auto net = converted<float>(std::make_shared<nn::Linear<float>>(s.in, s.out, true, gen),
                                      config_for_bits(bits), x);
          auto& layer = q(net);
          layer.enable_integer_kernel(false);  // the integer path: its own cases
          BOOST_TEST(layer.kernel().rfind("lut ", 0) == 0);
          const Tensor<float> xq = layer.quantized_input(x);
          const auto y = net->forward(x).data();
          BOOST_TEST(
              close_as_linear(y, xq.data(), layer.dequantized_weight().data(), layer.bias.data()));
          BOOST_TEST(close_as_linear(layer.forward_dequantized(x).data(), xq.data(),
                                     layer.dequantized_weight().data(), layer.bias.data()));
        }
      }
    }
  }
}

// conv: K = C/groups kh kw products and the bias per output.
BOOST_AUTO_TEST_CASE(conv_kernels_equal_the_float_table_path_within_the_bound) {
  const nn::Conv2dOptions options[] = {
      nn::Conv2dOptions(1, 6, 5),
      nn::Conv2dOptions(3, 5, 3).padding(1),
      nn::Conv2dOptions(4, 6, 3).stride(2).groups(2),
      nn::Conv2dOptions(2, 3, {2, 3}).dilation(2).padding({1, 0}),
      nn::Conv2dOptions(6, 4, 1),  // pointwise: the input is its own column matrix
  };
  for (int bits : {2, 4}) {
    for (const auto& o : options) {
      BOOST_TEST_CONTEXT(bits << "-bit " << o.in_channels() << "->" << o.out_channels()) {
        Generator gen(std::size_t(o.in_channels() * 10 + o.out_channels()) + std::size_t(bits));
        const auto x = xgrad::randn<float>({3, std::size_t(o.in_channels()), 9, 8}, gen);
        auto net =
            converted<float>(std::make_shared<nn::Conv2d<float>>(o, gen), config_for_bits(bits), x);
        auto& layer = q(net);
        layer.enable_integer_kernel(false);  // the integer path: its own cases
        BOOST_TEST(layer.kernel().rfind("lut ", 0) == 0);
        const auto w = layer.dequantized_weight();
        const std::size_t K = w.numel() / w.shape()[0];
        BOOST_TEST(conv_near_float_path(layer, net->forward(x).data(), x, o, K + 1));
      }
    }
  }
}

// The decode path's sums are in one order on every instruction set and
// thread count (lut_matrix.hpp): the same bits. (2-bit batch 1 may take the
// pair path on some sets: checked within the bound above.) These layers run
// the integer path: exact sums, the same bits by construction.
BOOST_AUTO_TEST_CASE(results_depend_on_neither_the_thread_count_nor_the_instruction_set) {
  Generator gen(5);
  const auto x = xgrad::randn<float>({64, 300}, gen);
  const auto img = xgrad::randn<float>({4, 3, 12, 12}, gen);
  auto lin = converted<float>(std::make_shared<nn::Linear<float>>(300, 70, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  auto conv = converted<float>(
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(3, 20, 3).padding(1), gen),
      quant::apot_rcf_qconfig<float>(2), img);
  const int threads = xgrad::get_num_threads();
  const quant::SimdIsa isa = quant::simd_isa();
  xgrad::set_num_threads(1);
  const auto y1 = lin->forward(x).data();
  const auto c1 = conv->forward(img).data();
  for (int t : {2, 3}) {
    xgrad::set_num_threads(t);
    BOOST_TEST(equal_arrays(lin->forward(x).data(), y1));
    BOOST_TEST(equal_arrays(conv->forward(img).data(), c1));
  }
  xgrad::set_num_threads(threads);
  for (quant::SimdIsa s : quant::supported_simd_isas()) {
    BOOST_TEST_CONTEXT(quant::to_string(s)) {
      quant::set_simd_isa(s);
      BOOST_TEST(equal_arrays(lin->forward(x).data(), y1));
      BOOST_TEST(equal_arrays(conv->forward(img).data(), c1));
    }
  }
  quant::set_simd_isa(isa);
}

// ---- the integer path ----

// APoT weights and a frozen APoT input quantizer: both sets of levels are
// integers times a unit, so forward sums int8 weights times u8 input codes
// exactly in int32 (integer_path.hpp). Each output is within gamma_7 (sum
// |w x| + |b|) of the exact sum on the dequantized operands, inside
// close_as_linear's gamma_{K+1} for the K >= 8 weights a row the path takes
// (fewer: the lookup-table kernels).
BOOST_AUTO_TEST_CASE(the_integer_path_equals_the_float_table_path_within_the_bound) {
  struct Shape {
    std::size_t in, out;
  };
  const Shape shapes[] = {{5, 3}, {8, 1}, {17, 17}, {33, 31}, {129, 7}, {300, 40}};
  for (int bits : {2, 4}) {
    for (const Shape& s : shapes) {
      for (std::size_t batch : {1u, 3u, 9u, 64u}) {
        BOOST_TEST_CONTEXT(bits << "-bit " << s.out << " x " << s.in << ", batch " << batch) {
          Generator gen(s.in * 100 + s.out + std::size_t(bits));
          const auto x = xgrad::randn<float>({batch, s.in}, gen);
          auto net = converted<float>(std::make_shared<nn::Linear<float>>(s.in, s.out, true, gen),
                                      config_for_bits(bits), x);
          auto& layer = q(net);
          // (Few weights may hold fewer levels: codes of fewer bits.)
          BOOST_TEST(layer.kernel().rfind(s.in >= 8 ? "integer " : "lut ", 0) == 0);
          const Tensor<float> xq = layer.quantized_input(x);
          BOOST_TEST(close_as_linear(net->forward(x).data(), xq.data(),
                                     layer.dequantized_weight().data(), layer.bias.data()));
        }
      }
    }
  }
}

// A Conv2d of groups 1 and dilation 1 runs the integer path as an implicit
// GEMM on its input's codes (padding: the code of 0); groups and dilation
// keep the lookup-table kernels.
BOOST_AUTO_TEST_CASE(convolutions_run_the_integer_path_on_padded_and_strided_inputs) {
  const nn::Conv2dOptions options[] = {
      nn::Conv2dOptions(1, 6, 5).padding(2),
      nn::Conv2dOptions(6, 16, 5),
      nn::Conv2dOptions(3, 17, 3).padding(1).stride(2),
      nn::Conv2dOptions(2, 3, {2, 7}).padding({1, 3}).stride({1, 2}),
      nn::Conv2dOptions(6, 4, 1),
      nn::Conv2dOptions(4, 6, 3).stride(2).groups(2),
      nn::Conv2dOptions(2, 3, {2, 3}).dilation(2).padding({1, 0}),
  };
  for (int bits : {2, 4}) {
    for (const auto& o : options) {
      BOOST_TEST_CONTEXT(bits << "-bit " << o.in_channels() << "->" << o.out_channels()) {
        Generator gen(std::size_t(o.in_channels() * 10 + o.out_channels()) + std::size_t(bits));
        const auto x = xgrad::randn<float>({3, std::size_t(o.in_channels()), 11, 9}, gen);
        auto net =
            converted<float>(std::make_shared<nn::Conv2d<float>>(o, gen), config_for_bits(bits), x);
        auto& layer = q(net);
        const auto w = layer.dequantized_weight();
        const std::size_t K = w.numel() / w.shape()[0];
        const bool integer = o.groups() == 1 && o.dilation() == xgrad::Size2(1) && K >= 8;
        BOOST_TEST(layer.kernel().rfind(integer ? "integer " : "lut ", 0) == 0);
        BOOST_TEST(conv_near_float_path(layer, net->forward(x).data(), x, o, K + 1));
      }
    }
  }
}

// Integer sums are exact: every kernel set the machine has (VNNI, AVX2,
// scalar) and every thread count give the same bits, by construction.
// convert folds a ReLU after a converted layer, and a MaxPool2d after that,
// into the layer's epilogue; ReLU and max are exact, so the fused model gives
// the unfused one's bits: odd planes, padded pools, 1 to 3 threads.
BOOST_AUTO_TEST_CASE(convert_fuses_relu_and_max_pool_into_the_epilogue_bit_for_bit) {
  using quant::quantized::FusedMaxPool2d;
  using quant::quantized::FusedReLU;
  const struct {
    nn::Conv2dOptions conv;
    nn::MaxPool2dOptions pool;
  } cases[] = {
      {nn::Conv2dOptions(1, 6, 5).padding(2), nn::MaxPool2dOptions(2)},
      {nn::Conv2dOptions(3, 17, 3).padding(1).stride(2),
       nn::MaxPool2dOptions(3).stride(2).padding(1)},
      {nn::Conv2dOptions(2, 5, {2, 4}).padding({1, 0}),
       nn::MaxPool2dOptions({2, 3}).stride({1, 2})},
  };
  // Bits, not ==: -0 and +0 must agree too.
  const auto same_bits = [](const xt::xarray<float>& a, const xt::xarray<float>& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  const int threads = xgrad::get_num_threads();
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.conv.in_channels() << "->" << c.conv.out_channels()) {
      Generator gen(std::size_t(c.conv.out_channels()));
      const auto x = xgrad::randn<float>({3, std::size_t(c.conv.in_channels()), 13, 11}, gen);
      auto net = std::make_shared<nn::Sequential<float>>();
      net->push_back(std::make_shared<nn::Conv2d<float>>(c.conv, gen));
      net->push_back(std::make_shared<nn::ReLU<float>>());
      net->push_back(std::make_shared<nn::MaxPool2d<float>>(c.pool));
      net->push_back(std::make_shared<nn::Flatten<float>>());
      const std::size_t features = net->forward(x).shape()[1];
      net->push_back(std::make_shared<nn::Linear<float>>(features, 7, true, gen));
      net->push_back(std::make_shared<nn::ReLU<float>>());
      quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
      quant::calibrate<float>(*net, {xgrad::abs(x)});
      quant::freeze(*net);
      net->eval();
      quant::convert(*net);
      auto& conv = *(*net)[0]->as<QuantizedLayer<float>>();
      auto& fc = *(*net)[4]->as<QuantizedLayer<float>>();
      BOOST_TEST(conv.kernel().rfind("integer ", 0) == 0);
      BOOST_TEST(conv.relu_fused());
      BOOST_TEST(conv.pool_fused().has_value());
      BOOST_TEST(fc.relu_fused());
      BOOST_TEST(((*net)[1]->as<FusedReLU<float>>() && (*net)[1]->type_name() == "ReLU"));
      BOOST_TEST(((*net)[2]->as<FusedMaxPool2d<float>>() && (*net)[2]->type_name() == "MaxPool2d"));
      BOOST_TEST((*net)[5]->as<FusedReLU<float>>());
      for (int t : {1, 2, 3}) {
        xgrad::set_num_threads(t);
        conv.fuse(true, conv.pool_fused());
        fc.fuse(true, std::nullopt);
        const auto fused = net->forward(x).data();
        {  // the fused path runs: the ReLU hands the layer's own output on
          const Tensor<float> y = (*net)[0]->forward(x);
          BOOST_TEST(conv.is_fused_output(y));
          BOOST_TEST((*net)[1]->forward(y).data().data() == y.data().data());
        }
        const auto pooled = (*net)[2]->forward((*net)[1]->forward((*net)[0]->forward(x))).data();
        conv.fuse(false, std::nullopt);
        fc.fuse(false, std::nullopt);
        const auto plain = net->forward(x).data();  // the ops themselves
        const auto plain_pooled =
            (*net)[2]->forward((*net)[1]->forward((*net)[0]->forward(x))).data();
        BOOST_TEST(same_bits(fused, plain));
        BOOST_TEST(same_bits(pooled, plain_pooled));
      }
      xgrad::set_num_threads(threads);
      // The markers run their op on any other input.
      const auto other = xgrad::randn<float>({1, 2, 4, 4}, gen);
      BOOST_TEST(
          same_bits((*net)[1]->forward(other).data(), nn::ReLU<float>().forward(other).data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_integer_path_gives_the_same_bits_on_every_kernel_set) {
  Generator gen(15);
  const auto x = xgrad::randn<float>({37, 131}, gen);
  const auto img = xgrad::randn<float>({5, 6, 14, 13}, gen);
  auto lin = converted<float>(std::make_shared<nn::Linear<float>>(131, 45, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  auto conv = converted<float>(
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(6, 19, 5).padding(1), gen),
      quant::apot_rcf_qconfig<float>(2), img);
  BOOST_TEST(q(lin).kernel().rfind("integer ", 0) == 0);
  BOOST_TEST(q(conv).kernel().rfind("integer ", 0) == 0);
  const int threads = xgrad::get_num_threads();
  const quant::SimdIsa isa = quant::simd_isa();
  quant::set_simd_isa(quant::SimdIsa::scalar);
  xgrad::set_num_threads(1);
  const auto y1 = lin->forward(x).data();
  const auto c1 = conv->forward(img).data();
  for (quant::SimdIsa s : quant::supported_simd_isas()) {
    for (int t : {1, 2, 3}) {
      BOOST_TEST_CONTEXT(quant::to_string(s) << ", " << t << " threads") {
        quant::set_simd_isa(s);
        xgrad::set_num_threads(t);
        BOOST_TEST(equal_arrays(lin->forward(x).data(), y1));
        BOOST_TEST(equal_arrays(conv->forward(img).data(), c1));
      }
    }
  }
  xgrad::set_num_threads(threads);
  quant::set_simd_isa(isa);
}

// 8-bit uniform layers (the experiment's first and last): affine weights
// span -zp to 255 - zp, stored shifted into int8 with a row of ones adding
// the shift back; the 8-bit input's 255 evenly spaced steps take a guess and
// one correction. The same bound, and the same bits on every kernel set.
BOOST_AUTO_TEST_CASE(eight_bit_uniform_layers_run_the_integer_path_within_the_bound) {
  Generator gen(18);
  const auto x = xgrad::randn<float>({21, 84}, gen);
  const auto img = xgrad::randn<float>({3, 1, 28, 28}, gen);
  const nn::Conv2dOptions o = nn::Conv2dOptions(1, 6, 5).padding(2);
  auto lin = converted<float>(std::make_shared<nn::Linear<float>>(84, 10, true, gen),
                              quant::uniform_qconfig<float>(8), x);
  auto conv = converted<float>(std::make_shared<nn::Conv2d<float>>(o, gen),
                               quant::uniform_qconfig<float>(8), img);
  BOOST_TEST(q(lin).kernel().rfind("integer ", 0) == 0);
  BOOST_TEST(q(conv).kernel().rfind("integer ", 0) == 0);
  const auto y = lin->forward(x).data();
  const auto c = conv->forward(img).data();
  BOOST_TEST(close_as_linear(y, q(lin).quantized_input(x).data(),
                             q(lin).dequantized_weight().data(), q(lin).bias.data()));
  BOOST_TEST(conv_near_float_path(q(conv), c, img, o, 25 + 1));
  const quant::SimdIsa isa = quant::simd_isa();
  for (quant::SimdIsa s : quant::supported_simd_isas()) {
    BOOST_TEST_CONTEXT(quant::to_string(s)) {
      quant::set_simd_isa(s);
      BOOST_TEST(equal_arrays(lin->forward(x).data(), y));
      BOOST_TEST(equal_arrays(conv->forward(img).data(), c));
    }
  }
  quant::set_simd_isa(isa);
}

BOOST_AUTO_TEST_CASE(switching_the_integer_path_off_runs_the_lookup_table_kernels) {
  Generator gen(16);
  const auto x = xgrad::randn<float>({4, 50}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(50, 20, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  auto& layer = q(net);
  const auto yi = net->forward(x).data();
  layer.enable_integer_kernel(false);
  BOOST_TEST(layer.kernel().rfind("lut 4-bit ", 0) == 0);
  const auto yl = net->forward(x).data();
  const Tensor<float> xq = layer.quantized_input(x);
  BOOST_TEST(close_as_linear(yi, xq.data(), layer.dequantized_weight().data(), layer.bias.data()));
  BOOST_TEST(close_as_linear(yl, xq.data(), layer.dequantized_weight().data(), layer.bias.data()));
  layer.enable_integer_kernel(true);
  BOOST_TEST(layer.kernel().rfind("integer 4-bit ", 0) == 0);
  BOOST_TEST(equal_arrays(net->forward(x).data(), yi));
}

// NaN has no code: such a batch takes the lookup-table kernels, which carry
// the NaN to its sample's outputs as the float path does.
BOOST_AUTO_TEST_CASE(an_input_holding_nan_leaves_the_integer_path) {
  Generator gen(17);
  const auto x0 = xgrad::randn<float>({3, 24}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(24, 5, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x0);
  BOOST_TEST(q(net).kernel().rfind("integer ", 0) == 0);
  xt::xarray<float> xv = x0.data();
  xv(1, 7) = std::numeric_limits<float>::quiet_NaN();
  const Tensor<float> x(xv);
  const auto y = net->forward(x).data();
  const auto want = q(net).forward_dequantized(x).data();
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t o = 0; o < 5; ++o) BOOST_TEST(std::isnan(y(n, o)) == std::isnan(want(n, o)));
}

BOOST_AUTO_TEST_CASE(inputs_that_need_a_gradient_take_the_float_path) {
  Generator gen(6);
  const auto x0 = xgrad::randn<float>({2, 9}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(9, 4, false, gen),
                              quant::apot_rcf_qconfig<float>(4), x0);
  Tensor<float> x(xt::xarray<float>(x0.data()), true);
  const auto y = net->forward(x);
  BOOST_TEST(equal_arrays(y.data(), q(net).forward_dequantized(x).data()));
  xgrad::sum(y).backward();
  BOOST_TEST(x.grad().defined());
}

BOOST_AUTO_TEST_CASE(double_layers_run_the_float_table_path) {
  Generator gen(7);
  const auto x = xgrad::randn<double>({3, 10}, gen);
  xt::xarray<double> want;
  auto net = converted<double>(std::make_shared<nn::Linear<double>>(10, 4, true, gen),
                               quant::apot_rcf_qconfig<double>(4), x, &want);
  BOOST_TEST(q(net).kernel() == "dequantized");
  BOOST_TEST(equal_arrays(net->forward(x).data(), want));
}

// ---- summary ----

BOOST_AUTO_TEST_CASE(summary_shows_the_storage_of_each_layer_and_the_total) {
  Generator gen(8);
  const auto x = xgrad::randn<float>({4, 64}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(64, 32, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  const std::string text = xgrad::summary(*net);
  // 1,024 packed bytes + 16 table + 32 bias floats; 2,048 + 32 floats.
  BOOST_TEST(xgrad_test::contains(text, "weight storage 1,216 B (8,320 B as float32)"), text);
  BOOST_TEST(xgrad_test::contains(text, "\nweight storage: 1,216 B (8,320 B as float32)\n"), text);
}

// ---- hostile checkpoints ----

// A converted checkpoint edited member by member: each refused at load with a
// ValueError naming the key, the model unchanged.
BOOST_AUTO_TEST_CASE(hostile_converted_checkpoints_are_refused_and_change_nothing) {
  xgrad_test::TempDir dir;
  Generator gen(9);
  const auto x = xgrad::randn<float>({4, 7}, gen);
  auto net = converted<float>(std::make_shared<nn::Linear<float>>(7, 3, true, gen),
                              quant::apot_rcf_qconfig<float>(4), x);
  // 21 codes of b bits (b from the levels the weight uses).
  const int b = q(net).code_bits();
  const std::size_t n = (21 * std::size_t(b) + 7) / 8, used = 21 * std::size_t(b) % 8;
  BOOST_REQUIRE(used != 0);  // b = 2, 3 or 4: the last byte has unused bits
  const StateDict<float> good = net->state_dict();
  BOOST_REQUIRE(good[0].first == "0.weight_packed");
  BOOST_REQUIRE(good[1].first == "0.weight_table");
  BOOST_REQUIRE(good[2].first == "0.bias");
  BOOST_REQUIRE(good[0].second.size() == n);
  struct Case {
    const char* what;
    std::function<void(StateDict<float>&)> edit;
    std::vector<std::string> words;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::string has = "weight_packed has ";
  const std::size_t other = b == 2 ? 16 : 4;  // a table of another width
  const std::size_t other_n = (21 * (other == 16 ? 4u : 2u) + 7) / 8;
  const float stray = float(unsigned(good[0].second(n - 1)) | (1u << used));
  const std::vector<Case> cases = {
      {"a byte too few",
       [n](StateDict<float>& d) { d[0].second = xt::xarray<float>(xt::zeros<float>({n - 1})); },
       {has + std::to_string(n - 1) + " bytes",
        "3 x 7 codes of " + std::to_string(b) + " bits need " + std::to_string(n)}},
      {"a byte too many",
       [n](StateDict<float>& d) { d[0].second = xt::xarray<float>(xt::zeros<float>({n + 1})); },
       {has + std::to_string(n + 1) + " bytes"}},
      {"stray high bits",
       [n, stray](StateDict<float>& d) { d[0].second(n - 1) = stray; },
       {"weight_packed", "unused high " + std::to_string(8 - used) + " bits"}},
      {"table of 12 entries",
       [](StateDict<float>& d) {
         d[1].second = xt::xarray<float>(xt::zeros<float>({1, 12}));
       },
       {"weight_table", "2^b columns", "got 12"}},
      {"table of 512 entries",
       [](StateDict<float>& d) {
         d[1].second = xt::xarray<float>(xt::zeros<float>({1, 512}));
       },
       {"weight_table", "got 512"}},
      {"table of 2 rows for 3 channels",
       [](StateDict<float>& d) {
         d[1].second = xt::xarray<float>(xt::zeros<float>({2, 16}));
       },
       {"weight_table", "[1, 2^b] or [3, 2^b]", "[2, 16]"}},
      {"NaN level",
       [nan](StateDict<float>& d) { d[1].second(0, 1) = nan; },
       {"weight_table", "element 1", "nan"}},
      {"infinite bias",
       [](StateDict<float>& d) { d[2].second(1) = std::numeric_limits<float>::infinity(); },
       {"bias[1]", "inf"}},
      {"a table of another width for these bytes",
       [other](StateDict<float>& d) {
         d[1].second = xt::xarray<float>(xt::zeros<float>({std::size_t(1), other}));
       },
       {has + std::to_string(n) + " bytes", "need " + std::to_string(other_n)}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      StateDict<float> bad = good;
      c.edit(bad);
      const std::string path = dir / "bad.npz";
      xgrad::save(bad, path, {"0.weight_packed"});
      try {
        xgrad::load(*net, path);
        BOOST_ERROR("loaded");
      } catch (const xgrad::ValueError& e) {
        for (const auto& w : c.words) BOOST_TEST(xgrad_test::contains(e.what(), w), e.what());
      }
      BOOST_TEST(xgrad_test::same_state(net->state_dict(), good));
    }
  }
  // A float member that is not bytes: refused by the byte buffer's check.
  StateDict<float> bad = good;
  bad[0].second(0) = 300;
  xgrad::save(bad, dir / "float_member.npz");
  BOOST_CHECK_EXCEPTION(xgrad::load(*net, dir / "float_member.npz"), xgrad::ValueError,
                        mentions<xgrad::ValueError>("\"0.weight_packed\"[0] = 300"));
  BOOST_TEST(xgrad_test::same_state(net->state_dict(), good));
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  Generator gen(11);
  const auto x = randn<double>({4, 6}, gen);
  auto net = converted<double>(std::make_shared<nn::Linear<double>>(6, 3, true, gen),
                               quant::apot_rcf_qconfig<double>(4), x);
  std::shared_ptr<Module<double>> layer = (*net)[0];
  r.push_back(forward_of("quantized::Linear: forward of the wrong width",
                         raises<ShapeError>("linear", {"[2, 5]", "[3, 6]"}), layer,
                         zeros<double>({2, 5})));
  r.push_back({"quantized::Linear: forward undefined",
               raises<ValueError>("quantized::Linear.forward", {"undefined"}),
               [layer] { layer->forward(D()); },
               {},
               {layer}});
  r.push_back({"quantized::Linear: fuse a pool without a ReLU",
               raises<ValueError>("quantized::Linear.fuse", {"relu false"}),
               [layer] {
                 layer->as<QuantizedLayer<double>>()->fuse(
                     false, QuantizedLayer<double>::FusedPool{2, 2, 0});
               },
               {},
               {layer}});
  r.push_back({"quantized::Linear: load a packed byte of 256",
               raises<ValueError>("Sequential::load_state_dict", {"0.weight_packed", "256"}),
               [net] {
                 auto d = net->state_dict();
                 d[0].second(2) = 256;
                 net->load_state_dict(d);
               },
               {},
               {net}});
  r.push_back({"register_byte_buffer: not a byte",
               raises<ValueError>("Module::register_byte_buffer", {"\"codes\"[1] = -1"}), [] {
                 Module<double> m;
                 m.register_byte_buffer("codes", Tensor<double>(xt::xarray<double>({1.0, -1.0})));
               }});
  r.push_back({"save: uint8 key not in the dict",
               raises<ValueError>("save", {"uint8 key", "\"nope\""}), [net] {
                 xgrad_test::TempDir dir;
                 save(net->state_dict(), dir / "x.npz", {"nope"});
               }});
  r.push_back({"save: uint8 member that is not bytes",
               raises<ValueError>("save", {"key \"0.bias\"", "is not a byte"}), [net] {
                 xgrad_test::TempDir dir;
                 save(net->state_dict(), dir / "x.npz", {"0.bias"});
               }});
}

BOOST_AUTO_TEST_SUITE_END()
