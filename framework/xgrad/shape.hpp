// Shapes: the type every tensor uses, printing, and NumPy broadcasting rules.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <xtensor/xstorage.hpp>

namespace xgrad {

// Same type as xt::xarray<T>::shape_type, so shapes pass without conversion.
using Shape = xt::svector<std::size_t, 4>;

// "[2, 3]"; "[]" for a 0-d shape.
std::string to_string(const Shape& shape);

// What Tensor::sizes() returns: a Shape (it converts and compares as one)
// that prints as libtorch's sizes do, `std::cout << t.sizes()` giving
// "[2, 3]". (A plain Shape is an xtensor type, so an operator<< for it in
// this namespace would not be found.)
struct Sizes : Shape {
  Sizes(const Shape& shape) : Shape(shape) {}  // NOLINT
};
std::ostream& operator<<(std::ostream& out, const Sizes& sizes);

// Product of the extents (1 for a 0-d shape).
std::size_t numel_of(const Shape& shape);
// numel_of for a shape about to be allocated: throws ValueError naming `op`
// and the shape unless the product of its non-zero extents is at most
// kMaxElements (so that the bytes of a double array, and xtensor's strides,
// which ignore zero extents, fit in ptrdiff_t).
std::size_t checked_numel(const Shape& shape, const char* op);
constexpr std::size_t kMaxElements = (std::size_t(1) << 63) / 8 - 1;

// Throws ResourceError: `op` could not allocate an array of `shape` with
// elements of `element_size` bytes (called where std::bad_alloc is caught).
[[noreturn]] void throw_out_of_memory(const std::string& op, const Shape& shape,
                                      std::size_t element_size);

// NumPy broadcasting of two shapes. Throws ShapeError naming `op` and both
// shapes when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Normalizes a possibly negative axis against `ndim`. Throws ShapeError naming
// `op` when the axis is out of range.
std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op);

}  // namespace xgrad
