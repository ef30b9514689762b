// Activation layers: thin modules over the engine's functional ops.
#pragma once

#include <cstddef>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"

namespace xgrad::nn {

template <class T = float>
class ReLU : public xgrad::Module<T> {
 public:
  ReLU() : xgrad::Module<T>("ReLU") {}
  Tensor<T> forward(const Tensor<T>& input) override;
};

template <class T = float>
class Sigmoid : public xgrad::Module<T> {
 public:
  Sigmoid() : xgrad::Module<T>("Sigmoid") {}
  Tensor<T> forward(const Tensor<T>& input) override;
};

template <class T = float>
class Tanh : public xgrad::Module<T> {
 public:
  Tanh() : xgrad::Module<T>("Tanh") {}
  Tensor<T> forward(const Tensor<T>& input) override;
};

// Softmax / LogSoftmax along `dim` (negative counts from the end); the axis is
// checked against the input at forward.
template <class T = float>
class Softmax : public xgrad::Module<T> {
 public:
  explicit Softmax(std::ptrdiff_t dim) : xgrad::Module<T>("Softmax"), dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  std::ptrdiff_t dim() const { return dim_; }

 private:
  std::ptrdiff_t dim_;
};

template <class T = float>
class LogSoftmax : public xgrad::Module<T> {
 public:
  explicit LogSoftmax(std::ptrdiff_t dim) : xgrad::Module<T>("LogSoftmax"), dim_(dim) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  std::ptrdiff_t dim() const { return dim_; }

 private:
  std::ptrdiff_t dim_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(ReLU);
XGRAD_EXTERN_TEMPLATE_CLASS(Sigmoid);
XGRAD_EXTERN_TEMPLATE_CLASS(Tanh);
XGRAD_EXTERN_TEMPLATE_CLASS(Softmax);
XGRAD_EXTERN_TEMPLATE_CLASS(LogSoftmax);

}  // namespace xgrad::nn
