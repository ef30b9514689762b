// Activations, one ONNX op each: ReLU -> Relu, Sigmoid -> Sigmoid, Tanh ->
// Tanh, Softmax(dim) -> Softmax(axis), LogSoftmax(dim) -> LogSoftmax(axis)
// (opset 13's single-axis Softmax, as xgrad's).
#include "xgrad/nn/activation.hpp"

#include "../export_context.hpp"

namespace xgrad {
namespace onnx {
namespace detail {

namespace {

template <class T>
Exporter<T> elementwise(const char* op) {
  return [op](ExportContext<T>& ctx, const ExportCall<T>& c) {
    Value<T> out = ctx.run_forward(c);
    out.name = ctx.graph().add_node(ExportContext<T>::scope(c.path), op, {c.input.name});
    return out;
  };
}

// M: Softmax or LogSoftmax; the axis as a non-negative index (forward has
// checked it against the input's rank).
template <class T, class M>
Exporter<T> along_axis(const char* op) {
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

}  // namespace

template <class T>
void register_activation(Registry<T>& r) {
  r.template add<nn::ReLU<T>>("ReLU", elementwise<T>("Relu"));
  r.template add<nn::Sigmoid<T>>("Sigmoid", elementwise<T>("Sigmoid"));
  r.template add<nn::Tanh<T>>("Tanh", elementwise<T>("Tanh"));
  r.template add<nn::Softmax<T>>("Softmax", along_axis<T, nn::Softmax<T>>("Softmax"));
  r.template add<nn::LogSoftmax<T>>("LogSoftmax", along_axis<T, nn::LogSoftmax<T>>("LogSoftmax"));
}

template void register_activation<float>(Registry<float>&);
template void register_activation<double>(Registry<double>&);

}  // namespace detail
}  // namespace onnx
}  // namespace xgrad
