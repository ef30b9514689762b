#include "model_check.hpp"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <stdexcept>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::onnx::detail {

void check_model(const ::onnx::ModelProto& model) {
  try {
    ::onnx::checker::check_model(model);
    ::onnx::ModelProto inferred = model;  // inference writes value infos into its model
    ::onnx::ShapeInferenceOptions strict(/*check_type=*/true, /*error_mode=*/1);
    ::onnx::shape_inference::InferShapes(inferred, ::onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& e) {
    throw_error<ValueError>(
        "onnx::export_model: the exported graph fails ONNX's checker (an exporter bug, please "
        "report it): ",
        e.what());
  }
}

}  // namespace xgrad::onnx::detail
