// The straight-through estimator's mask, shared by the APoT and uniform fake
// quantize Functions (internal): one byte per element (1 = the gradient
// passes), kept in the T array that a Context can save.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/parallel.hpp"

namespace xgrad {
namespace quant {
namespace detail {

// Room for n mask bytes.
template <class T>
xt::xarray<T> mask_storage(std::size_t n) {
  return xt::xarray<T>::from_shape({(n + sizeof(T) - 1) / sizeof(T)});
}

template <class T>
std::uint8_t* mask_bytes(xt::xarray<T>& storage) {
  return reinterpret_cast<std::uint8_t*>(storage.data());
}

template <class T>
const std::uint8_t* mask_bytes(const xt::xarray<T>& storage) {
  return reinterpret_cast<const std::uint8_t*>(storage.data());
}

// g[i] = m[i] ? g[i] : 0 in place, as a bit mask (a NaN or inf g also becomes
// 0 where masked out); restrict pointers and no branch let the compiler
// vectorize it. Large arrays are split over threads.
template <class T>
void apply_ste_mask(T* g, const std::uint8_t* m, std::size_t n) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    T* __restrict gg = g + b;
    const std::uint8_t* __restrict mm = m + b;
    for (std::size_t i = 0; i < e - b; ++i) {
      U bits;
      std::memcpy(&bits, gg + i, sizeof(T));
      bits &= U(0) - static_cast<U>(mm[i]);
      std::memcpy(gg + i, &bits, sizeof(T));
    }
  });
}

}  // namespace detail
}  // namespace quant
}  // namespace xgrad
