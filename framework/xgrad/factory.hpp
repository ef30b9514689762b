// Tensors from flat data, and between element types. Tensors always own their
// data, so every factory copies (libtorch's from_blob aliases the caller's
// buffer; here the buffer may be freed right after the call).
//
//   std::vector<float> v = {1, 2, 3, 4, 5, 6};
//   auto a = from_vector(v, {2, 3});            // [[1, 2, 3], [4, 5, 6]]
//   auto b = from_blob(v.data(), v.size(), {3, 2});
//   Tensor<double> c = to<double>(a);           // or a.to<double>()
//
// To and from xtensor: Tensor<T>(xt::xarray<T>, requires_grad) takes an array
// (move it in to spare the copy); t.data() is the tensor's xt::xarray<T>.
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

// The row-major `values` in `shape` (1-D [values.size()] when no shape is
// given). Throws ShapeError when the element counts differ.
template <class T>
Tensor<T> from_vector(const std::vector<T>& values, const Shape& shape, bool requires_grad = false);
// (No requires_grad here: from_vector(v, {6}) must mean the shape [6].)
template <class T>
Tensor<T> from_vector(const std::vector<T>& values) {
  return from_vector(values, Shape{values.size()});
}

// `size` elements read from `data`, row-major in `shape`. Throws ShapeError
// when size != numel(shape), ValueError when data is null and size > 0.
template <class T>
Tensor<T> from_blob(const T* data, std::size_t size, const Shape& shape,
                    bool requires_grad = false);

// A copy with element type U, without history (it never requires grad).
// Autograd does not cross element types, so converting a tensor that requires
// grad while grad mode is on throws StateError instead of silently dropping
// its gradient: convert t.detach(), or convert before setting requires_grad.
// float -> double is exact; double -> float rounds to nearest.
template <class U, class T>
Tensor<U> to(const Tensor<T>& t);

}  // namespace xgrad
