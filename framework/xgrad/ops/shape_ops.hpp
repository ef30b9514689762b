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
// New shape with the same number of elements; one extent may be -1 (inferred,
// not next to an extent of 0). ShapeError on any other mismatch.
template <class T>
Tensor<T> reshape(const Tensor<T>& a, const std::vector<std::ptrdiff_t>& shape);
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

}  // namespace xgrad
