// The APoT code book: the term structure of a code word, as pure functions of
// (b, k, scheme), and PyTorch's APoT level sets built on it (apot_level_set:
// a LevelSet, level_set.hpp, whose codes are the level indices).
//
// Notation: b total bits, k bits per term, n = b / k terms. For the unsigned
// set, term i contributes 0 or 2^-(i + j*n), j = 0 .. 2^k - 2, and a level is
// gamma * (sum of one element per term) with gamma = alpha / sum_i 2^-i, so the
// top level is alpha. The index of a level is the position of its combination
// in lexicographic order, term 0 most significant (itertools.product order);
// for unsigned sets that is exactly the b-bit APoT code word (n fields of k
// bits, field value 0 = zero, j + 1 = 2^-(i + j*n)).
//
// Arithmetic reproduces PyTorch's float32 computation bit for bit: sums are
// accumulated left to right in float32 and a level is fl32(fl32(gamma) * sum).
// Levels are sorted ascending with a STABLE sort (equal levels ordered by index;
// PyTorch's sort is unstable there).
//
// Differences from PyTorch (torch.ao.quantization.experimental):
// - b and k are validated (k >= 1, b >= 1, b % k == 0, at most kMaxAPoTLevels
//   levels) with ValueError; PyTorch returns NaN levels for b = 0 or k < 0.
// - The paper's sign-magnitude signed scheme is offered (LevelScheme::
//   sign_magnitude); PyTorch only has its per-term sign scheme.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::quant {

// Refuse level sets above this many entries (memory and O(L) setup bound).
inline constexpr std::size_t kMaxAPoTLevels = std::size_t(1) << 16;

enum class LevelScheme {
  // 2^b levels in [0, alpha]; index = b-bit APoT code word.
  unsigned_levels,
  // PyTorch's signed=True: every term carries its own sign; (2^(k+1) - 1)^n
  // entries with duplicate values (49 entries, 39 distinct for b=4, k=2).
  // Term i's set {0, +-2^-(i+j*n)} is ordered descending before the product.
  signed_per_term,
  // The paper's signed weights: a sign bit plus the unsigned (b-1)-bit
  // magnitude set: 2^b - 1 distinct values symmetric around 0. When k does not
  // divide b - 1 and k == 2 (odd magnitude width), the authors' extra 1-bit
  // term is appended (see apot_sign_magnitude_codebook). Index = code word:
  // sign bit (bit b-1) | magnitude code word; "-0" is not a level.
  sign_magnitude,
};

// Name of a scheme ("unsigned", "signed_per_term", "sign_magnitude"). The
// using-declaration keeps xgrad::to_string(Shape) visible inside this namespace.
using xgrad::to_string;
const char* to_string(LevelScheme scheme);

// One additive term of an unsigned code word: a field of `bits` bits whose
// value f selects 0 (f = 0) or 2^-exponents[f - 1] (f >= 1).
struct APoTTerm {
  int bits = 0;
  std::vector<int> exponents;  // 2^bits - 1 entries, in field-value order
};

// The additive structure of an unsigned (magnitude) code word: terms in
// code-word order, term 0 in the most significant field. The accessors below
// throw ValueError for a hand-built book whose terms break APoTTerm's shape
// (1 to 30 bits, 2^bits - 1 exponents) or that is wider than 62 bits.
struct APoTCodeBook {
  std::vector<APoTTerm> terms;
  // Total code width (sum of the term widths).
  int bits() const;
  // Sum over terms of the largest element (2^-min exponent), in double; the
  // normalizer: gamma = alpha / top_sum().
  double top_sum() const;
  // Field value of `term` in `code` (0 .. 2^bits - 1).
  int field(std::int64_t code, std::size_t term) const;
  // The exponent selected by `term` in `code`, or -1 when that field is 0.
  int exponent(std::int64_t code, std::size_t term) const;
  // Sum of the selected powers, accumulated term 0 first in float32 (the value
  // a level is gamma times). Throws ValueError for codes outside [0, 2^bits).
  float sum(std::int64_t code) const;
};

// Throws ValueError unless b >= 1, k >= 1, b % k == 0 (op names the caller).
void validate_apot_bits(int b, int k, const char* op);

// PyTorch's unsigned code book: n = b / k terms of k bits, term i selecting
// 2^-(i + j*n). Validates b and k.
APoTCodeBook apot_codebook(int b, int k);

// The magnitude code book of the sign-magnitude scheme for b total bits
// (B = b - 1 magnitude bits): apot_codebook(B, k) when k divides B; for k == 2
// and odd B, (B-1)/2 two-bit terms plus one trailing 1-bit term, exponents
// dealt in rounds (rounds 0 and 1 to the 2-bit terms in turn; in round 2 the
// 1-bit term first, then the 2-bit terms): B=3 -> {0,2^0,2^-1,2^-3} + {0,2^-2},
// normalized {0,.1,.2,.3,.4,.6,.8,1} as in the paper. B = 1 (b = 2) is one 1-bit
// term: the ternary set {-1, 0, 1}. ValueError for b < 2 or other k not
// dividing b - 1.
APoTCodeBook apot_sign_magnitude_codebook(int b, int k);

// Number of entries (levels, counting duplicates) of a scheme; ValueError on
// invalid b, k. May exceed kMaxAPoTLevels (saturates at SIZE_MAX).
std::size_t apot_level_count(int b, int k, LevelScheme scheme);

// The level set of a scheme scaled to alpha (alpha >= 0 and finite, else
// ValueError; also ValueError when a float32 level would overflow, i.e. alpha
// above about FLT_MAX). ValueError when the count exceeds kMaxAPoTLevels.
// levels: ascending, fl32(fl32(gamma) * sum) (float32 values held as double);
// codes: the index of each level (PyTorch's level_indices); scale: gamma =
// alpha / top_sum, in double.
LevelSet apot_level_set(int b, int k, double alpha, LevelScheme scheme);

}  // namespace xgrad::quant
