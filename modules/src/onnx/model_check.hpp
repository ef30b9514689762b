// ONNX's own validation of an exported model (internal to libxgrad_onnx).
#pragma once

#include <onnx/onnx_pb.h>

namespace xgrad::onnx::detail {

// onnx::checker::check_model, then strict shape inference with type checks
// (Python's check_model(model, full_check=True)): every node's inputs and
// attributes must fit its schema, and every declared shape (the graph's
// output, each layer's traced value_info) must agree with what ONNX infers
// from the nodes. Throws ValueError with ONNX's message otherwise: that is an
// exporter bug, and nothing is written.
void check_model(const ::onnx::ModelProto& model);

}  // namespace xgrad::onnx::detail
