// Workloads of the CNN benchmarks (project issue 7), shared by bench_conv.cpp
// and its libtorch peer so that both compute on identical numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bench_data.hpp"

namespace bench {

// conv_step: forward + backward (input, weight and bias gradients) of
// Conv2d(16, 32, 3, padding 1) on [32, 16, 32, 32].
struct ConvShape {
  std::int64_t n, c, h, w, out, kernel, padding;
};
constexpr ConvShape kConvStep{32, 16, 32, 32, 32, 3, 1};

struct ConvData {
  std::vector<double> x, weight, bias;
};

inline ConvData conv_data(const ConvShape& s) {
  ConvData d;
  const double fan_in = double(s.c * s.kernel * s.kernel);
  d.weight = uniform(std::size_t(s.out * s.c * s.kernel * s.kernel), 1 / std::sqrt(fan_in), 11);
  d.bias = uniform(std::size_t(s.out), 1 / std::sqrt(fan_in), 12);
  d.x = uniform(std::size_t(s.n * s.c * s.h * s.w), 1.0, 13);
  return d;
}

// lenet_step: zero_grad, forward, cross-entropy, backward and SGD of LeNet-5
// as in the QAT experiment: conv(1->6, 5x5, padding 2) - ReLU - maxpool 2 -
// conv(6->16, 5x5) - ReLU - maxpool 2 - flatten - linear(400->120) - ReLU -
// linear(120->84) - ReLU - linear(84->10), on a batch [64, 1, 28, 28].
constexpr std::int64_t kLenetBatch = 64;

// Parameter shapes in registration order (conv1.weight, conv1.bias, ...).
inline std::vector<std::vector<std::int64_t>> lenet_parameter_shapes() {
  return {{6, 1, 5, 5}, {6},       {16, 6, 5, 5}, {16},     {120, 400},
          {120},        {84, 120}, {84},          {10, 84}, {10}};
}

struct LenetData {
  std::vector<std::vector<double>> params;  // in lenet_parameter_shapes() order
  std::vector<double> x;
  std::vector<std::int64_t> labels;
};

inline LenetData lenet_data() {
  LenetData d;
  std::uint64_t seed = 21;
  const auto shapes = lenet_parameter_shapes();
  double bound = 1;
  for (const auto& s : shapes) {
    std::size_t n = 1, fan_in = 1;
    for (auto e : s) n *= std::size_t(e);
    for (std::size_t k = 1; k < s.size(); ++k) fan_in *= std::size_t(s[k]);
    if (s.size() > 1) bound = 1 / std::sqrt(double(fan_in));  // a bias keeps its weight's bound
    d.params.push_back(uniform(n, bound, seed++));
  }
  d.x = uniform(std::size_t(kLenetBatch * 28 * 28), 1.0, seed++);
  for (std::int64_t i = 0; i < kLenetBatch; ++i) d.labels.push_back(i % 10);
  return d;
}

}  // namespace bench
