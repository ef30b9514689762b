// In-place initializers for parameters (libtorch's torch::nn::init), drawing
// from a Generator so that a seed fixes a model's initial weights. Each takes
// the tensor handle (which aliases the parameter), writes outside the autograd
// graph, and returns it.
#pragma once

#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::nn::init {

// fan_in of a weight [out, in, k...]: in * prod(k...). ValueError for fewer
// than 2 dimensions.
std::size_t calculate_fan_in(const Shape& shape);

// U(low, high); low == high fills with low. ValueError unless low <= high,
// both finite (also once rounded to T).
template <class T>
Tensor<T> uniform_(Tensor<T> tensor, double low, double high, Generator& gen = default_generator());
// He/Kaiming uniform for a leaky ReLU of negative slope `a`, fan-in mode:
// U(-bound, bound) with bound = sqrt(2 / (1 + a^2)) * sqrt(3 / fan_in).
// a = sqrt(5) gives PyTorch's Linear default, bound = 1 / sqrt(fan_in).
// ValueError when fan_in is 0 or a is not finite.
template <class T>
Tensor<T> kaiming_uniform_(Tensor<T> tensor, double a = 0, Generator& gen = default_generator());
template <class T>
Tensor<T> zeros_(Tensor<T> tensor);
template <class T>
Tensor<T> ones_(Tensor<T> tensor);

}  // namespace xgrad::nn::init
