// Branch-free selections for the straight-through estimators (internal). As
// bit masks (not `c ? v : 0`), so a NaN or inf v is also zeroed where c is
// false and the loops using them vectorize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace xgrad::quant::detail {

// v where c holds, else +0.
template <class T>
inline T keep_if(bool c, T v) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  U bits;
  std::memcpy(&bits, &v, sizeof(T));
  bits &= U(0) - static_cast<U>(c);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

// c ? a : b as a bit select (no branch, no arithmetic: signed zeros and NaN
// payloads kept).
template <class T>
inline T select(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  U ba, bb;
  std::memcpy(&ba, &a, sizeof(T));
  std::memcpy(&bb, &b, sizeof(T));
  const U m = U(0) - static_cast<U>(c);
  const U r = (ba & m) | (bb & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// g[i] = m[i] ? g[i] : 0 in place (m: one byte per element, 0 or 1).
template <class T>
inline void mask_grad(T* __restrict g, const std::uint8_t* __restrict m, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) g[i] = keep_if(m[i] != 0, g[i]);
}

}  // namespace xgrad::quant::detail
