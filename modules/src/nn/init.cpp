#include "xgrad/nn/init.hpp"

#include <cmath>
#include <string>

#include "xgrad/grad_mode.hpp"

namespace xgrad {
namespace nn {
namespace init {

std::size_t calculate_fan_in(const Shape& shape) {
  if (shape.size() < 2) {
    throw ValueError("init: fan_in needs a tensor with at least 2 dimensions, got shape " +
                     to_string(shape));
  }
  std::size_t fan_in = shape[1];
  for (std::size_t i = 2; i < shape.size(); ++i) fan_in *= shape[i];
  return fan_in;
}

template <class T>
Tensor<T> uniform_(Tensor<T> tensor, double low, double high, Generator& gen) {
  if (!tensor.defined()) throw ValueError("uniform_: tensor is undefined");
  // Finite in T too: 1e300 is a finite double but an infinite float.
  if (!(std::isfinite(static_cast<T>(low)) && std::isfinite(static_cast<T>(high)) && low <= high)) {
    throw ValueError("uniform_: need finite low <= high, got low=" + std::to_string(low) +
                     " high=" + std::to_string(high));
  }
  NoGradGuard no_grad;
  if (low == high) {
    tensor.fill_(static_cast<T>(low));
  } else {
    tensor.mutable_data() =
        rand<T>(tensor.shape(), gen, static_cast<T>(low), static_cast<T>(high)).data();
  }
  return tensor;
}

template <class T>
Tensor<T> kaiming_uniform_(Tensor<T> tensor, double a, Generator& gen) {
  if (!tensor.defined()) throw ValueError("kaiming_uniform_: tensor is undefined");
  if (!std::isfinite(a)) {
    throw ValueError("kaiming_uniform_: a must be finite, got " + std::to_string(a));
  }
  const std::size_t fan_in = calculate_fan_in(tensor.shape());
  if (fan_in == 0) {
    throw ValueError("kaiming_uniform_: fan_in is 0 for shape " + to_string(tensor.shape()));
  }
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in));
  return uniform_(tensor, -bound, bound, gen);
}

template <class T>
Tensor<T> zeros_(Tensor<T> tensor) {
  if (!tensor.defined()) throw ValueError("zeros_: tensor is undefined");
  NoGradGuard no_grad;
  tensor.fill_(T(0));
  return tensor;
}

template <class T>
Tensor<T> ones_(Tensor<T> tensor) {
  if (!tensor.defined()) throw ValueError("ones_: tensor is undefined");
  NoGradGuard no_grad;
  tensor.fill_(T(1));
  return tensor;
}

#define XGRAD_INSTANTIATE(T)                                             \
  template Tensor<T> uniform_<T>(Tensor<T>, double, double, Generator&); \
  template Tensor<T> kaiming_uniform_<T>(Tensor<T>, double, Generator&); \
  template Tensor<T> zeros_<T>(Tensor<T>);                               \
  template Tensor<T> ones_<T>(Tensor<T>);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace init
}  // namespace nn
}  // namespace xgrad
