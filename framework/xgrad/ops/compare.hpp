// Comparisons producing masks (libtorch's eq / ne / lt / le / gt / ge, and its
// operators ==, !=, <, <=, >, >= on tensors). A mask
// is an xt::xarray<bool>: it has no gradient, feeds where(mask, a, b) directly,
// and count_nonzero(mask) counts its true elements. A float mask, as Python's
// (a > b).float(), is tensor_from_mask<T>(mask).
#pragma once

#include <cstdint>
#include <xtensor/xarray.hpp>

#include "xgrad/ops/elementwise.hpp"  // scalar_t
#include "xgrad/tensor.hpp"

namespace xgrad {

using Mask = xt::xarray<bool>;

// Elementwise, with NumPy broadcasting (ShapeError naming the op and both
// shapes when they do not broadcast). NaN compares unequal to everything, as
// in IEEE arithmetic: ne is true, the others false.
template <class T>
Mask eq(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask ne(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask lt(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask le(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask gt(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask ge(const Tensor<T>& a, const Tensor<T>& b);
template <class T>
Mask eq(const Tensor<T>& a, scalar_t<T> s);
template <class T>
Mask ne(const Tensor<T>& a, scalar_t<T> s);
template <class T>
Mask lt(const Tensor<T>& a, scalar_t<T> s);
template <class T>
Mask le(const Tensor<T>& a, scalar_t<T> s);
template <class T>
Mask gt(const Tensor<T>& a, scalar_t<T> s);
template <class T>
Mask ge(const Tensor<T>& a, scalar_t<T> s);

// The operators, as libtorch spells them: a == b, a < 0.5f, 0.5f < a ... are
// the functions above (a Mask, not a bool tensor). Labels and Masks are
// xt::xarrays: their == is xtensor's, one bool for the whole arrays; compare
// labels elementwise with eq(a, b) (ops/labels.hpp).
template <class T>
Mask operator==(const Tensor<T>& a, const Tensor<T>& b) {
  return eq(a, b);
}
template <class T>
Mask operator!=(const Tensor<T>& a, const Tensor<T>& b) {
  return ne(a, b);
}
template <class T>
Mask operator<(const Tensor<T>& a, const Tensor<T>& b) {
  return lt(a, b);
}
template <class T>
Mask operator<=(const Tensor<T>& a, const Tensor<T>& b) {
  return le(a, b);
}
template <class T>
Mask operator>(const Tensor<T>& a, const Tensor<T>& b) {
  return gt(a, b);
}
template <class T>
Mask operator>=(const Tensor<T>& a, const Tensor<T>& b) {
  return ge(a, b);
}
template <class T>
Mask operator==(const Tensor<T>& a, scalar_t<T> s) {
  return eq(a, s);
}
template <class T>
Mask operator!=(const Tensor<T>& a, scalar_t<T> s) {
  return ne(a, s);
}
template <class T>
Mask operator<(const Tensor<T>& a, scalar_t<T> s) {
  return lt(a, s);
}
template <class T>
Mask operator<=(const Tensor<T>& a, scalar_t<T> s) {
  return le(a, s);
}
template <class T>
Mask operator>(const Tensor<T>& a, scalar_t<T> s) {
  return gt(a, s);
}
template <class T>
Mask operator>=(const Tensor<T>& a, scalar_t<T> s) {
  return ge(a, s);
}
template <class T>
Mask operator==(scalar_t<T> s, const Tensor<T>& a) {
  return eq(a, s);
}
template <class T>
Mask operator!=(scalar_t<T> s, const Tensor<T>& a) {
  return ne(a, s);
}
template <class T>
Mask operator<(scalar_t<T> s, const Tensor<T>& a) {
  return gt(a, s);
}
template <class T>
Mask operator<=(scalar_t<T> s, const Tensor<T>& a) {
  return ge(a, s);
}
template <class T>
Mask operator>(scalar_t<T> s, const Tensor<T>& a) {
  return lt(a, s);
}
template <class T>
Mask operator>=(scalar_t<T> s, const Tensor<T>& a) {
  return le(a, s);
}

// Number of true elements. By value: an unqualified call also finds
// xt::count_nonzero(E&&) through ADL (a Mask is an xt type), which would beat
// a const reference and return a lazy expression; a non-template taking the
// mask by value always wins.
std::int64_t count_nonzero(Mask mask);
// A bool is not a mask: count_nonzero(labels_a == labels_b) would count
// xtensor's whole-array equality (one bool) as a 0-d mask. Use eq(a, b).
std::int64_t count_nonzero(bool) = delete;

// 1 where the mask is true, 0 elsewhere, same shape; no history.
template <class T>
Tensor<T> tensor_from_mask(const Mask& mask);

}  // namespace xgrad
