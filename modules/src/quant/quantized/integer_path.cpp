// The integer path (integer_path.hpp): the integer tables, the weight
// layout, and the epilogue around the rows16 kernels.
#include "integer_path.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../kernels/lut_int_matrix.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant::quantized {

namespace kn = xgrad::quant::kernels;

namespace {

// Levels as integers times a unit u (a double): |values[i] u - levels[i]|
// <= kLevelTolerance |levels[i]| for every i, |values[i]| <= max_abs, 0 for
// 0. A quantizer computes its levels as float(alpha * a dyadic fraction),
// itself rounded, so they are integers times the real alpha / 2^e only up to
// about an ulp: u is taken inside every level's interval, when they meet
// (the intersection's midpoint). The unit candidates: the smallest nonzero
// level over 2^s, s < 8 (APoT: powers of two apart), then the smallest gap
// between levels over 1 to 4 (uniform levels: integers times the scale,
// the smallest not always 1). False when no unit fits.
constexpr double kLevelTolerance = 0x1p-23;

bool integers_of(const std::vector<float>& levels, int max_abs, std::vector<int>& values,
                 double& unit) {
  values.assign(levels.size(), 0);
  float smallest = 0;
  for (float v : levels) {
    if (!std::isfinite(v)) return false;
    if (v != 0.0f && (smallest == 0.0f || std::abs(v) < smallest)) smallest = std::abs(v);
  }
  if (smallest == 0.0f) {  // all zeros
    unit = 1.0;
    return true;
  }
  std::vector<double> guesses;
  for (int s = 0; s < 8; ++s) guesses.push_back(std::ldexp(double(smallest), -s));
  std::vector<float> sorted(levels);
  std::sort(sorted.begin(), sorted.end());
  double gap = 0;
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const double d = double(sorted[i]) - double(sorted[i - 1]);
    if (d > 0 && (gap == 0 || d < gap)) gap = d;
  }
  if (gap > 0)
    for (int j = 1; j <= 4; ++j) guesses.push_back(gap / j);
  for (const double guess : guesses) {
    double lo = 0, hi = std::numeric_limits<double>::infinity();
    bool ok = true;
    for (std::size_t i = 0; i < levels.size() && ok; ++i) {
      const double q = std::nearbyint(double(levels[i]) / guess);
      if (std::abs(q) > max_abs || (q == 0) != (levels[i] == 0.0f)) {
        ok = false;
        break;
      }
      values[i] = int(q);
      if (q == 0) continue;
      const double l = std::abs(double(levels[i]));
      lo = std::max(lo, l * (1 - kLevelTolerance) / std::abs(q));
      hi = std::min(hi, l * (1 + kLevelTolerance) / std::abs(q));
      ok = lo <= hi;
    }
    if (!ok) continue;
    unit = 0.5 * (lo + hi);
    return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<const IntegerWeights> integer_weights(
    std::size_t rows, std::size_t channels, std::size_t kh, std::size_t kw,
    const std::function<float(std::size_t, std::size_t)>& level) {
  auto iw = std::make_shared<IntegerWeights>();
  iw->rows = rows;
  iw->channels = channels;
  iw->kh = kh;
  iw->kw = kw;
  iw->quads_per_line = (kw + 3) / 4;
  iw->kq = channels * kh * iw->quads_per_line;
  iw->blocks = (rows + 15) / 16;
  iw->w.assign(iw->blocks * iw->kq * 64, 0);
  iw->unit.assign(rows, 0.0);
  iw->row_sums.assign(rows, 0);
  const std::size_t K = channels * kh * kw;
  std::vector<float> levels(K), distinct, last;
  std::vector<int> values, ints(K);
  double unit = 0;
  iw->shift.assign(rows, 0.0);
  for (std::size_t o = 0; o < rows; ++o) {
    for (std::size_t k = 0; k < K; ++k) levels[k] = level(o, k);
    distinct = levels;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (distinct != last) {  // rows of one table share its integers
      if (!integers_of(distinct, 255, values, unit))
        return nullptr;  // not integers times one unit: the float kernels
      last = distinct;
    }
    iw->unit[o] = unit;
    for (std::size_t k = 0; k < K; ++k)
      ints[k] = values[std::size_t(std::lower_bound(distinct.begin(), distinct.end(), levels[k]) -
                                   distinct.begin())];
    const auto [lo, hi] = std::minmax_element(ints.begin(), ints.end());
    if (*hi - *lo > 255) return nullptr;
    int shift = 0;
    if (*lo < -128 || *hi > 127) {
      if (rows >= 16) return nullptr;  // the ones row must share the block
      shift = *lo + 128;               // ints - shift in [-128, 127]
      iw->ones_row = true;
    }
    iw->shift[o] = double(shift);
    const std::size_t b = o / 16, r = o % 16;
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t line = k / kw, j = k % kw;
      const std::size_t q = line * iw->quads_per_line + j / 4;
      const int v = ints[k] - shift;
      iw->w[((b * iw->kq + q) * 16 + r) * 4 + j % 4] = std::int8_t(v);
      iw->row_sums[o] += ints[k];
      iw->max_abs = std::max(iw->max_abs, std::abs(v));
    }
  }
  if (iw->ones_row) {
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t line = k / kw, j = k % kw;
      const std::size_t q = line * iw->quads_per_line + j / 4;
      iw->w[(q * 16 + rows) * 4 + j % 4] = 1;
    }
    iw->max_abs = std::max(iw->max_abs, 1);
  }
  return iw;
}

std::shared_ptr<const IntegerInput> integer_input(std::shared_ptr<const InputSteps<float>> steps) {
  if (!steps || !steps->fast_codes()) return nullptr;
  std::vector<int> values;
  double unit = 0;
  if (!integers_of(steps->values, 255, values, unit)) return nullptr;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  // Codes a_int - min; the level 0 must be one of them (the padding's code).
  if (*hi - *lo > 255 || *lo > 0 || *hi < 0) return nullptr;
  auto in = std::make_shared<IntegerInput>();
  in->zero_point = -*lo;
  in->max_code = *hi - *lo;
  in->unit = unit;
  for (int v : values) in->code_of_step.push_back(std::uint8_t(v + in->zero_point));
  in->steps = std::move(steps);
  return in;
}

std::shared_ptr<const IntegerPlan> integer_plan(std::shared_ptr<const IntegerWeights> weights,
                                                std::shared_ptr<const IntegerInput> input,
                                                const std::vector<float>& bias) {
  if (!weights || !input) return nullptr;
  // Every sum (and its zero-point correction) within int32: K terms of at
  // most max|w| times the largest code.
  const double K = double(weights->channels * weights->kh * weights->kw);
  if (K * weights->max_abs * input->max_code >= 2147483647.0) return nullptr;
  auto p = std::make_shared<IntegerPlan>();
  p->weights = std::move(weights);
  p->input = std::move(input);
  const IntegerWeights& w = *p->weights;
  const std::size_t padded = w.blocks * 16;
  p->scale.assign(padded, 0.0);
  p->offset.assign(padded, 0.0);
  p->shift.assign(padded, 0.0);
  p->bias.assign(padded, 0.0f);
  for (std::size_t o = 0; o < w.rows; ++o) {
    p->scale[o] = w.unit[o] * p->input->unit;
    p->offset[o] = double(p->input->zero_point * w.row_sums[o]);
    p->shift[o] = w.shift[o];
    if (!bias.empty()) p->bias[o] = bias[o];
  }
  p->pair = 2L * w.max_abs * p->input->max_code;
  // |s|, |shift * ones| and |offset| each at most K * 256 * 255, so their
  // sum in float is exact below 2^24 / 3 for each.
  p->in_float = K * 256.0 * 255.0 < double(1 << 24) / 3;
  for (std::size_t o = 0; o < padded; ++o) {
    p->fscale.push_back(float(p->scale[o]));
    p->foffset.push_back(float(p->offset[o]));
    p->fshift.push_back(float(p->shift[o]));
  }
  return p;
}

void IntegerPlan::run(const std::uint8_t* a, const std::size_t* quad, const std::size_t* col,
                      std::size_t cols, float* y, std::size_t y_col) const {
  kn::IntKernels k = kn::active_int_kernels();
  if (pair > k.rows16_pair_limit) k = kn::int_scalar_kernels();
  const IntegerWeights& w = *weights;
  for (std::size_t b = 0; b < w.blocks; ++b) {
    const std::size_t o0 = b * 16;
    kn::IntRows16 t{w.w.data() + b * w.kq * 64,
                    w.kq,
                    a,
                    quad,
                    col,
                    cols,
                    offset.data() + o0,
                    shift.data() + o0,
                    w.ones_row ? w.rows : 0,
                    scale.data() + o0,
                    bias.data() + o0,
                    y + o0,
                    y_col,
                    std::min<std::size_t>(16, w.rows - o0),
                    in_float,
                    fscale.data() + o0,
                    fshift.data() + o0,
                    foffset.data() + o0};
    k.rows16(t);
  }
}

}  // namespace xgrad::quant::quantized
