// What the file readers (idx.hpp, csv.hpp) accept at most, so that the memory
// a file can make them use stays bounded whatever its bytes say.
#pragma once

#include <cstddef>

namespace xgrad::data {

// Values in one file: 2^30 (4 GiB as float, 8 GiB as double; Fashion-MNIST's
// training images are 47,040,000). An IDX header declaring more, or a CSV
// holding more, is refused with an IOError before the values are stored.
inline constexpr std::size_t kMaxFileValues = std::size_t(1) << 30;

// Bytes in one CSV line: 16 MiB (a row of a million short numbers). A longer
// line is refused when the reader gets there, never held whole.
inline constexpr std::size_t kMaxLineBytes = std::size_t(1) << 24;

}  // namespace xgrad::data
