// The experiment's LeNet-5 in libtorch, for the peers of bench_qat_step
// (lenet_float_step, lenet_qat_step) and bench_lenet_epoch: the parameters of
// bench::lenet_data (the xgrad cases' initial values) and a forward with a
// hook on each layer's weight and input, where the peers put the quantizers
// they compose from torch ops (below).
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bench_conv_data.hpp"
#include "convert_torch.hpp"

namespace bench {

// One learnable per-tensor quantizer through
// torch::_fake_quantize_learnable_per_tensor_affine (LSQ, the op behind
// PyTorch's _LearnableFakeQuantize): scale and zero point as parameters,
// LSQ's gradient factor 1 / sqrt(numel * quant_max) and the scale clamp
// _LearnableFakeQuantize applies each forward.
struct Lsq {
  torch::Tensor scale, zero_point;
  int64_t qmin, qmax;
  Lsq(const torch::Tensor& init_from, int64_t quant_min, int64_t quant_max)
      : qmin(quant_min), qmax(quant_max) {
    // LSQ's initial step 2 mean|x| / sqrt(qmax).
    const double s = 2 * init_from.abs().mean().item<double>() / std::sqrt(double(quant_max));
    scale = torch::full({1}, s).set_requires_grad(true);
    zero_point = torch::zeros({1}).set_requires_grad(true);
  }
  torch::Tensor operator()(const torch::Tensor& x) {
    {
      torch::NoGradGuard no_grad;
      scale.clamp_min_(std::numeric_limits<float>::epsilon());
    }
    const double grad_factor = 1.0 / std::sqrt(double(x.numel()) * double(qmax));
    return torch::_fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, qmin, qmax,
                                                             grad_factor);
  }
};

// The authors' weight normalization: (W - mean) / (std + eps); the layer
// uses q(standardize(W)) * std(W).detach() (normalized below).
inline torch::Tensor standardize(const torch::Tensor& w) {
  return (w - w.mean()) / (w.std() + 1e-5);
}
template <class Quantizer>
torch::Tensor normalized(Quantizer& q, const torch::Tensor& w) {
  return q(standardize(w)) * w.std().detach();
}

// 8-bit symmetric weights with the step of PyTorch's MinMaxObserver
// (max |W| / 127.5, recomputed every step).
inline torch::Tensor int8_weight(const torch::Tensor& t) {
  const double step = t.detach().abs().max().item<double>() / 127.5;
  return torch::fake_quantize_per_tensor_affine(t, step, 0, -128, 127);
}

struct TorchLenet {
  std::vector<torch::Tensor> p;  // conv1.w, conv1.b, conv2.w, ..., fc3.b

  explicit TorchLenet(const LenetData& d) {
    const auto shapes = lenet_parameter_shapes();
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      p.push_back(to_torch<float>(d.params[i], shapes[i]).set_requires_grad(true));
    }
  }

  // Layers i = 0..4 (conv1, conv2, fc1, fc2, fc3) compute with weight(i, W)
  // on input(i, h) (i >= 1: the image stays float).
  template <class Weight, class Input>
  torch::Tensor forward(const torch::Tensor& x, Weight weight, Input input) const {
    namespace F = torch::nn::functional;
    const auto pool = [](const torch::Tensor& h) {
      return F::max_pool2d(h, F::MaxPool2dFuncOptions(2));
    };
    auto h = pool(
        torch::relu(F::conv2d(x, weight(0, p[0]), F::Conv2dFuncOptions().bias(p[1]).padding(2))));
    h = pool(
            torch::relu(F::conv2d(input(1, h), weight(1, p[2]), F::Conv2dFuncOptions().bias(p[3]))))
            .flatten(1);
    h = torch::relu(torch::linear(input(2, h), weight(2, p[4]), p[5]));
    h = torch::relu(torch::linear(input(3, h), weight(3, p[6]), p[7]));
    return torch::linear(input(4, h), weight(4, p[8]), p[9]);
  }
  torch::Tensor forward(const torch::Tensor& x) const {
    const auto same = [](int, const torch::Tensor& t) { return t; };
    return forward(x, same, same);
  }

  // The float input of each layer (0: x), without a graph: what the peers
  // initialize their input quantizers from.
  std::vector<torch::Tensor> layer_inputs(const torch::Tensor& x) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> in(5);
    in[0] = x;
    forward(
        x, [](int, const torch::Tensor& t) { return t; },
        [&in](int i, const torch::Tensor& t) { return in[std::size_t(i)] = t; });
    return in;
  }
};

}  // namespace bench
