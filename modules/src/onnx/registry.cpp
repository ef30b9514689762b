// The one table of exporters: module type -> ONNX nodes. Phase 2's quantized
// layers register here too.
#include "export_context.hpp"

namespace xgrad {
namespace onnx {
namespace detail {

template <class T>
const Exporter<T>* Registry<T>::find(const Module<T>& module) const {
  const auto it = table_.find(std::type_index(typeid(module)));
  return it == table_.end() ? nullptr : &it->second.exporter;
}

template <class T>
std::string Registry<T>::names() const {
  std::string out;
  for (const std::string& n : names_) out += (out.empty() ? "" : ", ") + n;
  return out;
}

template <class T>
const Registry<T>& builtin_registry() {
  static const Registry<T> registry = [] {
    Registry<T> r;
    register_sequential(r);
    register_linear(r);
    register_conv(r);
    register_batchnorm(r);
    register_pool(r);
    register_activation(r);
    register_shape(r);
    return r;
  }();
  return registry;
}

template class Registry<float>;
template class Registry<double>;
template const Registry<float>& builtin_registry<float>();
template const Registry<double>& builtin_registry<double>();

}  // namespace detail
}  // namespace onnx
}  // namespace xgrad
