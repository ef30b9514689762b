// Converted layers (quantized::Linear, LinearAPoT, quantized::Conv2d) and
// QAT layers (qat::Linear, qat::Conv2d): the input quantizer, then the
// weight, then Gemm / MatMul or Conv as the float layers.
// - Converted: the weight is its codes gathered from the level table
//   (weight_from_codes, quant_nodes.hpp): the runtime multiplies by exactly
//   the levels xgrad uses.
// - QAT: exported as its converted equivalent, the layer quant::convert would
//   make of it (from_qat, built on the side: the QAT layer is not changed),
//   whose levels are the QAT layer's fake-quantized weight bit for bit. With
//   the weight quantizer's fake quant off, the weight its forward uses
//   (fake_quantized_weight(): normalized as configured) as a float initializer.
#include "../export_context.hpp"
#include "quant_nodes.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"

namespace xgrad::onnx::detail {

namespace {

// What the four exporters share; `conv` null for a linear layer.
template <class T>
Value<T> layer_nodes(ExportContext<T>& ctx, const ExportCall<T>& c,
                     const std::shared_ptr<quant::FakeQuantizeBase<T>>& input_quantizer,
                     const std::function<std::string()>& weight, const Tensor<T>& bias,
                     const nn::Conv2dOptions* conv) {
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  const std::size_t rank = c.input.dims.size();
  if (conv) {
    ctx.require_fixed(c, c.input, 1, "channels");
  } else {
    ctx.require_fixed(c, c.input, rank - 1, "in_features");
  }
  const Value<T> x = quantized_input(ctx, c, input_quantizer);
  GraphBuilder& g = ctx.graph();
  const std::string w = weight();
  const std::string b = ctx.add_state(c, "bias", bias);
  const std::string scope = ExportContext<T>::scope(c.path);
  out.name =
      conv ? conv_nodes(g, scope, x.name, w, b, *conv) : linear_nodes(g, scope, x.name, rank, w, b);
  return out;
}

// The weight of QAT layer L, whose converted type is Q.
template <class Q, class T, class L>
std::function<std::string()> qat_weight(GraphBuilder& g, const ExportCall<T>& c, L& layer) {
  return [&g, &c, &layer] {
    if (!layer.weight_fake_quant->fake_quant_enabled()) {
      NoGradGuard no_grad;
      return g.add_initializer(ExportContext<T>::state_name(c.path, "weight"),
                               xt::xarray<T>(layer.fake_quantized_weight().data()));
    }
    return weight_from_codes(g, c.path, *Q::from_qat(layer));
  };
}

}  // namespace

template <class T>
Value<T> export_quantized_linear(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::quantized::Linear<T>&>(c.module);  // or LinearAPoT
  return layer_nodes<T>(
      ctx, c, m.input_fake_quant, [&] { return weight_from_codes(ctx.graph(), c.path, m); }, m.bias,
      nullptr);
}

template <class T>
Value<T> export_quantized_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::quantized::Conv2d<T>&>(c.module);
  return layer_nodes<T>(
      ctx, c, m.input_fake_quant, [&] { return weight_from_codes(ctx.graph(), c.path, m); }, m.bias,
      &m.options());
}

template <class T>
Value<T> export_qat_linear(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::qat::Linear<T>&>(c.module);
  return layer_nodes<T>(ctx, c, m.input_fake_quant,
                        qat_weight<quant::quantized::Linear<T>>(ctx.graph(), c, m), m.bias,
                        nullptr);
}

template <class T>
Value<T> export_qat_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::qat::Conv2d<T>&>(c.module);
  return layer_nodes<T>(ctx, c, m.input_fake_quant,
                        qat_weight<quant::quantized::Conv2d<T>>(ctx.graph(), c, m), m.bias,
                        &m.options());
}

#define XGRAD_ONNX_QUANTIZED_LAYERS(T)                                                \
  template Value<T> export_quantized_linear(ExportContext<T>&, const ExportCall<T>&); \
  template Value<T> export_quantized_conv2d(ExportContext<T>&, const ExportCall<T>&); \
  template Value<T> export_qat_linear(ExportContext<T>&, const ExportCall<T>&);       \
  template Value<T> export_qat_conv2d(ExportContext<T>&, const ExportCall<T>&);
XGRAD_ONNX_QUANTIZED_LAYERS(float)
XGRAD_ONNX_QUANTIZED_LAYERS(double)

}  // namespace xgrad::onnx::detail
