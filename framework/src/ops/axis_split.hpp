// Views a contiguous row-major shape as [outer, extent, inner] around a run of
// axes (private to src/ops). Reductions, max, concat, index_select and softmax loop
// over this view, so every inner loop walks contiguous memory.
#pragma once

#include <cstddef>

#include "xgrad/shape.hpp"

namespace xgrad {

struct AxisSplit {
  std::size_t outer = 1;   // product of the extents before `first`
  std::size_t extent = 1;  // product of the extents in [first, last)
  std::size_t inner = 1;   // product of the extents from `last` on
};

inline AxisSplit split_axes(const Shape& shape, std::size_t first, std::size_t last) {
  AxisSplit s;
  for (std::size_t k = 0; k < shape.size(); ++k) {
    (k < first ? s.outer : k < last ? s.extent : s.inner) *= shape[k];
  }
  return s;
}

inline AxisSplit split_at(const Shape& shape, std::size_t axis) {
  return split_axes(shape, axis, axis + 1);
}

}  // namespace xgrad
