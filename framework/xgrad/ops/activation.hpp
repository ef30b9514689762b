// Activations. sigmoid and tanh are numerically stable for large |x| and reuse
// their output in backward.
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad {

template <class T> Tensor<T> relu(const Tensor<T>& a);
template <class T> Tensor<T> sigmoid(const Tensor<T>& a);
template <class T> Tensor<T> tanh(const Tensor<T>& a);

}  // namespace xgrad
