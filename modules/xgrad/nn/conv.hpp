// Conv2d (libtorch's torch::nn::Conv2d), forward through the engine's
// xgrad::conv2d. Options are built like libtorch's:
//   nn::Conv2d<float> conv(nn::Conv2dOptions(3, 16, 3).stride(2).padding(1).bias(false));
#pragma once

#include <cstdint>

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/ops/size2.hpp"
#include "xgrad/random.hpp"

namespace xgrad::nn {

// Fields are XGRAD_ARGs (xgrad/arg.hpp).
class Conv2dOptions {
 public:
  Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  XGRAD_ARG(std::int64_t, in_channels);
  XGRAD_ARG(std::int64_t, out_channels);
  XGRAD_ARG(Size2, kernel_size);
  XGRAD_ARG(Size2, stride) = 1;
  XGRAD_ARG(Size2, padding) = 0;
  XGRAD_ARG(Size2, dilation) = 1;
  XGRAD_ARG(std::int64_t, groups) = 1;
  XGRAD_ARG(bool, bias) = true;
};

template <class T = float>
class Conv2d : public xgrad::Module<T> {
 public:
  // weight [out, in / groups, kh, kw] ~ kaiming_uniform_(a = sqrt(5)), i.e.
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * kh * kw;
  // bias [out] ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default), drawn
  // from `gen` in that order. ValueError for channels or kernel_size < 1,
  // stride or dilation < 1, padding < 0, groups < 1 or not dividing both
  // channel counts.
  explicit Conv2d(const Conv2dOptions& options, Generator& gen = default_generator());
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
         Generator& gen = default_generator())
      : Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size), gen) {}

  // [N, in, H, W] -> [N, out, OH, OW]; conv2d's errors (conv.hpp).
  Tensor<T> forward(const Tensor<T>& input) override;
  // Redraws weight and bias in place (existing handles see the new values).
  void reset_parameters(Generator& gen = default_generator());

  const Conv2dOptions& options() const { return options_; }

  Tensor<T> weight;
  Tensor<T> bias;  // undefined when options().bias() is false

 private:
  Conv2dOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Conv2d);

}  // namespace xgrad::nn
