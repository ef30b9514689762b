// The experiment's LeNet-5 as an nn::Sequential, and Fashion-MNIST as it
// reads it (rows of 784 normalized pixels), for the examples that train or
// load one (export_onnx, apot_inference).
#pragma once

#include <memory>

#include "xgrad/data.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/shape_ops.hpp"

namespace examples {

// conv(1->6, 5x5, pad 2) ReLU pool, conv(6->16, 5x5) ReLU pool, flatten,
// 400-120 ReLU, 120-84 ReLU, 84-10: layers "0", "3", "7", "9", "11".
inline std::shared_ptr<xgrad::nn::Sequential<float>> lenet5(xgrad::Generator& gen) {
  using namespace xgrad;
  using nn::Conv2dOptions;
  return std::make_shared<nn::Sequential<float>>(
      std::initializer_list<std::shared_ptr<Module<float>>>{
          std::make_shared<nn::Conv2d<float>>(Conv2dOptions(1, 6, 5).padding(2), gen),
          std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
          std::make_shared<nn::Conv2d<float>>(Conv2dOptions(6, 16, 5), gen),
          std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
          std::make_shared<nn::Flatten<float>>(),
          std::make_shared<nn::Linear<float>>(400, 120, true, gen),
          std::make_shared<nn::ReLU<float>>(),
          std::make_shared<nn::Linear<float>>(120, 84, true, gen),
          std::make_shared<nn::ReLU<float>>(),
          std::make_shared<nn::Linear<float>>(84, 10, true, gen)});
}

// Rows of 784 normalized pixels: pixel / 255, minus 0.28604, divided by
// 0.35302 (the experiment's normalization).
inline xgrad::data::Dataset<float> load_fashion_mnist(xgrad::data::Split split) {
  xgrad::data::Dataset<float> d =
      xgrad::data::load_mnist<float>(xgrad::data::kFashionMnistDir, split);
  d.features = (d.features / 255.0f - 0.28604f) / 0.35302f;
  return d;
}

inline xgrad::Tensor<float> as_images(const xgrad::Tensor<float>& rows) {
  return xgrad::reshape(rows, {-1, 1, 28, 28});
}

}  // namespace examples
