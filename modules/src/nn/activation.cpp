#include "xgrad/nn/activation.hpp"

#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/softmax.hpp"

namespace xgrad::nn {

template <class T>
Tensor<T> ReLU<T>::forward(const Tensor<T>& input) {
  return relu(input);
}

template <class T>
Tensor<T> Sigmoid<T>::forward(const Tensor<T>& input) {
  return sigmoid(input);
}

template <class T>
Tensor<T> Tanh<T>::forward(const Tensor<T>& input) {
  return xgrad::tanh(input);
}

template <class T>
Tensor<T> Softmax<T>::forward(const Tensor<T>& input) {
  return softmax(input, dim_);
}

template <class T>
Tensor<T> LogSoftmax<T>::forward(const Tensor<T>& input) {
  return log_softmax(input, dim_);
}

XGRAD_INSTANTIATE_CLASS(ReLU);
XGRAD_INSTANTIATE_CLASS(Sigmoid);
XGRAD_INSTANTIATE_CLASS(Tanh);
XGRAD_INSTANTIATE_CLASS(Softmax);
XGRAD_INSTANTIATE_CLASS(LogSoftmax);

}  // namespace xgrad::nn
