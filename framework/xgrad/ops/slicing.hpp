// Views of a range along one axis, as libtorch names them (Tensor::slice,
// narrow, select). xgrad tensors own their data, so each returns a copy (an
// in-place write into it while `a` lives is refused: tensor.hpp, Storage);
// the gradient flows back into the selected positions (zeros elsewhere).
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/tensor.hpp"

namespace xgrad {

// Elements start, start + step, ... (< end) along `dim`, like Python's
// a[..., start:end:step]. Negative start / end count from the end; both are
// then clamped to [0, extent] (an empty range gives an empty axis). Throws
// ShapeError on a bad dim (or a 0-d tensor), ValueError unless step >= 1.
template <class T>
Tensor<T> slice(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t start, std::int64_t end,
                std::int64_t step = 1);

// `length` elements from `start` along `dim` (libtorch's narrow). A negative
// start counts from the end. Throws ValueError unless 0 <= start and
// start + length <= extent (after wrapping) and length >= 0.
template <class T>
Tensor<T> narrow(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t start, std::int64_t length);

// The slice at `index` along `dim`, with that axis removed (libtorch's
// select; a[i] is select(a, 0, i)). A negative index counts from the end.
// Throws ValueError unless -extent <= index < extent.
template <class T>
Tensor<T> select(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t index);

}  // namespace xgrad
