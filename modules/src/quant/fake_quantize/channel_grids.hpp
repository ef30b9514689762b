// Internal: validated per-channel grids (scale, 1 / scale, zero point, range)
// for the per-channel fake quantizers.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "../kernels/affine_reference.hpp"
#include "../observers/channel_layout.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant::detail {

// ShapeError unless scale and zero_point are 1-D with `channels` entries.
template <class T>
void require_channel_params(const Tensor<T>& scale, const Tensor<T>& zero_point,
                            std::size_t channels, const char* op) {
  XGRAD_CHECK(scale.defined() && zero_point.defined(), ValueError, op,
              ": scale or zero_point is undefined");
  XGRAD_CHECK(scale.dim() == 1 && scale.numel() == channels && zero_point.dim() == 1 &&
                  zero_point.numel() == channels,
              ShapeError, op, ": scale and zero_point must have shape [", channels,
              "] (x's size on the axis), got ", scale.shape(), " and ", zero_point.shape());
}

// ValueError unless sc is finite, > 0 and has a finite inverse in T.
template <class T>
void require_scale(T sc, const char* op, const std::string& which) {
  const T inv = T(1) / sc;
  XGRAD_CHECK(sc > T(0) && std::isfinite(sc) && std::isfinite(inv), ValueError, op, ": ", which,
              " must be finite and > 0 (with a finite inverse), got ", sc);
}

// One grid per channel; zero points given as T values, already integers.
template <class T>
std::vector<AffineGrid<T>> channel_grids(const T* scale, const T* zp, std::size_t channels,
                                         std::int64_t quant_min, std::int64_t quant_max,
                                         const char* op) {
  std::vector<AffineGrid<T>> g(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    require_scale(scale[c], op, "scale[" + std::to_string(c) + "]");
    g[c] = {scale[c], T(1) / scale[c], zp[c], T(quant_min), T(quant_max)};
  }
  return g;
}

}  // namespace xgrad::quant::detail
