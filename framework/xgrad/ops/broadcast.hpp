// The one helper every broadcasting op's backward uses.
#pragma once

#include <xtensor/xarray.hpp>

#include "xgrad/shape.hpp"

namespace xgrad {

// Sums `grad` down to `target` (a shape that broadcasts to grad's shape): sums
// the extra leading axes, then the axes where target has extent 1. Returns
// grad itself (moved) when the shapes already match, zeros of `target` when
// grad is empty. Throws ShapeError when target does not broadcast to grad.
template <class T>
xt::xarray<T> reduce_to_shape(xt::xarray<T> grad, const Shape& target);

}  // namespace xgrad
