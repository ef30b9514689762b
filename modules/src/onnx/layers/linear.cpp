// nn::Linear -> Gemm(x, W, b, transB = 1) for [N, in] inputs; other ranks
// ([..., in], which xgrad's linear accepts) -> MatMul(x, Transpose(W)) + b.
#include "xgrad/nn/linear.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

std::string linear_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                         std::size_t rank, const std::string& w, const std::string& b) {
  if (rank == 2) {
    std::vector<std::string> inputs = {x, w};
    if (!b.empty()) inputs.push_back(b);
    return g.add_node(scope, "Gemm", inputs, {attr("transB", std::int64_t{1})});
  }
  std::string y = g.add_node(scope, "MatMul", {x, g.add_node(scope, "Transpose", {w})});
  if (!b.empty()) y = g.add_node(scope, "Add", {y, b});
  return y;
}

template <class T>
Value<T> export_linear(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<nn::Linear<T>&>(c.module);
  Value<T> out = ctx.run_forward(c);
  const std::size_t rank = c.input.dims.size();
  ctx.require_fixed(c, c.input, rank - 1, "in_features");
  GraphBuilder& g = ctx.graph();
  const std::string w = ctx.add_state(c, "weight", m.weight);
  const std::string b = ctx.add_state(c, "bias", m.bias);
  out.name = linear_nodes(g, ExportContext<T>::scope(c.path), c.input.name, rank, w, b);
  return out;
}

template Value<float> export_linear(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_linear(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
