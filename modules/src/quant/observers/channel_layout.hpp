// Internal: a tensor seen as [outer, channels, inner] around its channel axis
// (row-major), as the per-channel observer and fake quantizers walk it.
#pragma once

#include <cstddef>

#include "xgrad/quant/observers/per_channel_observer.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::quant::detail {

struct ChannelLayout {
  std::size_t outer = 1, channels = 1, inner = 1;
  std::size_t axis = 0;
};

// ShapeError (naming op) for an axis out of range.
inline ChannelLayout channel_layout(const Shape& shape, std::ptrdiff_t axis, const char* op) {
  ChannelLayout l;
  l.axis = normalize_channel_axis(axis, shape.size(), op);
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < l.axis) l.outer *= shape[d];
    if (d == l.axis) l.channels = shape[d];
    if (d > l.axis) l.inner *= shape[d];
  }
  return l;
}

}  // namespace xgrad::quant::detail
