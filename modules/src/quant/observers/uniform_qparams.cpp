#include "xgrad/quant/observers/uniform_qparams.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

constexpr std::int64_t dtype_min(QuantDtype d) { return d == QuantDtype::quint8 ? 0 : -128; }
constexpr std::int64_t dtype_max(QuantDtype d) { return d == QuantDtype::quint8 ? 255 : 127; }

}  // namespace

QuantRange resolve_quant_range(QuantDtype dtype, std::optional<std::int64_t> quant_min,
                               std::optional<std::int64_t> quant_max, const char* op) {
  QuantRange r{dtype_min(dtype), dtype_max(dtype), quant_min.has_value() || quant_max.has_value()};
  if (!r.customized) return r;
  XGRAD_CHECK(quant_min && quant_max, ValueError, op,
              ": a custom range needs both quant_min and quant_max, got only ",
              (quant_min ? "quant_min" : "quant_max"));
  const std::int64_t lo = *quant_min, hi = *quant_max;
  XGRAD_CHECK(lo <= 0 && 0 <= hi, ValueError, op, ": the quantization range [", lo, ", ", hi,
              "] must include 0");
  XGRAD_CHECK(lo < hi, ValueError, op, ": quant_min must be < quant_max, got [", lo, ", ", hi, "]");
  XGRAD_CHECK(lo >= dtype_min(dtype) && hi <= dtype_max(dtype), ValueError, op,
              ": the quantization range [", lo, ", ", hi, "] exceeds ", to_string(dtype), "'s [",
              dtype_min(dtype), ", ", dtype_max(dtype), "]");
  r.quant_min = lo;
  r.quant_max = hi;
  return r;
}

template <class T>
UniformQParams<T> uniform_qparams(T mn, T mx, QuantDtype dtype, QScheme qscheme,
                                  const QuantRange& range, const char* op) {
  XGRAD_CHECK(mn <= mx, ValueError, op, ": need min_val <= max_val, got min_val = ", mn,
              ", max_val = ", mx);
  const std::int64_t qmin = range.quant_min, qmax = range.quant_max;
  // PyTorch's float32 arithmetic, step by step.
  const T min_neg = std::min(mn, T(0));
  const T max_pos = std::max(mx, T(0));
  const T eps = T(std::numeric_limits<float>::epsilon());
  UniformQParams<T> qp{T(1), 0};
  if (is_symmetric(qscheme)) {
    const T m = std::max(-min_neg, max_pos);
    qp.scale = std::max(m / T(double(qmax - qmin) / 2.0), eps);
    if (dtype == QuantDtype::quint8) {
      // A custom range takes its rounded-down midpoint; the default one 128.
      qp.zero_point = range.customized ? (qmin + qmax) / 2 : 128;
    }
  } else {
    qp.scale = std::max((max_pos - min_neg) / T(qmax - qmin), eps);
    if (std::isfinite(qp.scale)) {
      const auto shift = static_cast<std::int64_t>(std::nearbyint(min_neg / qp.scale));
      qp.zero_point = std::clamp(qmin - shift, qmin, qmax);
    }
  }
  XGRAD_CHECK(std::isfinite(qp.scale), ValueError, op, ": the observed range [", mn, ", ", mx,
              "] overflows the scale's type");
  return qp;
}

template UniformQParams<float> uniform_qparams(float, float, QuantDtype, QScheme, const QuantRange&,
                                               const char*);
template UniformQParams<double> uniform_qparams(double, double, QuantDtype, QScheme,
                                                const QuantRange&, const char*);

}  // namespace xgrad::quant
