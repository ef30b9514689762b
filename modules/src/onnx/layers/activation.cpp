// Activations, one ONNX op each: ReLU -> Relu, Sigmoid -> Sigmoid, Tanh ->
// Tanh, Softmax(dim) -> Softmax(axis), LogSoftmax(dim) -> LogSoftmax(axis)
// (opset 13's single-axis Softmax, as xgrad's).
#include "xgrad/nn/activation.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

template <class T>
Exporter<T> elementwise_exporter(const char* op) {
  return [op](ExportContext<T>& ctx, const ExportCall<T>& c) {
    Value<T> out = ctx.run_forward(c);
    out.name = ctx.graph().add_node(ExportContext<T>::scope(c.path), op, {c.input.name});
    return out;
  };
}

// M: Softmax or LogSoftmax; the axis as a non-negative index (forward has
// checked it against the input's rank).
template <class T, class M>
Exporter<T> along_axis_exporter(const char* op) {
  return [op](ExportContext<T>& ctx, const ExportCall<T>& c) {
    Value<T> out = ctx.run_forward(c);
    const auto rank = static_cast<std::int64_t>(c.input.dims.size());
    std::int64_t axis = static_cast<const M&>(c.module).dim();
    if (axis < 0) axis += rank;
    out.name = ctx.graph().add_node(ExportContext<T>::scope(c.path), op, {c.input.name},
                                    {attr("axis", axis)});
    return out;
  };
}

template Exporter<float> elementwise_exporter(const char*);
template Exporter<double> elementwise_exporter(const char*);
template Exporter<float> along_axis_exporter<float, nn::Softmax<float>>(const char*);
template Exporter<double> along_axis_exporter<double, nn::Softmax<double>>(const char*);
template Exporter<float> along_axis_exporter<float, nn::LogSoftmax<float>>(const char*);
template Exporter<double> along_axis_exporter<double, nn::LogSoftmax<double>>(const char*);

}  // namespace xgrad::onnx::detail
