// Ops that move elements around without arithmetic.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

// Swaps the two axes of a 2-D tensor; ShapeError for any other rank.
template <class T>
Tensor<T> transpose(const Tensor<T>& a);
// General permutation of axes; ShapeError unless perm is a permutation of
// 0..dim()-1 (a 0-d tensor takes the empty permutation).
template <class T>
Tensor<T> transpose(const Tensor<T>& a, const std::vector<std::size_t>& perm);
// Axes dim0 and dim1 swapped (libtorch's torch::transpose(t, 0, 1); negative
// dims count from the end); ShapeError on a bad dim.
template <class T>
Tensor<T> transpose(const Tensor<T>& a, std::ptrdiff_t dim0, std::ptrdiff_t dim1);
// New shape with the same number of elements; one extent may be -1 (inferred,
// not next to an extent of 0). ShapeError on any other mismatch.
template <class T>
Tensor<T> reshape(const Tensor<T>& a, const std::vector<std::ptrdiff_t>& shape);

// Reshapes as libtorch names them. Like transpose and reshape, each returns a
// copy where libtorch returns a view (tensor.hpp, Storage, says what follows).
// An axis of extent 1 inserted at `dim` of the result (-1: last); ShapeError
// unless -(dim() + 1) <= dim <= dim().
template <class T>
Tensor<T> unsqueeze(const Tensor<T>& a, std::ptrdiff_t dim);
// Every axis of extent 1 removed.
template <class T>
Tensor<T> squeeze(const Tensor<T>& a);
// Axis `dim` removed if its extent is 1, else the same shape (as libtorch);
// ShapeError on a bad dim.
template <class T>
Tensor<T> squeeze(const Tensor<T>& a, std::ptrdiff_t dim);
// Axes start_dim..end_dim (inclusive) merged into one; a 0-d tensor gives
// [1]. ShapeError on a bad dim, ValueError when start_dim comes after end_dim.
template <class T>
Tensor<T> flatten(const Tensor<T>& a, std::ptrdiff_t start_dim = 0, std::ptrdiff_t end_dim = -1);
// Axis `dim` split into `sizes` (one may be -1), e.g. [N, 784] -> [N, 1, 28,
// 28] with unflatten(x, 1, {1, 28, 28}). ShapeError on a bad dim or sizes
// whose product is not the extent; ValueError on empty sizes.
template <class T>
Tensor<T> unflatten(const Tensor<T>& a, std::ptrdiff_t dim,
                    const std::vector<std::ptrdiff_t>& sizes);
// Joins tensors along an existing axis; all other extents must agree
// (ShapeError), and the list must be non-empty (ShapeError) with every tensor
// defined (ValueError).
template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& tensors, std::ptrdiff_t axis = 0);
// concat({a, b}, 0): a braced list deduces T here (it cannot for the vector).
template <class T>
Tensor<T> concat(std::initializer_list<Tensor<T>> tensors, std::ptrdiff_t axis = 0) {
  return concat(std::vector<Tensor<T>>(tensors), axis);
}
// libtorch's name for concat: cat({a, b}, 1).
template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, std::ptrdiff_t axis = 0) {
  return concat(tensors, axis);
}
template <class T>
Tensor<T> cat(std::initializer_list<Tensor<T>> tensors, std::ptrdiff_t axis = 0) {
  return concat(std::vector<Tensor<T>>(tensors), axis);
}

}  // namespace xgrad
