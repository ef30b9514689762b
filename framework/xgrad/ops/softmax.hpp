// Softmax and log-softmax along an axis, stable for large inputs (the maximum is
// subtracted first).
#pragma once

#include <cstddef>

#include "xgrad/tensor.hpp"

namespace xgrad {

template <class T> Tensor<T> softmax(const Tensor<T>& a, std::ptrdiff_t axis = -1);
template <class T> Tensor<T> log_softmax(const Tensor<T>& a, std::ptrdiff_t axis = -1);

}  // namespace xgrad
