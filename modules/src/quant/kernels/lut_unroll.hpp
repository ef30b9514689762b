// Compile-time loops of the tile kernels (lut_kernels_impl.hpp,
// lut_int_impl.hpp): code positions as constants, so every shift is an
// immediate, and the run-time batch width mapped onto the instantiated tiles.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace xgrad::quant::kernels {
namespace {

// f(integral_constant<int, 0>), ..., f(integral_constant<int, N - 1>).
template <class Fn, int... P>
inline void each_position(Fn&& f, std::integer_sequence<int, P...>) {
  (f(std::integral_constant<int, P>{}), ...);
}

// make(integral_constant<int, nr>) for nr in 1 .. MaxNR (null otherwise):
// the tile instantiated for that many batch columns.
template <int MaxNR, class Make>
auto pick_nr(std::size_t nr, const Make& make) {
  using Fn = decltype(make(std::integral_constant<int, 1>{}));
  if (nr == std::size_t(MaxNR)) return make(std::integral_constant<int, MaxNR>{});
  if constexpr (MaxNR > 1) {
    return pick_nr<MaxNR - 1>(nr, make);
  } else {
    return Fn(nullptr);
  }
}

}  // namespace
}  // namespace xgrad::quant::kernels
