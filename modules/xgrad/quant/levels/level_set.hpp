// LevelSet: the one model of a level set in the quantization wing, the values
// a quantizer rounds to, ascending, each with the integer code that stores it.
// Every level set of the wing is one:
//   apot_level_set(b, k, alpha, scheme)  PyTorch's APoT levels scaled to alpha,
//                                        in its float32 arithmetic, codes the
//                                        APoT code words (apot_codebook.hpp):
//                                        APoTObserver's qparams, LinearAPoT's table;
//   the normalized named sets below      RCF's levels (top level 1);
//   uniform_levels                       the uniform grid of b bits;
//   distinct_levels                      a converted layer's weight table.
// A level is a double: every float32 level exactly, every exact fraction of
// the named sets rounded once. values<T>() rounds each level once more to T,
// which for a fraction n / d is still n / d rounded once (double has more than
// twice float's precision, so the double rounding is innocuous).
//
// The named normalized sets (docs/apot-training.md, "Level sets"); every one
// is sorted ascending, its top level is exactly 1 and its bottom level 0
// (unsigned) or -1 (signed, symmetric around 0), each level its exact fraction
// rounded once:
//   apot_unsigned_levels(b, k)        unsigned APoT, 2^b levels: PyTorch's
//                                     observer set (apot_codebook) / its top sum;
//                                     odd b with k = 2 (not PyTorch's: k must
//                                     divide b there) takes the authors' extra
//                                     1-bit term, e.g. b = 3 -> {0, .1, .2, .3,
//                                     .4, .6, .8, 1} (their 3-bit activations);
//                                     codes: the b-bit code words;
//   apot_sign_magnitude_levels(b, k)  the paper's signed weights: sign bit plus
//                                     the (b-1)-bit magnitude set, 2^b - 1 levels;
//                                     odd magnitude widths (b = 4, 6) get the
//                                     authors' appended 1-bit term, and b = 2
//                                     falls back to ternary {-1, 0, 1}
//                                     (apot_sign_magnitude_codebook); codes: sign
//                                     bit (bit b-1) | magnitude code word;
//   uniform_levels(b, signed)         j / (2^b - 1), j = 0..2^b-1; signed:
//                                     j / (2^(b-1) - 1), |j| <= 2^(b-1) - 1
//                                     (symmetric, 2^b - 1 levels); codes: j;
//   power_of_two_levels(b, signed)    {0} and 2^-j, j = 0..2^b - 2; signed: a
//                                     sign bit plus the (b-1)-bit magnitudes;
//                                     codes: 0, or j + 1 (plus the sign bit).
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
  std::string name;                 // e.g. "apot_unsigned(b=4,k=2)"
  int bits = 0;                     // b: the code width the set is meant for
  bool is_signed = false;           // levels below 0 (bottom -top)
  std::vector<double> levels;       // ascending; equal levels in the order of their codes
  std::vector<std::int64_t> codes;  // codes[i]: the integer that stores levels[i]
  // What each level is a multiple of: a level is scale times its code's
  // unscaled value (APoT: gamma times the code's sum of powers of two, up to
  // float32 rounding; a uniform grid: its step times the integer code), the
  // factor an integer kernel applies once per output.
  double scale = 1;

  std::size_t size() const { return levels.size(); }
  // The top integer level of a uniform grid of the same width (2^b - 1
  // unsigned, 2^(b-1) - 1 signed): LSQ's quant_max, used for LSQ-style alpha
  // initialization and gradient scaling.
  std::int64_t top_code() const;
  // levels[i] rounded to T.
  template <class T>
  std::vector<T> values() const;
};

LevelSet apot_unsigned_levels(int b, int k);
LevelSet apot_sign_magnitude_levels(int b, int k = 2);
LevelSet uniform_levels(int b, bool is_signed);
LevelSet power_of_two_levels(int b, bool is_signed);

// The distinct values among values[0 .. n) (ascending; -0 and +0 are distinct,
// -0 first), with codes 0, 1, 2, ...: the table of a converted layer, whose
// weights store the codes. ValueError (naming op) for NaN or n = 0.
template <class T>
LevelSet distinct_levels(const T* values, std::size_t n, const char* op);

}  // namespace xgrad::quant
