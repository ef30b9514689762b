// Low-bit weight codes packed at their bit width (internal): the layout the
// lookup-table kernels read (PackedCodes), and a layout-independent canonical
// form for checkpoints.
//
// Canonical form of an [rows, cols] matrix of b-bit codes (1 <= b <= 8; the
// kernels take b = 2, 3, 4, converted layers store any width this way): the
// codes in row-major order, code i at bits [i*b, i*b + b) of the byte string,
// least significant bit first; ceil(rows*cols*b / 8) bytes, the unused high
// bits of the last byte zero. It does not depend on the kernels or the CPU.
//
// Kernel layout (PackedCodes::words). Rows go in groups of 16 (the last one
// padded with code 0); a 32-bit word holds one row's codes of consecutive
// columns, code p at bits [p*w, p*w + w), where the lane width w is 4 for
// b = 3, 4 (a 3-bit code padded to 4) and 2 for b = 2: 8 or 16 columns per
// word (columns padded with code 0 to a whole word). Words are stored
//   words[(group * word_cols + word_col) * 16 + row_in_group],
// so one 64-byte load is the same word column of 16 rows, one row per 32-bit
// lane: shifting every lane right by p*w puts code p in the low bits, and a
// register permute by the low 4 bits (vpermps ignores the rest) looks the 16
// rows' weights of that column up in the table, with no mask. For w = 2 the
// index also holds the next code's bits, so the 4-entry table is repeated to
// 16 entries (table16[i] = table[i & 3]); AVX2 reads the same words as two
// halves of 8 rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xgrad::quant::kernels {

inline constexpr std::size_t kGroupRows = 16;  // rows per group (one AVX-512 register)

// Bits a code occupies in a kernel word: 4 for b = 3 or 4, 2 for b = 2.
constexpr int lane_bits(int bits) { return bits == 2 ? 2 : 4; }

struct PackedCodes {
  int bits = 0;  // 2, 3 or 4
  std::size_t rows = 0, cols = 0;
  std::vector<std::uint32_t> words;  // the kernel layout above

  std::size_t codes_per_word() const { return std::size_t(32 / lane_bits(bits)); }
  std::size_t groups() const { return (rows + kGroupRows - 1) / kGroupRows; }
  std::size_t word_cols() const { return (cols + codes_per_word() - 1) / codes_per_word(); }
  std::size_t padded_cols() const { return word_cols() * codes_per_word(); }
  // Words from one row group to the next.
  std::size_t group_stride() const { return word_cols() * kGroupRows; }
  std::size_t bytes() const { return words.size() * sizeof(std::uint32_t); }
};

// Packs codes[o * cols + j] (one code per byte, row-major). ValueError for
// bits not 2, 3 or 4, rows or cols 0, codes.size() != rows * cols, or a code
// >= 2^bits (the message names the first one, its row and column).
PackedCodes pack_codes(const std::vector<std::uint8_t>& codes, std::size_t rows, std::size_t cols,
                       int bits);

// The codes back, one per byte, row-major (exactly what was packed).
std::vector<std::uint8_t> unpack_codes(const PackedCodes& packed);

// Canonical form (above). Sizes and codes checked as for pack_codes, bits in
// [1, 8].
std::size_t canonical_bytes(std::size_t rows, std::size_t cols, int bits);
std::vector<std::uint8_t> to_canonical(const std::vector<std::uint8_t>& codes, std::size_t rows,
                                       std::size_t cols, int bits);
std::vector<std::uint8_t> to_canonical(const PackedCodes& packed);

// Reads a canonical byte string (e.g. a checkpoint's uint8 member) into one
// code per byte. ValueError when bits is not in [1, 8], rows or cols is 0,
// the size is not canonical_bytes(rows, cols, bits), or the unused bits of
// the last byte are not zero (a corrupt or mislabelled member).
std::vector<std::uint8_t> from_canonical(const std::vector<std::uint8_t>& bytes, std::size_t rows,
                                         std::size_t cols, int bits);
// The same, straight into the kernel layout (bits 2, 3 or 4).
PackedCodes pack_canonical(const std::vector<std::uint8_t>& bytes, std::size_t rows,
                           std::size_t cols, int bits);

}  // namespace xgrad::quant::kernels
