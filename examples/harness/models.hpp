// The small networks of the experiments, as nn::Sequential models that the
// QAT workflow (xgrad/quant/qat/workflow.hpp) prepares like any user model:
//   lenet5: LeNet-5 of docs/experiment.md for [N, 1, 28, 28] images
//     (examples/lenet5.hpp: layers "0", "3", "7", "9", "11");
//   mlp: Linear layers with ReLU between them (the digits MLP 64-64-10,
//     layers "0", "2").
// Both draw PyTorch's default initialization from the generator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xgrad/nn/sequential.hpp"
#include "xgrad/random.hpp"

namespace harness {

using Tensor = xgrad::Tensor<float>;
using Model = xgrad::nn::Sequential<float>;

// "lenet5" or "mlp"; ValueError for another name.
std::shared_ptr<Model> make_model(const std::string& net, xgrad::Generator& gen);

// The dotted names of the model's Linear / Conv2d layers (float, QAT or
// converted), in forward order.
std::vector<std::string> layer_names(Model& model);

}  // namespace harness
