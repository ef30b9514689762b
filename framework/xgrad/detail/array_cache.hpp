// The array cache's two internal entry points (see xgrad/memory.hpp); both
// libraries use them, users need not.
#pragma once

#include <xtensor/xarray.hpp>

#include "xgrad/shape.hpp"

namespace xgrad::detail {

// Arrays below this many bytes are not cached.
constexpr std::size_t kMinCachedBytes = std::size_t(128) << 10;

// An uninitialized array of `shape`: a cached one with the same element count
// when there is one, else a new one.
template <class T>
xt::xarray<T> new_array(const Shape& shape);

// The same, filled with zeros.
template <class T>
xt::xarray<T> new_zeros(const Shape& shape);

// Takes a's storage into the cache when it is large enough and fits the
// limit (a is left empty); otherwise leaves a as it is. Never throws.
template <class T>
void recycle(xt::xarray<T>& a) noexcept;

}  // namespace xgrad::detail
