// The export walk (internal to libxgrad_onnx): a Value is a tensor of the
// graph together with its value for the example input; an Exporter turns one
// module applied to a Value into ONNX nodes; the Registry maps a module's
// exact C++ type to its Exporter (one table: registry.cpp); ExportContext
// walks the tree, running each layer's forward on the example so that every
// shape is known and every layer's own input checks run.
//
// Adding a layer: write `Value<T> export_x(ExportContext<T>&, const
// ExportCall<T>&)` in layers/, and one line in registry.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "graph_builder.hpp"
#include "xgrad/module.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/onnx/export.hpp"

namespace xgrad::onnx::detail {

template <class T>
struct Value {
  std::string name;                // the graph's tensor
  Tensor<T> example;               // its value for the example input (xgrad's forward)
  std::vector<std::int64_t> dims;  // its declared sizes: example's, or kBatchDim / kUnknownDim
};

// One module to export: its dotted path in the tree ("" for the root), the
// module, and the Value it is applied to.
template <class T>
struct ExportCall {
  const std::string& path;
  Module<T>& module;
  const Value<T>& input;
};

template <class T>
class ExportContext;

template <class T>
using Exporter = std::function<Value<T>(ExportContext<T>&, const ExportCall<T>&)>;

template <class T>
class Registry {
 public:
  // Exporter for modules whose dynamic type is exactly M (a subclass may
  // compute something else, so it needs an entry of its own). `name` is what
  // the unsupported-module error lists.
  template <class M>
  void add(const std::string& name, Exporter<T> exporter) {
    table_[std::type_index(typeid(M))] = Entry{name, std::move(exporter)};
    names_.push_back(name);
  }
  // The exporter for `module`'s dynamic type, or null.
  const Exporter<T>* find(const Module<T>& module) const;
  // The registered layer names, comma separated.
  std::string names() const;

 private:
  struct Entry {
    std::string name;
    Exporter<T> exporter;
  };
  std::unordered_map<std::type_index, Entry> table_;
  std::vector<std::string> names_;
};

// Every built-in exporter (registry.cpp).
template <class T>
const Registry<T>& builtin_registry();

template <class T>
class ExportContext {
 public:
  ExportContext(GraphBuilder& graph, const Registry<T>& registry, const ExportOptions& options)
      : graph_(graph), registry_(registry), options_(options) {}

  GraphBuilder& graph() { return graph_; }
  const ExportOptions& options() const { return options_; }

  // Exports `module` (at `path`) applied to `input` through its registered
  // exporter; TypeError naming the path and type when it has none. A new
  // tensor it produces is declared (value_info) with its traced sizes.
  Value<T> export_module(const std::string& path, Module<T>& module, const Value<T>& input);

  // For a layer's exporter: runs the layer's forward on the example (no
  // graph recorded) and returns the output Value with an empty name. Its
  // axis 0 is the batch axis when the input's is and the rank is kept (the
  // exporter adjusts dims otherwise). A forward that throws is rethrown as
  // the same error type, prefixed with the module's path and type.
  Value<T> run_forward(const ExportCall<T>& call);

  // ShapeError unless `value`'s axis `axis` has a fixed size (the layer's
  // weights depend on it), naming the module and `what`.
  void require_fixed(const ExportCall<T>& call, const Value<T>& value, std::size_t axis,
                     const std::string& what) const;

  // The node scope of a module path: "/" for the root, "/features.0" below.
  static std::string scope(const std::string& path) { return "/" + path; }
  // The name of a module's parameter or buffer as state_dict() has it.
  static std::string state_name(const std::string& path, const std::string& local) {
    return path.empty() ? local : path + "." + local;
  }
  // The module's parameter or buffer `local` (e.g. "bias") as an initializer
  // named as state_dict() names it; "" for an undefined tensor (no bias).
  std::string add_state(const ExportCall<T>& call, const std::string& local, const Tensor<T>& t);
  // "'features.0' (Conv2d)", or "the root module (Conv2d)": for messages.
  static std::string describe(const std::string& path, const Module<T>& module);

 private:
  GraphBuilder& graph_;
  const Registry<T>& registry_;
  const ExportOptions& options_;
};

// The exporters, one file in layers/ per kind of layer; registry.cpp maps
// module types to them.
template <class T>
Value<T> export_sequential(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_linear(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_batchnorm(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_max_pool(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_avg_pool(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_adaptive_avg_pool(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_flatten(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_dropout(ExportContext<T>& ctx, const ExportCall<T>& c);
// One ONNX op on the input (ReLU -> Relu, ...).
template <class T>
Exporter<T> elementwise_exporter(const char* onnx_op);
// Softmax / LogSoftmax (M) along the module's dim.
template <class T, class M>
Exporter<T> along_axis_exporter(const char* onnx_op);
// Quantization (docs/onnx.md, "Quantized models"): FakeQuantize,
// PerChannelFakeQuantize and LearnableFakeQuantize; APoTFakeQuantize and
// RCFFakeQuantize; converted layers (quantized::Linear, LinearAPoT,
// quantized::Conv2d); QAT layers, as their converted equivalent.
template <class T>
Value<T> export_uniform_fake_quantize(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_apot_fake_quantize(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_quantized_linear(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_quantized_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_qat_linear(ExportContext<T>& ctx, const ExportCall<T>& c);
template <class T>
Value<T> export_qat_conv2d(ExportContext<T>& ctx, const ExportCall<T>& c);

// The nodes of a linear layer on tensor x of rank `rank` with weight w and
// bias b ("" for none): Gemm for rank 2, else MatMul(x, Transpose(w)) + b.
std::string linear_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                         std::size_t rank, const std::string& w, const std::string& b);
// Conv(x, w, b) with the options' strides, pads, dilations and group.
std::string conv_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                       const std::string& w, const std::string& b, const nn::Conv2dOptions& o);

}  // namespace xgrad::onnx::detail
