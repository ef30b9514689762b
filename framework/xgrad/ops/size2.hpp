// Size2: a (height, width) pair for conv and pooling arguments, built from one
// integer (both dimensions, `stride = 2`) or two (`padding = {1, 0}`), like
// libtorch's ExpandingArray<2>. Signed, so that a negative value reaches the
// op's check (and its error message) instead of wrapping around.
#pragma once

#include <cstdint>
#include <string>

namespace xgrad {

struct Size2 {
  std::int64_t h, w;
  Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: implicit, as libtorch
  Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Size2& o) const { return !(*this == o); }
};

// "[h, w]", as the error messages print it.
inline std::string to_string(const Size2& s) {
  return "[" + std::to_string(s.h) + ", " + std::to_string(s.w) + "]";
}

}  // namespace xgrad
