// Selecting along an axis (mini-batches are index_select of rows).
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

// Slices of `a` at `indices` along `axis`, in that order (repeats allowed:
// their gradients add up). Throws ValueError on an index out of range.
template <class T>
Tensor<T> index_select(const Tensor<T>& a, std::ptrdiff_t axis, const std::vector<std::size_t>& indices);

}  // namespace xgrad
