#include "xgrad/nn/init.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "xgrad/grad_mode.hpp"

namespace xgrad::nn::init {

std::size_t calculate_fan_in(const Shape& shape) {
  XGRAD_CHECK(shape.size() >= 2, ValueError,
              "init: fan_in needs a tensor with at least 2 dimensions, got shape ", shape);
  std::size_t fan_in = shape[1];
  for (std::size_t i = 2; i < shape.size(); ++i) fan_in *= shape[i];
  return fan_in;
}

template <class T>
Tensor<T> uniform_(Tensor<T> tensor, double low, double high, Generator& gen) {
  require_defined(tensor, "uniform_", "tensor");
  // Finite in T too: 1e300 is a finite double but an infinite float.
  XGRAD_CHECK(
      std::isfinite(static_cast<T>(low)) && std::isfinite(static_cast<T>(high)) && low <= high,
      ValueError, "uniform_: need finite low <= high, got low=", low, " high=", high);
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
  require_defined(tensor, "kaiming_uniform_", "tensor");
  XGRAD_CHECK(std::isfinite(a), ValueError, "kaiming_uniform_: a must be finite, got ", a);
  const std::size_t fan_in = calculate_fan_in(tensor.shape());
  XGRAD_CHECK(fan_in != 0, ValueError, "kaiming_uniform_: fan_in is 0 for shape ", tensor.shape());
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in));
  return uniform_(tensor, -bound, bound, gen);
}

namespace {
// zeros_ and ones_: `value` everywhere, in place and unrecorded.
template <class T>
Tensor<T> fill_with(Tensor<T> tensor, T value, const char* op) {
  require_defined(tensor, op, "tensor");
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}
}  // namespace

template <class T>
Tensor<T> zeros_(Tensor<T> tensor) {
  return fill_with(std::move(tensor), T(0), "zeros_");
}

template <class T>
Tensor<T> ones_(Tensor<T> tensor) {
  return fill_with(std::move(tensor), T(1), "ones_");
}

#define XGRAD_INSTANTIATE(T)                                             \
  template Tensor<T> uniform_<T>(Tensor<T>, double, double, Generator&); \
  template Tensor<T> kaiming_uniform_<T>(Tensor<T>, double, Generator&); \
  template Tensor<T> zeros_<T>(Tensor<T>);                               \
  template Tensor<T> ones_<T>(Tensor<T>);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::nn::init
