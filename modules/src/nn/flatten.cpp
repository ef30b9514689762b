#include "xgrad/nn/flatten.hpp"

#include <algorithm>
#include <string>

#include "xgrad/ops/shape_ops.hpp"

namespace xgrad::nn {

template <class T>
Tensor<T> Flatten<T>::forward(const Tensor<T>& input) {
  require_defined(input, "Flatten", "input");
  return flatten(input, start_dim_, end_dim_);
}

template <class T>
Unflatten<T>::Unflatten(const UnflattenOptions& options)
    : xgrad::Module<T>("Unflatten"), options_(options) {
  const auto& sizes = options.sizes();
  XGRAD_CHECK(!sizes.empty(), ValueError, "Unflatten: sizes must not be empty");
  for (std::int64_t s : sizes) {
    XGRAD_CHECK(s >= 1 || s == -1, ValueError, "Unflatten: sizes ", sizes, " hold ", s,
                "; each size must be >= 1, or -1 (inferred)");
  }
  XGRAD_CHECK(std::count(sizes.begin(), sizes.end(), -1) <= 1, ValueError, "Unflatten: sizes ",
              sizes, " hold more than one -1");
}

template <class T>
Tensor<T> Unflatten<T>::forward(const Tensor<T>& input) {
  require_defined(input, "Unflatten", "input");
  const auto& sizes = options_.sizes();
  return unflatten(input, static_cast<std::ptrdiff_t>(options_.dim()),
                   std::vector<std::ptrdiff_t>(sizes.begin(), sizes.end()));
}

XGRAD_INSTANTIATE_CLASS(Flatten);
XGRAD_INSTANTIATE_CLASS(Unflatten);

}  // namespace xgrad::nn
