// export_model when xgrad was configured without ONNX (the `onnx` meson
// feature found no libonnx / protobuf): the same API, a clear error.
#include "xgrad/errors.hpp"
#include "xgrad/onnx/export.hpp"

namespace xgrad::onnx {

bool is_available() { return false; }

template <class T>
void export_model(Module<T>&, const Tensor<T>&, const std::string&, const ExportOptions&) {
  throw StateError(
      "onnx::export_model: this xgrad was built without ONNX export (the `onnx` meson "
      "feature found no libonnx and protobuf): install libonnx-dev and libprotobuf-dev "
      "(Debian), then reconfigure the build");
}

template void export_model<float>(Module<float>&, const Tensor<float>&, const std::string&,
                                  const ExportOptions&);
template void export_model<double>(Module<double>&, const Tensor<double>&, const std::string&,
                                   const ExportOptions&);

}  // namespace xgrad::onnx
