// Packing of low-bit codes: kernel layout and canonical form (packed_codes.hpp).
#include "packed_codes.hpp"

#include <limits>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant::kernels {

namespace {

// rows * cols codes of `bits` bits: the checks every entry point shares.
// The kernel layout takes 2, 3 or 4 bits; the canonical form 1 to 8.
void check_matrix(const char* fn, std::size_t rows, std::size_t cols, int bits,
                  bool canonical = false) {
  if (canonical) {
    XGRAD_CHECK(bits >= 1 && bits <= 8, ValueError, fn, ": bits must be in [1, 8], got ", bits);
  } else {
    XGRAD_CHECK(bits == 2 || bits == 3 || bits == 4, ValueError, fn,
                ": bits must be 2, 3 or 4, got ", bits);
  }
  XGRAD_CHECK(rows != 0 && cols != 0, ValueError, fn, ": rows and cols must be positive, got ",
              rows, " x ", cols);
  // Codes, padded words and bit offsets must all be addressable.
  XGRAD_CHECK(rows <= std::numeric_limits<std::size_t>::max() / 8 / (cols + 32), ValueError, fn,
              ": ", rows, " x ", cols, " codes are more than can be addressed");
}

void check_codes(const char* fn, const std::vector<std::uint8_t>& codes, std::size_t rows,
                 std::size_t cols, int bits, bool canonical = false) {
  check_matrix(fn, rows, cols, bits, canonical);
  XGRAD_CHECK(codes.size() == rows * cols, ValueError, fn, ": codes has ", codes.size(),
              " elements, expected rows * cols = ", rows * cols);
  const unsigned limit = 1u << bits;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    XGRAD_CHECK(codes[i] < limit, ValueError, fn, ": code ", codes[i], " at row ", i / cols,
                ", column ", i % cols, " is outside [0, ", limit, ") for ", bits, "-bit codes");
  }
}

PackedCodes pack_checked(const std::uint8_t* codes, std::size_t rows, std::size_t cols, int bits) {
  PackedCodes p;
  p.bits = bits;
  p.rows = rows;
  p.cols = cols;
  const std::size_t w = std::size_t(lane_bits(bits)), per_word = p.codes_per_word();
  p.words.assign(p.groups() * p.group_stride(), 0u);
  for (std::size_t o = 0; o < rows; ++o) {
    std::uint32_t* row = p.words.data() + (o / kGroupRows) * p.group_stride() + o % kGroupRows;
    for (std::size_t j = 0; j < cols; ++j) {
      row[(j / per_word) * kGroupRows] |= std::uint32_t(codes[o * cols + j]) << (j % per_word * w);
    }
  }
  return p;
}

}  // namespace

PackedCodes pack_codes(const std::vector<std::uint8_t>& codes, std::size_t rows, std::size_t cols,
                       int bits) {
  check_codes("pack_codes", codes, rows, cols, bits);
  return pack_checked(codes.data(), rows, cols, bits);
}

std::vector<std::uint8_t> unpack_codes(const PackedCodes& p) {
  std::vector<std::uint8_t> codes(p.rows * p.cols);
  const std::size_t w = std::size_t(lane_bits(p.bits)), per_word = p.codes_per_word();
  const std::uint32_t mask = (1u << w) - 1;
  for (std::size_t o = 0; o < p.rows; ++o) {
    const std::uint32_t* row =
        p.words.data() + (o / kGroupRows) * p.group_stride() + o % kGroupRows;
    for (std::size_t j = 0; j < p.cols; ++j) {
      codes[o * p.cols + j] =
          std::uint8_t(row[(j / per_word) * kGroupRows] >> (j % per_word * w) & mask);
    }
  }
  return codes;
}

std::size_t canonical_bytes(std::size_t rows, std::size_t cols, int bits) {
  check_matrix("canonical_bytes", rows, cols, bits, true);
  return (rows * cols * std::size_t(bits) + 7) / 8;
}

std::vector<std::uint8_t> to_canonical(const std::vector<std::uint8_t>& codes, std::size_t rows,
                                       std::size_t cols, int bits) {
  check_codes("to_canonical", codes, rows, cols, bits, true);
  std::vector<std::uint8_t> bytes(canonical_bytes(rows, cols, bits), 0);
  const std::size_t b = std::size_t(bits);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    // A code spans at most two bytes (b <= 8).
    const std::size_t bit = i * b;
    const unsigned v = unsigned(codes[i]) << (bit % 8);
    bytes[bit / 8] |= std::uint8_t(v);
    if (v >> 8) bytes[bit / 8 + 1] |= std::uint8_t(v >> 8);
  }
  return bytes;
}

std::vector<std::uint8_t> to_canonical(const PackedCodes& packed) {
  return to_canonical(unpack_codes(packed), packed.rows, packed.cols, packed.bits);
}

std::vector<std::uint8_t> from_canonical(const std::vector<std::uint8_t>& bytes, std::size_t rows,
                                         std::size_t cols, int bits) {
  check_matrix("from_canonical", rows, cols, bits, true);
  const std::size_t expected = (rows * cols * std::size_t(bits) + 7) / 8;
  XGRAD_CHECK(bytes.size() == expected, ValueError, "from_canonical: bytes has ", bytes.size(),
              " elements, expected ", expected, " for ", rows, " x ", cols, " ", bits,
              "-bit codes");
  const std::size_t used = rows * cols * std::size_t(bits) % 8;
  XGRAD_CHECK(used == 0 || (bytes.back() >> used) == 0, ValueError,
              "from_canonical: the unused high ", 8 - used,
              " bits of the last byte must be zero, got byte ", bytes.back(),
              " (corrupt data, or not ", bits, "-bit codes of ", rows, " x ", cols, ")");
  std::vector<std::uint8_t> codes(rows * cols);
  const std::size_t b = std::size_t(bits);
  const unsigned mask = (1u << bits) - 1;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::size_t bit = i * b, byte = bit / 8;
    unsigned v = bytes[byte];
    if (byte + 1 < bytes.size()) v |= unsigned(bytes[byte + 1]) << 8;
    codes[i] = std::uint8_t(v >> (bit % 8) & mask);
  }
  return codes;
}

PackedCodes pack_canonical(const std::vector<std::uint8_t>& bytes, std::size_t rows,
                           std::size_t cols, int bits) {
  // Every b-bit field is a valid b-bit code: nothing more to check.
  check_matrix("pack_canonical", rows, cols, bits);
  const std::vector<std::uint8_t> codes = from_canonical(bytes, rows, cols, bits);
  return pack_checked(codes.data(), rows, cols, bits);
}

}  // namespace xgrad::quant::kernels
