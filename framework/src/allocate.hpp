// The arrays behind newly created tensors (private to src/): the shape is
// checked first (ValueError for impossible sizes, see checked_numel), and a
// failed allocation becomes a ResourceError naming the op, never a
// std::bad_alloc escaping to the user.
#pragma once

#include <new>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/shape.hpp"

namespace xgrad {

// Uninitialized elements: the caller fills them.
template <class T>
xt::xarray<T> allocate_array(const Shape& shape, const char* op) {
  checked_numel(shape, op);
  try {
    return detail::new_array<T>(shape);
  } catch (const std::bad_alloc&) {
    throw_out_of_memory(op, shape, sizeof(T));
  }
}

}  // namespace xgrad
