// export_model: options and argument checks, eval mode for the walk, the
// ModelProto around the graph, ONNX's checker, then an all-or-nothing write.
#include "xgrad/onnx/export.hpp"

#include <climits>
#include <vector>

#include "export_context.hpp"
#include "model_check.hpp"
#include "xgrad/detail/replace_file.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::onnx {

namespace {

const char* const kWhere = "onnx::export_model";

void check_options(const ExportOptions& o) {
  const char* at = "onnx::export_model: ExportOptions::";
  XGRAD_CHECK(!o.input_name.empty(), ValueError, at, "input_name is empty");
  XGRAD_CHECK(!o.output_name.empty(), ValueError, at, "output_name is empty");
  XGRAD_CHECK(o.input_name != o.output_name, ValueError, at,
              "input_name and output_name are both \"", o.input_name,
              "\" (an ONNX tensor has one name)");
  XGRAD_CHECK(o.opset_version >= kMinOpset && o.opset_version <= kMaxOpset, ValueError, at,
              "opset_version is ", o.opset_version, ", expected ", kMinOpset, " to ", kMaxOpset);
  XGRAD_CHECK(!o.graph_name.empty(), ValueError, at, "graph_name is empty");
}

// Puts the whole tree in eval mode for its lifetime, then gives every module
// its own training flag back (pre-order, so a parent's recursive train() is
// undone by its children's own flags after it).
template <class T>
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module<T>& module) : module_(module) {
    module_.apply([this](Module<T>& m) { flags_.push_back(m.is_training()); });
    module_.eval();
  }
  ~EvalModeGuard() {
    std::size_t i = 0;
    module_.apply([this, &i](Module<T>& m) {
      if (i < flags_.size()) m.train(flags_[i++]);
    });
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Module<T>& module_;
  std::vector<bool> flags_;
};

template <class T>
constexpr std::int32_t elem_type() {
  return std::is_same<T, float>::value ? ::onnx::TensorProto::FLOAT : ::onnx::TensorProto::DOUBLE;
}

}  // namespace

bool is_available() { return true; }

template <class T>
void export_model(Module<T>& module, const Tensor<T>& example_input, const std::string& path,
                  const ExportOptions& options) {
  check_options(options);
  XGRAD_CHECK(example_input.defined(), ValueError, kWhere, ": example_input is undefined");
  XGRAD_CHECK(example_input.dim() != 0, ShapeError, kWhere,
              ": example_input is 0-d; it needs a batch axis (axis 0), e.g. [1, features]");
  XGRAD_CHECK(!path.empty(), ValueError, kWhere, ": path is empty");

  ::onnx::ModelProto model;
  model.set_ir_version(::onnx::IR_VERSION);
  model.set_producer_name("xgrad");
  model.set_producer_version(XGRAD_VERSION);
  ::onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset_version);
  ::onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name(options.graph_name);
  if (!options.doc_string.empty()) graph->set_doc_string(options.doc_string);

  {
    EvalModeGuard<T> eval(module);
    detail::GraphBuilder builder(graph, elem_type<T>());
    detail::Value<T> input;
    input.name = options.input_name;
    input.example = example_input;
    for (std::size_t d : example_input.shape()) input.dims.push_back(static_cast<std::int64_t>(d));
    if (options.dynamic_batch) input.dims[0] = detail::kBatchDim;
    builder.add_input(input.name, input.dims);
    detail::ExportContext<T> ctx(builder, detail::builtin_registry<T>(), options);
    const detail::Value<T> output = ctx.export_module("", module, input);
    builder.set_output(output.name, options.output_name, output.dims);
  }

  detail::check_model(model);
  const std::size_t size = model.ByteSizeLong();
  XGRAD_CHECK(size <= static_cast<std::size_t>(INT_MAX), ValueError, kWhere,
              ": the model would be ", size,
              " bytes, above protobuf's 2 GiB limit for one message");
  std::string bytes;
  XGRAD_CHECK(model.SerializeToString(&bytes), ValueError, kWhere,
              ": protobuf could not serialize the model");
  xgrad::detail::replace_file_with_bytes(path, kWhere, bytes);
}

template void export_model<float>(Module<float>&, const Tensor<float>&, const std::string&,
                                  const ExportOptions&);
template void export_model<double>(Module<double>&, const Tensor<double>&, const std::string&,
                                   const ExportOptions&);

}  // namespace xgrad::onnx
