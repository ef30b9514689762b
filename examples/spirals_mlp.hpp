// The MLP of the spirals examples (train_mlp, train_ddp).
#pragma once

#include <memory>

#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/random.hpp"

// 2 -> 64 -> 64 -> 3 with ReLUs; weights drawn from `gen`.
inline std::shared_ptr<xgrad::nn::Sequential<float>> make_spirals_mlp(xgrad::Generator& gen) {
  using xgrad::nn::Linear;
  auto model = std::make_shared<xgrad::nn::Sequential<float>>();
  model->push_back(std::make_shared<Linear<float>>(2, 64, true, gen));
  model->push_back(std::make_shared<xgrad::nn::ReLU<float>>());
  model->push_back(std::make_shared<Linear<float>>(64, 64, true, gen));
  model->push_back(std::make_shared<xgrad::nn::ReLU<float>>());
  model->push_back(std::make_shared<Linear<float>>(64, 3, true, gen));
  return model;
}
