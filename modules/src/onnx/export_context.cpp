#include "export_context.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::onnx::detail {

namespace {

// "xgrad::nn::Linear<float>" rather than "N5xgrad2nn6LinearIfEE".
std::string cxx_type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

}  // namespace

template <class T>
std::string ExportContext<T>::describe(const std::string& path, const Module<T>& module) {
  return (path.empty() ? std::string("the root module") : "'" + path + "'") + " (" +
         module.type_name() + ")";
}

template <class T>
Value<T> ExportContext<T>::export_module(const std::string& path, Module<T>& module,
                                         const Value<T>& input) {
  const Exporter<T>* exporter = registry_.find(module);
  XGRAD_CHECK(exporter, TypeError, "onnx::export_model: cannot export ", describe(path, module),
              ", C++ type ", cxx_type_name(typeid(module)),
              ": there is no ONNX exporter for it. Exportable: ", registry_.names(),
              " (a custom Module with its own forward cannot be walked: build the model from "
              "these layers and nn::Sequential)");
  Value<T> out = (*exporter)(*this, ExportCall<T>{path, module, input});
  if (out.name != input.name && !out.name.empty()) graph_.add_value_info(out.name, out.dims);
  return out;
}

template <class T>
Value<T> ExportContext<T>::run_forward(const ExportCall<T>& call) {
  const std::string where = "onnx::export_model: " + describe(call.path, call.module) +
                            " on the input " + to_string(call.input.example.shape()) + ": ";
  Tensor<T> y;
  try {
    NoGradGuard no_grad;
    y = call.module.forward(call.input.example);
  } catch (const ShapeError& e) {
    throw ShapeError(where + e.what());
  } catch (const ValueError& e) {
    throw ValueError(where + e.what());
  } catch (const TypeError& e) {
    throw TypeError(where + e.what());
  } catch (const StateError& e) {
    throw StateError(where + e.what());
  } catch (const IOError& e) {
    throw IOError(where + e.what());
  } catch (const ResourceError& e) {
    throw ResourceError(where + e.what());
  } catch (const Error& e) {
    throw Error(where + e.what());
  }
  XGRAD_CHECK(y.defined(), StateError, where, "its forward returned an undefined tensor");
  Value<T> out;
  out.example = y;
  for (std::size_t d : y.shape()) out.dims.push_back(static_cast<std::int64_t>(d));
  if (!out.dims.empty() && !call.input.dims.empty() && call.input.dims[0] < 0) {
    out.dims[0] = call.input.dims[0];
  }
  return out;
}

template <class T>
void ExportContext<T>::require_fixed(const ExportCall<T>& call, const Value<T>& value,
                                     std::size_t axis, const std::string& what) const {
  if (axis < value.dims.size() && value.dims[axis] >= 0) return;
  throw_error<ShapeError>(
      "onnx::export_model: ", describe(call.path, call.module), " reads axis ", axis,
      " of its input ", value.example.shape(), " as its ", what, ", but that axis ",
      value.dims[axis] == kBatchDim ? "is the free batch axis" : "depends on the batch size",
      "; give the model a batch axis first, or export with ExportOptions::dynamic_batch = false");
}

template <class T>
std::string ExportContext<T>::add_state(const ExportCall<T>& call, const std::string& local,
                                        const Tensor<T>& t) {
  return t.defined() ? graph_.add_initializer(state_name(call.path, local), t.data())
                     : std::string();
}

template class ExportContext<float>;
template class ExportContext<double>;

}  // namespace xgrad::onnx::detail
