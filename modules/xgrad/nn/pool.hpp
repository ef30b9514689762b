// Pooling layers (libtorch's torch::nn::MaxPool2d, AvgPool2d,
// AdaptiveAvgPool2d), forward through the engine's ops in xgrad/ops/pool.hpp.
// They have no parameters or buffers.
//   nn::MaxPool2d<float> pool(nn::MaxPool2dOptions(3).stride(2).padding(1));
//   nn::MaxPool2d<float> pool(2);  // stride 2
#pragma once

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/ops/size2.hpp"

namespace xgrad::nn {

// kernel_size, stride (defaults to kernel_size, as libtorch) and padding;
// each setter returns *this, each getter has the setter's name.
class Pool2dOptions {
 public:
  Pool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT

  Pool2dOptions& stride(Size2 v) {
    stride_ = v;
    return *this;
  }
  Pool2dOptions& padding(Size2 v) {
    padding_ = v;
    return *this;
  }

  Size2 kernel_size() const { return kernel_size_; }
  Size2 stride() const { return stride_; }
  Size2 padding() const { return padding_; }

 private:
  Size2 kernel_size_, stride_, padding_ = 0;
};
using MaxPool2dOptions = Pool2dOptions;
// count_include_pad is always true (PyTorch's default); ceil_mode false.
using AvgPool2dOptions = Pool2dOptions;

// Checks the options at construction: ValueError for kernel_size or stride
// < 1, padding < 0 or above half the kernel. forward: max_pool2d's errors.
template <class T = float>
class MaxPool2d : public xgrad::Module<T> {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options);
  explicit MaxPool2d(Size2 kernel_size) : MaxPool2d(MaxPool2dOptions(kernel_size)) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  const MaxPool2dOptions& options() const { return options_; }

 private:
  MaxPool2dOptions options_;
};

// As MaxPool2d, with avg_pool2d.
template <class T = float>
class AvgPool2d : public xgrad::Module<T> {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options);
  explicit AvgPool2d(Size2 kernel_size) : AvgPool2d(AvgPool2dOptions(kernel_size)) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  const AvgPool2dOptions& options() const { return options_; }

 private:
  AvgPool2dOptions options_;
};

class AdaptiveAvgPool2dOptions {
 public:
  AdaptiveAvgPool2dOptions(Size2 output_size) : output_size_(output_size) {}  // NOLINT
  AdaptiveAvgPool2dOptions& output_size(Size2 v) {
    output_size_ = v;
    return *this;
  }
  Size2 output_size() const { return output_size_; }

 private:
  Size2 output_size_;
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

XGRAD_EXTERN_TEMPLATE_CLASS(MaxPool2d);
XGRAD_EXTERN_TEMPLATE_CLASS(AvgPool2d);
XGRAD_EXTERN_TEMPLATE_CLASS(AdaptiveAvgPool2d);

}  // namespace xgrad::nn
