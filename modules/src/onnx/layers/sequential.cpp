// nn::Sequential: its registered children in order, each exported through
// the registry at "<path>.<name>"; an empty one passes its input through.
#include "xgrad/nn/sequential.hpp"

#include "../export_context.hpp"

namespace xgrad::onnx::detail {

template <class T>
Value<T> export_sequential(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> v = c.input;
  for (const auto& child : c.module.named_children()) {
    v = ctx.export_module(ExportContext<T>::state_name(c.path, child.first), *child.second, v);
  }
  return v;
}

template Value<float> export_sequential(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_sequential(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
