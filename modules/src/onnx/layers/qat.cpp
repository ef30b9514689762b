// QAT layers (qat::Linear, qat::Conv2d) export as their converted
// equivalent: the converted layer built from the QAT layer's current state
// (quantized::Linear::from_qat, as quant::convert would; the QAT layer is not
// changed), whose weight levels are the QAT layer's fake-quantized weight bit
// for bit. A weight quantizer with fake quant off exports the weight the
// forward uses (fake_quantized_weight(): normalized as configured) as a float
// initializer.
#include "../export_context.hpp"
#include "quant_nodes.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"

namespace xgrad::onnx::detail {

namespace {

// Q: the converted layer type of the QAT layer L.
template <class Q, class T, class L>
std::string qat_weight(GraphBuilder& g, const ExportCall<T>& c, L& layer) {
  if (!layer.weight_fake_quant->fake_quant_enabled()) {
    NoGradGuard no_grad;
    return g.add_initializer(ExportContext<T>::state_name(c.path, "weight"),
                             xt::xarray<T>(layer.fake_quantized_weight().data()));
  }
  return weight_from_codes(g, c.path, *Q::from_qat(layer));
}

template <class T, class L>
std::string qat_bias(GraphBuilder& g, const std::string& path, const L& layer) {
  return layer.bias.defined()
             ? g.add_initializer(ExportContext<T>::state_name(path, "bias"), layer.bias.data())
             : std::string();
}

}  // namespace

template <class T>
Value<T> export_qat_linear(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::qat::Linear<T>&>(c.module);
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  const std::size_t rank = c.input.dims.size();
  ctx.require_fixed(c, c.input, rank - 1, "in_features");
  const Value<T> x = quantized_input(ctx, c, m.input_fake_quant);
  GraphBuilder& g = ctx.graph();
  const std::string w = qat_weight<quant::quantized::Linear<T>>(g, c, m);
  out.name =
      linear_nodes(g, ExportContext<T>::scope(c.path), x.name, rank, w, qat_bias<T>(g, c.path, m));
  return out;
}

template <class T>
Value<T> export_qat_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<quant::qat::Conv2d<T>&>(c.module);
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  ctx.require_fixed(c, c.input, 1, "channels");
  const Value<T> x = quantized_input(ctx, c, m.input_fake_quant);
  GraphBuilder& g = ctx.graph();
  const std::string w = qat_weight<quant::quantized::Conv2d<T>>(g, c, m);
  out.name = conv_nodes(g, ExportContext<T>::scope(c.path), x.name, w, qat_bias<T>(g, c.path, m),
                        m.options());
  return out;
}

template Value<float> export_qat_linear(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_qat_linear(ExportContext<double>&, const ExportCall<double>&);
template Value<float> export_qat_conv2d(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_qat_conv2d(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
