// nn::Conv2d -> Conv(x, W, b) with its strides, pads (the same on both sides
// of an axis, as xgrad pads), dilations and group.
#include "xgrad/nn/conv.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

std::string conv_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                       const std::string& w, const std::string& b, const nn::Conv2dOptions& o) {
  std::vector<std::string> inputs = {x, w};
  if (!b.empty()) inputs.push_back(b);
  return g.add_node(
      scope, "Conv", inputs,
      {attr("kernel_shape", {o.kernel_size().h, o.kernel_size().w}),
       attr("strides", {o.stride().h, o.stride().w}),
       attr("pads", {o.padding().h, o.padding().w, o.padding().h, o.padding().w}),
       attr("dilations", {o.dilation().h, o.dilation().w}), attr("group", o.groups())});
}

template <class T>
Value<T> export_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<nn::Conv2d<T>&>(c.module);
  Value<T> out = ctx.run_forward(c);
  ctx.require_fixed(c, c.input, 1, "channels");
  GraphBuilder& g = ctx.graph();
  const std::string w = ctx.add_state(c, "weight", m.weight);
  const std::string b = ctx.add_state(c, "bias", m.bias);
  out.name = conv_nodes(g, ExportContext<T>::scope(c.path), c.input.name, w, b, m.options());
  return out;
}

template Value<float> export_conv2d(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_conv2d(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
