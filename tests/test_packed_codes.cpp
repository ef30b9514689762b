// Low-bit code packing (modules/src/quant/kernels/packed_codes.hpp): the
// kernel layout and the canonical checkpoint form give back exactly the codes
// packed, at 2, 3 and 4 bits and on shapes that fill no word or group
// evenly; known bytes and words for small cases; bad sizes, codes and
// canonical bytes refused with messages that name the function and value.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "../modules/src/quant/kernels/packed_codes.hpp"
#include "test_util.hpp"

BOOST_AUTO_TEST_SUITE(test_packed_codes)

using namespace xgrad::quant::kernels;
using xgrad_test::raises;

namespace {

std::vector<std::uint8_t> random_codes(std::size_t n, int bits, unsigned seed) {
  std::mt19937 gen{seed};
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
  std::vector<std::uint8_t> codes(n);
  for (auto& c : codes) c = std::uint8_t(code(gen));
  return codes;
}

struct Dims {
  std::size_t rows, cols;
};
// Rows: one, fewer than a group, a group and one more; columns: one, odd,
// a whole word (8 or 16), one past a word, past several words.
const Dims kShapes[] = {{1, 1},   {1, 5},   {3, 17},  {17, 3},   {16, 8},
                        {16, 16}, {17, 33}, {3, 129}, {33, 257}, {5, 1000}};

}  // namespace

BOOST_AUTO_TEST_CASE(kernel_layout_round_trips_at_every_width) {
  for (int bits : {2, 3, 4}) {
    for (const Dims& d : kShapes) {
      BOOST_TEST_CONTEXT("bits " << bits << ", " << d.rows << " x " << d.cols) {
        const auto codes = random_codes(d.rows * d.cols, bits, unsigned(d.rows * 1000 + d.cols));
        const PackedCodes p = pack_codes(codes, d.rows, d.cols, bits);
        BOOST_TEST(p.words.size() == p.groups() * p.group_stride());
        BOOST_TEST((unpack_codes(p) == codes));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(canonical_form_round_trips_at_every_width) {
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8}) {
    for (const Dims& d : kShapes) {
      BOOST_TEST_CONTEXT("bits " << bits << ", " << d.rows << " x " << d.cols) {
        const auto codes = random_codes(d.rows * d.cols, bits, unsigned(d.cols * 1000 + d.rows));
        const auto bytes = to_canonical(codes, d.rows, d.cols, bits);
        BOOST_TEST(bytes.size() == (d.rows * d.cols * std::size_t(bits) + 7) / 8);
        BOOST_TEST(bytes.size() == canonical_bytes(d.rows, d.cols, bits));
        BOOST_TEST((from_canonical(bytes, d.rows, d.cols, bits) == codes));
        if (bits < 2 || bits > 4) continue;  // the kernel layout's widths
        const PackedCodes p = pack_canonical(bytes, d.rows, d.cols, bits);
        BOOST_TEST((p.words == pack_codes(codes, d.rows, d.cols, bits).words));
        BOOST_TEST((to_canonical(p) == bytes));
      }
    }
  }
}

// The canonical form is row-major, code i at bits [i*b, i*b + b), LSB first.
BOOST_AUTO_TEST_CASE(canonical_bytes_are_row_major_lsb_first) {
  // 2-bit 2 x 2 [1 2; 3 0]: 01 | 10 << 2 | 11 << 4 | 00 << 6.
  BOOST_TEST((to_canonical({1, 2, 3, 0}, 2, 2, 2) == std::vector<std::uint8_t>{0x39}));
  // 3-bit 1 x 3 [5 3 7]: 101 | 011 << 3 | 11 << 6, then the 7's high bit.
  BOOST_TEST((to_canonical({5, 3, 7}, 1, 3, 3) == std::vector<std::uint8_t>{0xDD, 0x01}));
  // 4-bit 1 x 3 [0xA 0xB 0xC]: low nibble first.
  BOOST_TEST((to_canonical({10, 11, 12}, 1, 3, 4) == std::vector<std::uint8_t>{0xBA, 0x0C}));
  // 8-bit: one code per byte; 5-bit [31 1]: 11111 | 001 << 5, then 00.
  BOOST_TEST((to_canonical({200, 7}, 1, 2, 8) == std::vector<std::uint8_t>{200, 7}));
  BOOST_TEST((to_canonical({31, 1}, 1, 2, 5) == std::vector<std::uint8_t>{0x3F, 0x00}));
}

// Word (group, word column, row in group) holds the row's codes of 8 (16)
// consecutive columns, code p at bits [p*w, p*w + w).
BOOST_AUTO_TEST_CASE(kernel_words_hold_consecutive_columns_of_one_row) {
  std::vector<std::uint8_t> codes(2 * 9);
  for (std::size_t j = 0; j < 9; ++j) {
    codes[j] = std::uint8_t(j + 1);       // row 0: 1 .. 9
    codes[9 + j] = std::uint8_t(15 - j);  // row 1: 15 .. 7
  }
  const PackedCodes p = pack_codes(codes, 2, 9, 4);
  BOOST_TEST(p.words.size() == 2 * 16u);  // one group, two word columns
  BOOST_TEST(p.words[0] == 0x87654321u);  // row 0, columns 0..7
  BOOST_TEST(p.words[1] == 0x89ABCDEFu);  // row 1, columns 0..7
  BOOST_TEST(p.words[2] == 0u);           // row 2: padding
  BOOST_TEST(p.words[16] == 0x9u);        // row 0, column 8
  BOOST_TEST(p.words[17] == 0x7u);        // row 1, column 8
  const PackedCodes q = pack_codes({1, 2, 3, 0, 3}, 1, 5, 2);
  BOOST_TEST(q.words[0] == 0x339u);  // 2-bit: 16 columns per word
  // A 3-bit code takes a 4-bit lane.
  BOOST_TEST(pack_codes({7, 5}, 1, 2, 3).words[0] == 0x57u);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_with_their_values) {
  const std::vector<std::uint8_t> four(4, 0);
  xgrad_test::check_bad_calls({
      {"bits 1", raises<xgrad::ValueError>("pack_codes", {"bits", "got 1"}),
       [&] { pack_codes(four, 2, 2, 1); }},
      {"canonical bits 9", raises<xgrad::ValueError>("to_canonical", {"[1, 8]", "got 9"}),
       [&] { to_canonical(four, 2, 2, 9); }},
      {"kernel layout bits 8", raises<xgrad::ValueError>("pack_canonical", {"got 8"}),
       [&] { pack_canonical(four, 2, 2, 8); }},
      {"zero rows", raises<xgrad::ValueError>("pack_codes", {"0 x 4"}),
       [&] { pack_codes({}, 0, 4, 4); }},
      {"size", raises<xgrad::ValueError>("pack_codes", {"has 4", "= 6"}),
       [&] { pack_codes(four, 3, 2, 4); }},
      {"code out of range",
       raises<xgrad::ValueError>("pack_codes", {"code 4", "row 1, column 1", "[0, 4)"}),
       [] {
         pack_codes({0, 1, 2, 4}, 2, 2, 2);
       }},
      {"3-bit code 8", raises<xgrad::ValueError>("to_canonical", {"code 8"}),
       [] { to_canonical({8}, 1, 1, 3); }},
      {"canonical size", raises<xgrad::ValueError>("from_canonical", {"has 3", "expected 2"}),
       [] {
         from_canonical({1, 2, 3}, 1, 3, 4);
       }},
      {"canonical too short", raises<xgrad::ValueError>("from_canonical", {"has 1", "expected 3"}),
       [] { from_canonical({1}, 2, 3, 4); }},
      {"canonical stray bits",
       raises<xgrad::ValueError>("from_canonical", {"unused high 6 bits", "byte 16"}),
       [] {
         pack_canonical({0x39, 0x10}, 1, 5, 2);
       }},
      {"impossible size",
       raises<xgrad::ValueError>("canonical_bytes", {"more than can be addressed"}),
       [] { canonical_bytes(std::size_t(1) << 40, std::size_t(1) << 40, 4); }},

  });
}

BOOST_AUTO_TEST_SUITE_END()
