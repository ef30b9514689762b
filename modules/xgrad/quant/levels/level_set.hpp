// Normalized level sets for the learnable-clipping quantizers (RCF): the
// levels a tensor is projected onto after dividing by alpha. Every set is
// sorted ascending, its top level is exactly 1, and its bottom level is 0
// (unsigned) or -1 (signed, symmetric around 0). Levels are held as exact
// fractions numerators[i] / denominator (integers), so a set is the same
// whatever the element type; values<T>() rounds each fraction once to T
// (exact rounding whenever numerator and denominator fit T's mantissa: every
// set with b <= 8 in float).
//
// The named sets (paper.md, "Level sets"):
//   apot_unsigned_levels(b, k)        unsigned APoT, 2^b levels: PyTorch's
//                                     observer set (apot_codebook) / its top sum;
//                                     odd b with k = 2 (not PyTorch's: k must
//                                     divide b there) takes the authors' extra
//                                     1-bit term, e.g. b = 3 -> {0, .1, .2, .3,
//                                     .4, .6, .8, 1} (their 3-bit activations);
//   apot_sign_magnitude_levels(b, k)  the paper's signed weights: sign bit plus
//                                     the (b-1)-bit magnitude set, 2^b - 1 levels;
//                                     odd magnitude widths (b = 4, 6) get the
//                                     authors' appended 1-bit term, and b = 2
//                                     falls back to ternary {-1, 0, 1}
//                                     (apot_sign_magnitude_codebook);
//   uniform_levels(b, signed)         j / (2^b - 1), j = 0..2^b-1; signed:
//                                     j / (2^(b-1) - 1), |j| <= 2^(b-1) - 1
//                                     (symmetric, 2^b - 1 levels);
//   power_of_two_levels(b, signed)    {0} and 2^-j, j = 0..2^b - 2; signed: a
//                                     sign bit plus the (b-1)-bit magnitudes.
// Errors (ValueError naming the function and the value): bits or k out of
// range, more than kMaxAPoTLevels levels, or a set whose exact fractions need
// more than 2^52 (powers of two spanning more than 52 octaves).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::quant {

struct LevelSet {
  std::string name;                      // e.g. "apot_unsigned(b=4,k=2)"
  int bits = 0;                          // b: the code width the set is meant for
  bool is_signed = false;                // bottom level -1 (else 0)
  std::vector<std::int64_t> numerators;  // ascending; front 0 or -denominator, back denominator
  std::int64_t denominator = 1;          // > 0

  std::size_t size() const { return numerators.size(); }
  // The top integer level of a uniform grid of the same width (2^b - 1
  // unsigned, 2^(b-1) - 1 signed): LSQ's quant_max, used for LSQ-style alpha
  // initialization and gradient scaling.
  std::int64_t top_code() const;
  // numerators[i] / denominator, each rounded once to T.
  template <class T>
  std::vector<T> values() const;
};

LevelSet apot_unsigned_levels(int b, int k);
LevelSet apot_sign_magnitude_levels(int b, int k = 2);
LevelSet uniform_levels(int b, bool is_signed);
LevelSet power_of_two_levels(int b, bool is_signed);

}  // namespace xgrad::quant
