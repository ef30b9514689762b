// Benchmark data (row-major doubles from bench_data.hpp) as xgrad tensors and
// models.
#pragma once

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "../examples/lenet5.hpp"
#include "bench_conv_data.hpp"
#include "bench_data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/tensor.hpp"

namespace bench {

template <class T>
xgrad::Tensor<T> to_xgrad(const std::vector<double>& v, const xgrad::Shape& shape,
                          bool requires_grad = false) {
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  std::copy(v.begin(), v.end(), a.begin());
  return xgrad::Tensor<T>(std::move(a), requires_grad);
}

// The MLP in -> hidden -> ReLU -> out of `s`, with the peer's initial values.
template <class T>
std::shared_ptr<xgrad::nn::Sequential<T>> mlp_model(const MlpShape& s, const MlpData& d) {
  auto fc1 = std::make_shared<xgrad::nn::Linear<T>>(s.in, s.hidden);
  auto fc2 = std::make_shared<xgrad::nn::Linear<T>>(s.hidden, s.out);
  {
    xgrad::NoGradGuard no_grad;
    fc1->weight.copy_(to_xgrad<T>(d.w1, {s.hidden, s.in}));
    fc1->bias.copy_(to_xgrad<T>(d.b1, {s.hidden}));
    fc2->weight.copy_(to_xgrad<T>(d.w2, {s.out, s.hidden}));
    fc2->bias.copy_(to_xgrad<T>(d.b2, {s.out}));
  }
  return std::make_shared<xgrad::nn::Sequential<T>>(
      std::initializer_list<std::shared_ptr<xgrad::Module<T>>>{
          fc1, std::make_shared<xgrad::nn::ReLU<T>>(), fc2});
}

// The experiment's LeNet-5 (examples/lenet5.hpp) with the peer's initial
// values (bench_conv_data.hpp).
inline std::shared_ptr<xgrad::nn::Sequential<float>> lenet_model(const LenetData& d) {
  xgrad::Generator gen(1);
  auto model = examples::lenet5(gen);
  auto params = model->parameters();
  xgrad::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) {
    params[i].copy_(to_xgrad<float>(d.params[i], params[i].shape()));
  }
  return model;
}

}  // namespace bench
