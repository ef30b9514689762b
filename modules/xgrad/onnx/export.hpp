// ONNX export of a model (library libxgrad_onnx), in the spirit of
// torch.onnx.export:
//
//   xgrad::onnx::export_model(model, example_input, "lenet.onnx");
//
// The module tree is walked from `module` down: each module is looked up by
// its exact C++ type in one table of exporters, which writes its ONNX nodes;
// nn::Sequential exports its children in order. Parameters and buffers become
// initializers named as in state_dict() ("0.weight"). The example input is run
// through the model once (in eval mode, without recording a graph), which
// gives every tensor's shape; with dynamic_batch its axis 0 is left symbolic
// ("batch"), so the model runs on any batch size. Layers and what each
// becomes: docs/onnx.md.
//
// The model is exported as in eval mode (torch.onnx.export's default):
// BatchNorm uses its running statistics and Dropout is the identity. Every
// module's training flag is restored afterwards, also when export fails.
//
// Before anything is written, the model passes ONNX's checker and strict
// shape inference with type checks (Python's check_model(full_check=True));
// the file is written to a temporary file that is renamed to `path`, so
// `path` is either the old file or the whole new model.
#pragma once

#include <cstdint>
#include <string>

#include "xgrad/module.hpp"

namespace xgrad::onnx {

// The opsets export_model can write: every node it emits has the same
// signature in all of them (13 made Softmax single-axis; 18 moves
// ReduceMean's axes to an input), and Debian's libonnx 1.12 checks up to 17.
inline constexpr std::int64_t kMinOpset = 13;
inline constexpr std::int64_t kMaxOpset = 17;

struct ExportOptions {
  // The graph's input and output names (torch.onnx.export's input_names and
  // output_names; xgrad modules are unary, so one each). Non-empty, different.
  std::string input_name = "input";
  std::string output_name = "output";
  // Axis 0 of the input and the output is named "batch" and left free
  // (torch.onnx.export's dynamic_axes={"input": {0: "batch"}, ...}). When
  // false, the example input's sizes are fixed in the graph.
  bool dynamic_batch = true;
  // The default ai.onnx opset; kMinOpset .. kMaxOpset (ValueError otherwise).
  std::int64_t opset_version = 13;
  // The graph's name and an optional doc string (shown by model viewers).
  std::string graph_name = "xgrad";
  std::string doc_string;
  // Activation fake quantizers (the uniform, LSQ, APoT and RCF input
  // quantizers of QAT and converted layers, or standalone): true exports
  // them as xgrad computes them (QuantizeLinear / DequantizeLinear, or the
  // nearest APoT level); false leaves them out, so activations stay float
  // (smaller, faster graphs that differ from xgrad's model: docs/onnx.md
  // measures the accuracy it costs).
  bool quantize_activations = true;
};

// Whether this xgrad was built with ONNX export (the `onnx` meson feature
// found libonnx and protobuf); without it export_model throws StateError
// (torch.distributed.is_available()'s counterpart).
bool is_available();

// Exports `module` applied to `example_input` as an ONNX model at `path`
// (replacing any file there). Errors, with nothing written:
//   ValueError: example_input undefined, bad options (empty or equal names,
//     opset out of range);
//   ShapeError: example_input of rank 0 (no batch axis), or a layer that
//     would read the free batch axis as a fixed size (e.g. Linear on a rank-1
//     input with dynamic_batch); a layer's forward refusing its input
//     (its own error type) names the module's path as well;
//   TypeError: a module with no exporter, naming its path, type_name() and
//     C++ type (a custom Module subclass: build the model from nn layers and
//     nn::Sequential);
//   StateError: a fake quantizer whose observer is on (its forward would
//     still move its qparams: quant::freeze(model) first) or that has no
//     qparams yet, naming the layer;
//   ValueError: a uniform quantizer whose integer range does not fit 8 bits
//     (QuantizeLinear's types), naming the layer;
//   IOError: `path` cannot be written.
// StateError when xgrad was built without ONNX (the `onnx` meson feature).
template <class T>
void export_model(Module<T>& module, const Tensor<T>& example_input, const std::string& path,
                  const ExportOptions& options = ExportOptions());

extern template void export_model<float>(Module<float>&, const Tensor<float>&, const std::string&,
                                         const ExportOptions&);
extern template void export_model<double>(Module<double>&, const Tensor<double>&,
                                          const std::string&, const ExportOptions&);

}  // namespace xgrad::onnx
