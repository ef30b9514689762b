// The straight-through estimator's mask, shared by the APoT and uniform fake
// quantize Functions (internal): one byte per element (1 = the gradient
// passes), kept in the T array that a Context can save.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xtensor/xarray.hpp>

#include "select.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/function.hpp"

namespace xgrad::quant::detail {

// Room for n mask bytes.
template <class T>
xt::xarray<T> mask_storage(std::size_t n) {
  return xgrad::detail::new_array<T>({(n + sizeof(T) - 1) / sizeof(T)});
}

template <class T>
std::uint8_t* mask_bytes(xt::xarray<T>& storage) {
  return reinterpret_cast<std::uint8_t*>(storage.data());
}

template <class T>
const std::uint8_t* mask_bytes(const xt::xarray<T>& storage) {
  return reinterpret_cast<const std::uint8_t*>(storage.data());
}

// detail::mask_grad (g[i] = m[i] ? g[i] : 0 in place, NaN and inf included),
// large arrays split over threads.
template <class T>
void apply_ste_mask(T* g, const std::uint8_t* m, std::size_t n) {
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    mask_grad(g + b, m + b, e - b);
  });
}

// The mask of a forward: room for n bytes, saved in ctx for backward (the
// first saved array) when `keep` (a forward being recorded), else null.
template <class T>
std::uint8_t* saved_mask(Context<T>& ctx, std::size_t n, bool keep) {
  if (!keep) return nullptr;
  ctx.saved_arrays.push_back(mask_storage<T>(n));
  return mask_bytes(ctx.saved_arrays.back());  // moving the array later keeps its buffer
}

// The straight-through gradient: grad (the buffer the engine hands over)
// masked in place by the mask saved_mask kept.
template <class T>
xt::xarray<T> masked_gradient(const Context<T>& ctx, xt::xarray<T> grad) {
  apply_ste_mask(grad.data(), mask_bytes(ctx.saved_arrays.at(0)), grad.size());
  return grad;
}

}  // namespace xgrad::quant::detail
