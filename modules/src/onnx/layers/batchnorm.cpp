// nn::BatchNorm1d / BatchNorm2d, as in eval mode:
// - with running statistics: BatchNormalization(x, weight, bias, running_mean,
//   running_var, epsilon) (ones / zeros for weight / bias without affine);
// - without (track_running_stats = false, so xgrad normalizes with the batch's
//   own statistics in eval too): the same arithmetic in standard ops, the
//   biased variance over every axis but the channel's:
//   d = x - ReduceMean(x), y = d / Sqrt(ReduceMean(d * d) + eps) * weight + bias.
#include "xgrad/nn/batchnorm.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

template <class T>
Value<T> export_batchnorm(ExportContext<T>& ctx, const ExportCall<T>& c) {
  auto& m = static_cast<nn::BatchNormBase<T>&>(c.module);
  Value<T> out = ctx.run_forward(c);
  ctx.require_fixed(c, c.input, 1, "channels");
  GraphBuilder& g = ctx.graph();
  const std::string scope = ExportContext<T>::scope(c.path);
  const auto name = [&](const char* local) { return ExportContext<T>::state_name(c.path, local); };
  const auto channels = static_cast<std::int64_t>(m.num_features());
  const std::size_t rank = c.input.dims.size();

  if (m.running_mean.defined()) {
    const std::string scale =
        m.weight.defined() ? g.add_initializer(name("weight"), m.weight.data())
                           : g.add_constant(scope + "/ones",
                                            std::vector<double>(m.num_features(), 1.0), {channels});
    const std::string shift =
        m.bias.defined() ? g.add_initializer(name("bias"), m.bias.data())
                         : g.add_constant(scope + "/zeros",
                                          std::vector<double>(m.num_features(), 0.0), {channels});
    out.name = g.add_node(
        scope, "BatchNormalization",
        {c.input.name, scale, shift, g.add_initializer(name("running_mean"), m.running_mean.data()),
         g.add_initializer(name("running_var"), m.running_var.data())},
        {attr("epsilon", static_cast<float>(m.eps()))});
    return out;
  }

  std::vector<std::int64_t> axes = {0};
  for (std::size_t a = 2; a < rank; ++a) axes.push_back(static_cast<std::int64_t>(a));
  const std::vector<Attribute> reduce = {attr("axes", axes), attr("keepdims", std::int64_t{1})};
  const std::string mean = g.add_node(scope, "ReduceMean", {c.input.name}, reduce);
  const std::string d = g.add_node(scope, "Sub", {c.input.name, mean});
  const std::string var =
      g.add_node(scope, "ReduceMean", {g.add_node(scope, "Mul", {d, d})}, reduce);
  const std::string eps = g.add_constant(scope + "/epsilon", {m.eps()}, {});
  out.name = g.add_node(scope, "Div",
                        {d, g.add_node(scope, "Sqrt", {g.add_node(scope, "Add", {var, eps})})});
  if (m.weight.defined()) {
    // [C] as [C, 1, ...]: broadcast along the axes after the channel's.
    xt::xarray<T> w = m.weight.data(), b = m.bias.data();
    std::vector<std::size_t> shape(rank - 1, 1);
    shape[0] = m.num_features();
    w.reshape(shape);
    b.reshape(shape);
    out.name = g.add_node(scope, "Mul", {out.name, g.add_initializer(name("weight"), w)});
    out.name = g.add_node(scope, "Add", {out.name, g.add_initializer(name("bias"), b)});
  }
  return out;
}

template Value<float> export_batchnorm(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_batchnorm(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
