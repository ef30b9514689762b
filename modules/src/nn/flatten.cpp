#include "xgrad/nn/flatten.hpp"

#include <string>

#include "xgrad/ops/shape_ops.hpp"

namespace xgrad::nn {

template <class T>
Tensor<T> Flatten<T>::forward(const Tensor<T>& input) {
  require_defined(input, "Flatten", "input");
  const std::size_t ndim = input.dim();
  const std::size_t start = normalize_axis(start_dim_, ndim, "Flatten");
  const std::size_t end = normalize_axis(end_dim_, ndim, "Flatten");
  XGRAD_CHECK(start <= end, ValueError, "Flatten: start_dim ", start_dim_, " comes after end_dim ",
              end_dim_, " for input ", input.shape());
  std::vector<std::ptrdiff_t> shape;
  std::size_t merged = 1;
  for (std::size_t i = 0; i < ndim; ++i) {
    const auto extent = static_cast<std::ptrdiff_t>(input.shape()[i]);
    if (i < start || i > end) {
      shape.push_back(extent);
    } else {
      merged *= input.shape()[i];
      if (i == end) shape.push_back(static_cast<std::ptrdiff_t>(merged));
    }
  }
  return reshape(input, shape);
}

template class Flatten<float>;
template class Flatten<double>;

}  // namespace xgrad::nn
