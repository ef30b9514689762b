// Shapes: the type every tensor uses, printing, and NumPy broadcasting rules.
#pragma once

#include <cstddef>
#include <string>
#include <xtensor/xstorage.hpp>

namespace xgrad {

// Same type as xt::xarray<T>::shape_type, so shapes pass without conversion.
using Shape = xt::svector<std::size_t, 4>;

// "[2, 3]"; "[]" for a 0-d shape.
std::string to_string(const Shape& shape);

// Product of the extents (1 for a 0-d shape).
std::size_t numel_of(const Shape& shape);

// NumPy broadcasting of two shapes. Throws ShapeError naming `op` and both
// shapes when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Normalizes a possibly negative axis against `ndim`. Throws ShapeError naming
// `op` when the axis is out of range.
std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op);

}  // namespace xgrad
