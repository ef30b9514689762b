// Integer class labels, the type cross_entropy and nll_loss take: argmax,
// checked conversion from float class ids, random labels, and their
// comparison. A classifier's accuracy is one line:
//
//   double acc = double(count_nonzero(eq(argmax(logits, 1), labels))) / labels.size();
#pragma once

#include <cstddef>
#include <cstdint>
#include <xtensor/xarray.hpp>

#include "xgrad/ops/compare.hpp"  // Mask, count_nonzero
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

// Class labels: int64 values, shape [N] for cross_entropy.
using Labels = xt::xarray<std::int64_t>;

// Index of the maximum along `dim` (the first one on ties; a NaN wins, the
// first one, as in libtorch), with that axis removed or, with keepdim, kept
// with extent 1. No gradient (indices are integers). Throws ShapeError for a
// bad dim, a 0-d tensor or an axis of extent 0.
template <class T>
Labels argmax(const Tensor<T>& a, std::ptrdiff_t dim, bool keepdim = false);

// The labels held in a float tensor (a column of class ids read from a file,
// randint<T> output): every value must be a finite integer >= 0 and, when
// num_classes > 0, < num_classes. Throws ValueError naming the first bad
// position and value; same shape as `ids`.
template <class T>
Labels to_labels(const Tensor<T>& ids, std::int64_t num_classes = 0);

// Labels as a float tensor (exact while |label| <= 2^digits of T; ValueError
// naming the position otherwise).
template <class T>
Tensor<T> from_labels(const Labels& labels);

// Uniform integers in [low, high) as Labels (libtorch's randint with kLong).
// randint<float>(...) in random.hpp gives the same values stored as floats.
// Throws ValueError unless low < high.
Labels randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen);
inline Labels randint(std::int64_t low, std::int64_t high, const Shape& shape) {
  return randint(low, high, shape, default_generator());
}

// Elementwise equality of two label arrays of the same shape (ShapeError
// otherwise, naming both shapes).
Mask eq(const Labels& a, const Labels& b);

}  // namespace xgrad
