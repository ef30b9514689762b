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
// numel_of for a shape about to be allocated: throws ValueError naming `op`
// and the shape when the product overflows std::size_t (xtensor would
// allocate the wrapped-around size and index far past it).
std::size_t checked_numel(const Shape& shape, const char* op);

// NumPy broadcasting of two shapes. Throws ShapeError naming `op` and both
// shapes when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Normalizes a possibly negative axis against `ndim`. Throws ShapeError naming
// `op` when the axis is out of range.
std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op);

}  // namespace xgrad
