// Pooling layers (xgrad pools with dilation 1 and floor rounding, ONNX's
// defaults):
// - MaxPool2d -> MaxPool (ONNX's padding never wins the max, as xgrad's -inf);
// - AvgPool2d -> AveragePool with count_include_pad = 1 (xgrad's padding
//   counts as zeros);
// - AdaptiveAvgPool2d -> GlobalAveragePool for a 1x1 output; AveragePool when
//   each output size divides the input's (equal windows); otherwise the
//   windows overlap or differ in size, and the mean is two products with
//   averaging matrices, Ph [OH, H] . x . Pw^T [W, OW], each row of Ph holding
//   1 / (rows in window i) over window i (PyTorch's windows: floor(i H / OH)
//   .. ceil((i + 1) H / OH) - 1).
#include "xgrad/nn/pool.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

namespace {

std::vector<Attribute> window_attributes(const nn::Pool2dOptions& o) {
  return {attr("kernel_shape", {o.kernel_size().h, o.kernel_size().w}),
          attr("strides", {o.stride().h, o.stride().w}),
          attr("pads", {o.padding().h, o.padding().w, o.padding().h, o.padding().w})};
}

// [out, in]: row i averages PyTorch's adaptive window i of `in` positions.
template <class T>
xt::xarray<T> averaging_matrix(std::int64_t out, std::int64_t in) {
  xt::xarray<T> p = xt::zeros<T>({static_cast<std::size_t>(out), static_cast<std::size_t>(in)});
  for (std::int64_t i = 0; i < out; ++i) {
    const std::int64_t start = i * in / out, end = ((i + 1) * in + out - 1) / out;
    for (std::int64_t j = start; j < end; ++j) p(i, j) = T(1) / static_cast<T>(end - start);
  }
  return p;
}

}  // namespace

template <class T>
Value<T> export_max_pool(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> out = ctx.run_forward(c);
  const auto& o = static_cast<nn::MaxPool2d<T>&>(c.module).options();
  out.name = ctx.graph().add_node(ExportContext<T>::scope(c.path), "MaxPool", {c.input.name},
                                  window_attributes(o));
  return out;
}

template <class T>
Value<T> export_avg_pool(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> out = ctx.run_forward(c);
  const auto& o = static_cast<nn::AvgPool2d<T>&>(c.module).options();
  std::vector<Attribute> attributes = window_attributes(o);
  attributes.push_back(attr("count_include_pad", std::int64_t{1}));
  out.name = ctx.graph().add_node(ExportContext<T>::scope(c.path), "AveragePool", {c.input.name},
                                  attributes);
  return out;
}

template <class T>
Value<T> export_adaptive_avg_pool(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> out = ctx.run_forward(c);
  ctx.require_fixed(c, c.input, 2, "height");
  ctx.require_fixed(c, c.input, 3, "width");
  const Size2 size = static_cast<nn::AdaptiveAvgPool2d<T>&>(c.module).options().output_size();
  const std::int64_t h = c.input.dims[2], w = c.input.dims[3];
  GraphBuilder& g = ctx.graph();
  const std::string scope = ExportContext<T>::scope(c.path);
  if (size.h == 1 && size.w == 1) {
    out.name = g.add_node(scope, "GlobalAveragePool", {c.input.name});
  } else if (h % size.h == 0 && w % size.w == 0) {
    const std::vector<std::int64_t> k = {h / size.h, w / size.w};
    out.name = g.add_node(scope, "AveragePool", {c.input.name},
                          {attr("kernel_shape", k), attr("strides", k)});
  } else {
    const xt::xarray<T> pw = xt::transpose(averaging_matrix<T>(size.w, w));
    const xt::xarray<T> ph = averaging_matrix<T>(size.h, h);
    const std::string rows =
        g.add_node(scope, "MatMul", {c.input.name, g.add_initializer(scope + "/pw_t", pw)});
    out.name = g.add_node(scope, "MatMul", {g.add_initializer(scope + "/ph", ph), rows});
  }
  return out;
}

template Value<float> export_max_pool(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_max_pool(ExportContext<double>&, const ExportCall<double>&);
template Value<float> export_avg_pool(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_avg_pool(ExportContext<double>&, const ExportCall<double>&);
template Value<float> export_adaptive_avg_pool(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_adaptive_avg_pool(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
