#include "xgrad/shape.hpp"

#include <ostream>

#include "xgrad/errors.hpp"

namespace xgrad {

std::string to_string(const Shape& shape) { return format_message(shape); }

std::ostream& operator<<(std::ostream& out, const Sizes& sizes) { return out << to_string(sizes); }

std::size_t numel_of(const Shape& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::size_t checked_numel(const Shape& shape, const char* op) {
  // The non-zero extents are bounded even when another one is 0: the strides
  // are their products.
  std::size_t nonzero = 1;
  bool empty = false;
  for (auto d : shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    const bool overflow = __builtin_mul_overflow(nonzero, d, &nonzero);
    XGRAD_CHECK(!overflow && nonzero <= kMaxElements, ValueError, op, ": shape ", shape,
                " has more elements than can be addressed (at most 2^60 - 1)");
  }
  return empty ? 0 : nonzero;
}

void throw_out_of_memory(const std::string& op, const Shape& shape, std::size_t element_size) {
  const std::size_t n = numel_of(shape);
  throw_error<ResourceError>(op, ": cannot allocate memory for shape ", shape, " (", n,
                             " elements of ", element_size, " bytes)");
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    // Align from the right; missing leading axes count as 1.
    const std::size_t da = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::size_t db = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    XGRAD_CHECK(da == db || da == 1 || db == 1, ShapeError, op, ": shapes ", a, " and ", b,
                " do not broadcast (axis ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::size_t normalize_axis(std::ptrdiff_t axis, std::size_t ndim, const char* op) {
  const auto n = static_cast<std::ptrdiff_t>(ndim);
  XGRAD_CHECK(axis >= -n && axis < n, ShapeError, op, ": axis ", axis,
              " is out of range for a tensor of dimension ", ndim);
  return static_cast<std::size_t>(axis < 0 ? axis + n : axis);
}

}  // namespace xgrad
