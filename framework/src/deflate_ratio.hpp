// How far deflate data (zip members, gzip files) can expand: at most 1032:1
// (RFC 1951: a 258-byte match costs at least 2 bits). A header declaring more
// than its compressed bytes can hold is lying, and is refused before anything
// is inflated. Private to src/.
#pragma once

#include <cstdint>
#include <limits>

namespace xgrad::detail {

inline constexpr std::uint64_t kMaxDeflateRatio = 1032;

// The most bytes `compressed` bytes of deflate data inflate to (saturating).
inline std::uint64_t max_inflated_size(std::uint64_t compressed) {
  return compressed > std::numeric_limits<std::uint64_t>::max() / kMaxDeflateRatio
             ? std::numeric_limits<std::uint64_t>::max()
             : compressed * kMaxDeflateRatio;
}

}  // namespace xgrad::detail
