// nn::Sequential: its registered children in order, each exported through
// the registry at "<path>.<name>"; an empty one passes its input through.
#include "xgrad/nn/sequential.hpp"

#include "../export_context.hpp"

namespace xgrad {
namespace onnx {
namespace detail {

namespace {

template <class T>
Value<T> export_sequential(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> v = c.input;
  for (const auto& child : c.module.named_children()) {
    v = ctx.export_module(ExportContext<T>::state_name(c.path, child.first), *child.second, v);
  }
  return v;
}

}  // namespace

template <class T>
void register_sequential(Registry<T>& r) {
  r.template add<nn::Sequential<T>>("Sequential", export_sequential<T>);
}

template void register_sequential<float>(Registry<float>&);
template void register_sequential<double>(Registry<double>&);

}  // namespace detail
}  // namespace onnx
}  // namespace xgrad
