// The quantizers and quantized layers ONNX export covers (docs/onnx.md,
// "Quantized models"), in the form of layer_cases.hpp: the export suite
// checks the nodes, the runtime suite what ONNX Runtime computes.
//
// Bounds. A quantizer's graph computes xgrad's formula operation for
// operation in the same type (the inverse scale rounded as xgrad rounds it,
// QuantizeLinear at scale 1, the nearest level by the same rounded distances
// and the same tie rule), so its results are bit-identical: Bound::exact.
// A quantized layer quantizes its input that way (identical), then sums
// products with the identical weight levels: Bound::sums with A = |W| |xq| +
// |b|, xq the quantized input, W the levels (quantized_magnitude).
#pragma once

#include "onnx/layer_cases.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/qat/qconfig.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"

namespace onnx_cases {

namespace quant = xgrad::quant;

// Observers on for a calibration batch of `sample` (batch 8, values in
// [low, 2)), then frozen: observers off, fake quant on. QAT layers take low = 0,
// the ReLU outputs they see in a network (calibrate refuses negative inputs
// for an unsigned input set).
inline void calibrated(Module<float>& m, const Shape& sample, std::uint64_t seed,
                       float low = -2.0f) {
  Shape shape = {8};
  shape.insert(shape.end(), sample.begin(), sample.end());
  xgrad::Generator gen(seed);
  quant::calibrate(m, {xgrad::rand<float>(shape, gen, low, 2.0f)});
  quant::freeze(m);
}

template <class M>
std::function<ModulePtr()> calibrated_maker(std::function<std::shared_ptr<M>()> make, Shape sample,
                                            float low = -2.0f) {
  return [=] {
    std::shared_ptr<M> m = make();
    calibrated(*m, sample, 5, low);
    return std::static_pointer_cast<Module<float>>(m);
  };
}

// A of Bound::sums for a QAT or converted Linear / Conv2d.
inline xt::xarray<float> quantized_magnitude(Module<float>& m, const xt::xarray<float>& x) {
  using xgrad::Tensor;
  xgrad::NoGradGuard no_grad;
  const Tensor<float> in(x);
  Tensor<float> xq, w, b;
  const xgrad::nn::Conv2dOptions* conv = nullptr;
  if (auto* q = dynamic_cast<quant::quantized::QuantizedLayer<float>*>(&m)) {
    xq = q->quantized_input(in), w = q->dequantized_weight(), b = q->bias;
    if (auto* c = m.as<quant::quantized::Conv2d<float>>()) conv = &c->options();
  } else {
    auto& l = dynamic_cast<quant::qat::FakeQuantizedLayer<float>&>(m);
    xq = l.fake_quantized_input(in), w = l.fake_quantized_weight(), b = l.bias;
    if (auto* c = m.as<quant::qat::Conv2d<float>>()) conv = &c->options();
  }
  const auto abs_of = [](const Tensor<float>& t) { return t.defined() ? xgrad::abs(t) : t; };
  if (conv) {
    return xgrad::conv2d(abs_of(xq), abs_of(w), abs_of(b), conv->stride(), conv->padding(),
                         conv->dilation(), conv->groups())
        .data();
  }
  return xgrad::linear(abs_of(xq), abs_of(w), abs_of(b)).data();
}

inline std::vector<LayerCase> quant_cases() {
  using nn::Conv2dOptions;
  using F = float;
  const std::vector<std::string> rcf_ops = {"Div", "Clip", "Sub", "Abs", "ArgMin", "Gather", "Mul"};
  const auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const auto qat_linear = [](quant::QConfig<F> cfg) {
    return [cfg] {
      xgrad::Generator gen(21);
      return std::make_shared<quant::qat::Linear<F>>(7, 5, true, cfg, gen);
    };
  };
  const auto qat_conv = [](quant::QConfig<F> cfg) {
    return [cfg] {
      xgrad::Generator gen(22);
      return std::make_shared<quant::qat::Conv2d<F>>(Conv2dOptions(3, 12, 3).padding(1), cfg, gen);
    };
  };
  const auto converted_linear = [qat_linear](quant::QConfig<F> cfg) {
    return [=] {
      auto q = qat_linear(cfg)();
      calibrated(*q, {7}, 5, 0.0f);
      return quant::quantized::Linear<F>::from_qat(*q);
    };
  };
  const auto converted_conv = [qat_conv](quant::QConfig<F> cfg) {
    return [=] {
      auto q = qat_conv(cfg)();
      calibrated(*q, {3, 6, 5}, 5, 0.0f);
      return quant::quantized::Conv2d<F>::from_qat(*q);
    };
  };
  quant::LearnableFakeQuantizeOptions<F> lsq;
  lsq.quant_min = 0, lsq.quant_max = 15, lsq.scale = 0.27f, lsq.zero_point = 4.4f;
  quant::LearnableFakeQuantizeOptions<F> lsq_channels;
  lsq_channels.quant_min = -8, lsq_channels.quant_max = 7, lsq_channels.channel_len = 4;
  lsq_channels.ch_axis = 1, lsq_channels.dtype = quant::QuantDtype::qint8;
  lsq_channels.qscheme = quant::QScheme::per_channel_affine;
  quant::RCFOptions<F> rcf;
  rcf.alpha = 1.37f;
  const std::vector<std::string> gather = {"Cast", "Gather"};
  return {
      {"fake_quantize_uint8",
       calibrated_maker<quant::FakeQuantize<F>>(
           [] { return std::make_shared<quant::FakeQuantize<F>>(); }, {3, 4}),
       {3, 4},
       {"Mul", "QuantizeLinear", "DequantizeLinear"},
       Bound::exact},
      {"fake_quantize_4bit_qcdq",
       calibrated_maker<quant::FakeQuantize<F>>(
           [] {
             return std::make_shared<quant::FakeQuantize<F>>(
                 quant::QuantDtype::quint8, quant::QScheme::per_tensor_affine, 0, 15);
           },
           {5}),
       {5},
       {"Mul", "QuantizeLinear", "Clip", "DequantizeLinear"},
       Bound::exact},
      {"per_channel_fake_quantize_axis1",
       calibrated_maker<quant::PerChannelFakeQuantize<F>>(
           [] { return std::make_shared<quant::PerChannelFakeQuantize<F>>(1); }, {3, 4, 2}),
       {3, 4, 2},
       {"Mul", "QuantizeLinear", "DequantizeLinear"},
       Bound::exact},
      {"lsq_fake_quantize_4bit",
       [lsq] {
         auto m = std::make_shared<quant::LearnableFakeQuantize<F>>(lsq);
         m->enable_param_learning();  // observer off: the given scale and zero point
         return std::static_pointer_cast<Module<F>>(m);
       },
       {6},
       {"Mul", "QuantizeLinear", "Clip", "DequantizeLinear"},
       Bound::exact},
      {"lsq_fake_quantize_per_channel_int4",
       [lsq_channels] {
         auto m = std::make_shared<quant::LearnableFakeQuantize<F>>(lsq_channels);
         m->enable_param_learning();
         xgrad::Generator gen(24);  // scales in [0.1, 0.5), zero points in [-3, 3)
         auto state = m->state_dict();
         for (auto& kv : state) {
           if (kv.first == "scale") kv.second = xgrad::rand<F>({4}, gen, 0.1f, 0.5f).data();
           if (kv.first == "zero_point") kv.second = xgrad::rand<F>({4}, gen, -3.0f, 3.0f).data();
         }
         m->load_state_dict(state);
         return std::static_pointer_cast<Module<F>>(m);
       },
       {4, 3},
       {"Mul", "QuantizeLinear", "Clip", "DequantizeLinear"},
       Bound::exact},
      {"apot_fake_quantize",
       calibrated_maker<quant::APoTFakeQuantize<F>>(
           [] { return std::make_shared<quant::APoTFakeQuantize<F>>(4, 2); }, {3, 5}),
       {3, 5},
       {"Clip", "Sub", "Abs", "ArgMin", "Gather"},
       Bound::exact},
      {"rcf_fake_quantize_signed",
       [rcf] {
         auto m =
             std::make_shared<quant::RCFFakeQuantize<F>>(quant::apot_sign_magnitude_levels(4), rcf);
         quant::freeze(*m);
         return std::static_pointer_cast<Module<F>>(m);
       },
       {2, 3},
       rcf_ops,
       Bound::exact},
      {"qat_linear_apot_rcf",
       calibrated_maker<quant::qat::Linear<F>>(qat_linear(quant::apot_rcf_qconfig<F>(4)), {7},
                                               0.0f),
       {7},
       with(with(rcf_ops, gather), {"Gemm"}),
       Bound::sums,
       7 + 1,
       quantized_magnitude},
      {"converted_conv_apot_rcf",
       converted_conv(quant::apot_rcf_qconfig<F>(4)),
       {3, 6, 5},
       with(with(rcf_ops, gather), {"Conv"}),
       Bound::sums,
       27 + 1,
       quantized_magnitude},
      {"converted_linear_lsq",
       converted_linear(quant::uniform_lsq_qconfig<F>(4)),
       {7},
       with({"Mul", "QuantizeLinear", "Clip", "DequantizeLinear"}, with(gather, {"Gemm"})),
       Bound::sums,
       7 + 1,
       quantized_magnitude},
      // 12 channels of 27 weights, each with its own scale: more than 256
      // distinct values, so one level table per channel (GatherElements).
      {"converted_conv_per_channel_uint8",
       converted_conv(quant::uniform_qconfig<F>(8, true)),
       {3, 6, 5},
       {"Mul", "QuantizeLinear", "DequantizeLinear", "Cast", "GatherElements", "Reshape", "Conv"},
       Bound::sums,
       27 + 1,
       quantized_magnitude},
      {"linear_apot",
       [] {
         xgrad::Generator gen(23);
         return std::static_pointer_cast<Module<F>>(
             std::make_shared<quant::LinearAPoT<F>>(xgrad::rand<F>({5, 7}, gen, -1.0f, 1.0f), 4, 2,
                                                    xgrad::rand<F>({5}, gen, -1.0f, 1.0f)));
       },
       {7},
       {"Cast", "Gather", "Gemm"},
       Bound::sums,
       7 + 1,
       quantized_magnitude},
  };
}

}  // namespace onnx_cases
