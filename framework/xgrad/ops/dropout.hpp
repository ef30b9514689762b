// Inverted dropout (libtorch's dropout): in training, each element is zeroed
// with probability p and the survivors are scaled by 1/(1-p), so the expected
// value is unchanged and evaluation needs no rescaling.
#pragma once

#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

// Returns `a` itself when !training or p == 0 (no draws then). Each element
// draws one uniform double from `gen` in row-major order, so float and double
// tensors with the same seed get the same mask. Throws ValueError unless
// 0 <= p < 1.
template <class T>
Tensor<T> dropout(const Tensor<T>& a, double p, bool training, Generator& gen);
template <class T>
Tensor<T> dropout(const Tensor<T>& a, double p = 0.5, bool training = true) {
  return dropout(a, p, training, default_generator());
}

}  // namespace xgrad
