// Reductions. Axes may be negative (counted from the end); repeated or
// out-of-range axes throw ShapeError.
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

using Axes = std::vector<std::ptrdiff_t>;

// Sum / mean of all elements: a 0-d tensor.
template <class T>
Tensor<T> sum(const Tensor<T>& a);
template <class T>
Tensor<T> mean(const Tensor<T>& a);
// Over the given axes; keepdims keeps them with extent 1. An empty list
// reduces nothing (NumPy's axis=()); a mean over zero elements is NaN.
template <class T>
Tensor<T> sum(const Tensor<T>& a, const Axes& axes, bool keepdims = false);
template <class T>
Tensor<T> mean(const Tensor<T>& a, const Axes& axes, bool keepdims = false);
// Over one axis: sum(a, 1, /*keepdim=*/true) (libtorch's sum(dim, keepdim)).
// A template on the integer type so that braced lists, {} included, still
// mean a list of axes.
namespace detail {
template <class I>
using if_axis = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value>;
}  // namespace detail
template <class T, class I, class = detail::if_axis<I>>
Tensor<T> sum(const Tensor<T>& a, I axis, bool keepdims = false) {
  return sum(a, Axes{static_cast<std::ptrdiff_t>(axis)}, keepdims);
}
template <class T, class I, class = detail::if_axis<I>>
Tensor<T> mean(const Tensor<T>& a, I axis, bool keepdims = false) {
  return mean(a, Axes{static_cast<std::ptrdiff_t>(axis)}, keepdims);
}
// Maximum over one axis; the gradient goes to the first maximal element. A NaN
// wins (the first one, as in libtorch). Throws ShapeError for an axis of extent
// 0 and for a 0-d tensor (it has no axis).
template <class T>
Tensor<T> max(const Tensor<T>& a, std::ptrdiff_t axis, bool keepdims = false);

}  // namespace xgrad
