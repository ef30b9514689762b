// What the drivers of the float and integer tile kernels share (internal;
// lut_matrix.cpp, lut_int_matrix.cpp): batch panels, row tiles over the
// threads, and the size checks of a forward call.
#pragma once

#include <algorithm>
#include <cstddef>

#include "packed_codes.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant::kernels {

// Batch columns cut into `count` panels of at most max_nr, as even as possible.
struct Panels {
  std::size_t count, base, extra;  // the first `extra` panels have base + 1 columns
  std::size_t size(std::size_t p) const { return base + (p < extra ? 1 : 0); }
  std::size_t first(std::size_t p) const { return p * base + std::min(p, extra); }
};

inline Panels panels_of(std::size_t batch, std::size_t max_nr) {
  const std::size_t count = (batch + max_nr - 1) / max_nr;
  return {count, batch / count, batch % count};
}

// A product's multiply-adds per elementwise-op element in the grain of
// parallel_for: one vector fma does 16 of them in about an element's time.
constexpr std::size_t kProductsPerElement = 16;

// body(g0, groups) for the row tiles of `tile_groups` row groups (the last
// groups one at a time: the kernels' sizes), tiles split over the threads
// when each thread gets enough products (tile_products per tile) to pay for
// its wake-up (the converted LeNet-5 at batch 1, whose 120 x 400 layer's two
// tiles of 25,600 products were split, took 92 ms instead of 0.58 ms at 2
// threads on a busy machine, load average 35). Tiles depend on the shape only, never on the thread
// count.
template <class Body>
void for_each_row_tile(std::size_t groups, std::size_t tile_groups, std::size_t tile_products,
                       const Body& body) {
  const std::size_t tiles = (groups + tile_groups - 1) / tile_groups;
  xgrad::detail::parallel_for(
      tiles, xgrad::detail::row_grain(tile_products / kProductsPerElement),
      [&](std::size_t t0, std::size_t t1) {
        for (std::size_t t = t0; t < t1; ++t) {
          const std::size_t first = t * tile_groups, end = std::min(groups, first + tile_groups);
          const std::size_t step = end - first == tile_groups ? tile_groups : 1;
          for (std::size_t g0 = first; g0 < end; g0 += step) body(g0, step);
        }
      });
}

// The size checks of a forward call: batch > 0, in_size == batch * cols,
// y_size == batch * rows (ValueError naming fn, the argument and the sizes).
inline void check_forward_sizes(const char* fn, const char* in, std::size_t in_size,
                                std::size_t batch, std::size_t cols, std::size_t y_size,
                                std::size_t rows) {
  XGRAD_CHECK(batch > 0, ValueError, fn, ": batch must be positive, got 0");
  XGRAD_CHECK(in_size == batch * cols, ValueError, fn, ": ", in, " has ", in_size,
              " elements, expected batch * cols = ", batch, " * ", cols);
  XGRAD_CHECK(y_size == batch * rows, ValueError, fn, ": y has ", y_size,
              " elements, expected batch * rows = ", batch, " * ", rows);
}

}  // namespace xgrad::quant::kernels
