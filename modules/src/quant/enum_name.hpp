// The name of an enum value from its names in declaration order: the one way
// the quantization wing spells its enums (the to_string of QScheme,
// LevelScheme, SimdIsa, ...). A value outside the list, a cast integer, is
// "unknown".
#pragma once

#include <cstddef>

namespace xgrad::quant::detail {

template <class E, std::size_t N>
constexpr const char* enum_name(E value, const char* const (&names)[N]) {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : "unknown";
}

}  // namespace xgrad::quant::detail
