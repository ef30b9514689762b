// Converted layers (quantized::Linear, LinearAPoT, quantized::Conv2d): the
// input quantizer, then the weight as its codes gathered from the level
// table (weight_from_codes, quant_nodes.hpp), then Gemm / MatMul or Conv as
// the float layers: the runtime multiplies by exactly the levels xgrad uses.
#include "../export_context.hpp"
#include "quant_nodes.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"

namespace xgrad::onnx::detail {

namespace {

template <class T>
std::string bias_of(GraphBuilder& g, const std::string& path,
                    const quant::quantized::QuantizedLayer<T>& layer) {
  return layer.bias.defined()
             ? g.add_initializer(ExportContext<T>::state_name(path, "bias"), layer.bias.data())
             : std::string();
}

}  // namespace

template <class T>
Value<T> export_quantized_linear(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::quantized::Linear<T>&>(c.module);  // or LinearAPoT
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  const std::size_t rank = c.input.dims.size();
  ctx.require_fixed(c, c.input, rank - 1, "in_features");
  const Value<T> x = quantized_input(ctx, c, m.input_fake_quant);
  GraphBuilder& g = ctx.graph();
  const std::string w = weight_from_codes(g, c.path, m);
  out.name =
      linear_nodes(g, ExportContext<T>::scope(c.path), x.name, rank, w, bias_of(g, c.path, m));
  return out;
}

template <class T>
Value<T> export_quantized_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::quantized::Conv2d<T>&>(c.module);
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  ctx.require_fixed(c, c.input, 1, "channels");
  const Value<T> x = quantized_input(ctx, c, m.input_fake_quant);
  GraphBuilder& g = ctx.graph();
  const std::string w = weight_from_codes(g, c.path, m);
  out.name =
      conv_nodes(g, ExportContext<T>::scope(c.path), x.name, w, bias_of(g, c.path, m), m.options());
  return out;
}

template Value<float> export_quantized_linear(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_quantized_linear(ExportContext<double>&, const ExportCall<double>&);
template Value<float> export_quantized_conv2d(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_quantized_conv2d(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
