// Selecting along an axis (mini-batches are index_select of rows), and
// libtorch's indexing with integers, Slice, None and Ellipsis
// (xgrad/tensor_index.hpp).
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

// Slices of `a` at `indices` along `axis`, in that order (repeats allowed:
// their gradients add up). Throws ValueError on an index out of range.
template <class T>
Tensor<T> index_select(const Tensor<T>& a, std::ptrdiff_t axis,
                       const std::vector<std::size_t>& indices);

// a.index({0, Slice(1, None), None, Ellipsis}): the indices name axes from
// the first on (Ellipsis stands for the full slices of the axes no index
// names; axes after the last index are taken whole). An integer selects and
// removes its axis (negative counts from the end), a Slice keeps it, None
// inserts an axis of extent 1. A copy where libtorch returns a view
// (tensor.hpp, Storage); gradients flow back into the indexed positions.
// ValueError: an integer out of range, a Slice step < 1, two Ellipses;
// ShapeError: more integers and slices than axes.
template <class T>
Tensor<T> index(const Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices);

// Writes `value` into the region index(a, indices) reads, in place (a tensor
// value broadcasts to the region's shape: ShapeError otherwise). The in-place
// rules of fill_ (StateError); also StateError for a value that requires grad
// while grad mode is on (the write is not recorded). Index errors as index.
template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices,
                      typename Tensor<T>::value_type value);
template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices,
                      const Tensor<T>& value);

}  // namespace xgrad
