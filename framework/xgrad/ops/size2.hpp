// Size2: a (height, width) pair for conv and pooling arguments, built from one
// integer (both dimensions, `stride = 2`) or two (`padding = {1, 0}`), like
// libtorch's ExpandingArray<2>. Signed, so that a negative value reaches the
// op's check (and its error message) instead of wrapping around.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "xgrad/errors.hpp"

namespace xgrad {

struct Size2 {
  std::int64_t h, w;
  Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: implicit, as libtorch
  Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Size2& o) const { return !(*this == o); }
};

// "[h, w]", as the error messages print it. A template so that an integer
// never converts to a Size2 here: to_string(5) must not print "[5, 5]".
template <class S, std::enable_if_t<std::is_same<S, Size2>::value, int> = 0>
std::string to_string(const S& s) {
  return format_message("[", s.h, ", ", s.w, "]");
}

}  // namespace xgrad
