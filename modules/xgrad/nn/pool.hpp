// Pooling layers (libtorch's torch::nn::MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d), forward through the engine's ops in xgrad/ops/pool.hpp.
// They have no parameters or buffers.
//   nn::MaxPool2d<float> pool(nn::MaxPool2dOptions(3).stride(2).padding(1));
//   nn::MaxPool2d<float> pool(2);  // stride 2
#pragma once

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/ops/size2.hpp"

namespace xgrad::nn {

// kernel_size, stride (defaults to kernel_size, as libtorch) and padding
// (XGRAD_ARGs, xgrad/arg.hpp).
class Pool2dOptions {
 public:
  Pool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT
  XGRAD_ARG(Size2, kernel_size);
  XGRAD_ARG(Size2, stride);
  XGRAD_ARG(Size2, padding) = 0;
};
using MaxPool2dOptions = Pool2dOptions;
// count_include_pad is always true (PyTorch's default); ceil_mode false.
using AvgPool2dOptions = Pool2dOptions;

// What MaxPool2d and AvgPool2d share: the options, checked at construction
// (ValueError for kernel_size or stride < 1, padding < 0 or above half the
// kernel), and a forward through the layer's op (whose errors it raises).
template <class T = float>
class Pool2dBase : public xgrad::Module<T> {
 public:
  Tensor<T> forward(const Tensor<T>& input) override;
  const Pool2dOptions& options() const { return options_; }

 protected:
  using Op = Tensor<T> (*)(const Tensor<T>&, Size2 kernel_size, Size2 stride, Size2 padding);
  Pool2dBase(const char* type_name, Op op, const Pool2dOptions& options);

 private:
  Op op_;
  Pool2dOptions options_;
};

// max_pool2d over each window.
template <class T = float>
class MaxPool2d : public Pool2dBase<T> {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options);
  explicit MaxPool2d(Size2 kernel_size) : MaxPool2d(MaxPool2dOptions(kernel_size)) {}
};

// avg_pool2d over each window.
template <class T = float>
class AvgPool2d : public Pool2dBase<T> {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options);
  explicit AvgPool2d(Size2 kernel_size) : AvgPool2d(AvgPool2dOptions(kernel_size)) {}
};

class AdaptiveAvgPool2dOptions {
 public:
  AdaptiveAvgPool2dOptions(Size2 output_size) : output_size_(output_size) {}  // NOLINT
  XGRAD_ARG(Size2, output_size);
};

// ValueError at construction for an output size < 1; forward:
// adaptive_avg_pool2d's errors. AdaptiveAvgPool2d(1) is the global average pool.
template <class T = float>
class AdaptiveAvgPool2d : public xgrad::Module<T> {
 public:
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options);
  explicit AdaptiveAvgPool2d(Size2 output_size)
      : AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions(output_size)) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Pool2dBase);
XGRAD_EXTERN_TEMPLATE_CLASS(MaxPool2d);
XGRAD_EXTERN_TEMPLATE_CLASS(AvgPool2d);
XGRAD_EXTERN_TEMPLATE_CLASS(AdaptiveAvgPool2d);

}  // namespace xgrad::nn
