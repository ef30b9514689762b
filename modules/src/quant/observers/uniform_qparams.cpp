#include "xgrad/quant/observers/uniform_qparams.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
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
  if (!quant_min || !quant_max) {
    throw ValueError(std::string(op) +
                     ": a custom range needs both quant_min and quant_max, got only " +
                     (quant_min ? "quant_min" : "quant_max"));
  }
  std::ostringstream range;
  range << "[" << *quant_min << ", " << *quant_max << "]";
  if (!(*quant_min <= 0 && 0 <= *quant_max)) {
    throw ValueError(std::string(op) + ": the quantization range " + range.str() +
                     " must include 0");
  }
  if (*quant_min >= *quant_max) {
    throw ValueError(std::string(op) + ": quant_min must be < quant_max, got " + range.str());
  }
  if (*quant_min < dtype_min(dtype) || *quant_max > dtype_max(dtype)) {
    std::ostringstream msg;
    msg << op << ": the quantization range " << range.str() << " exceeds " << to_string(dtype)
        << "'s [" << dtype_min(dtype) << ", " << dtype_max(dtype) << "]";
    throw ValueError(msg.str());
  }
  r.quant_min = *quant_min;
  r.quant_max = *quant_max;
  return r;
}

template <class T>
UniformQParams<T> uniform_qparams(T mn, T mx, QuantDtype dtype, QScheme qscheme,
                                  const QuantRange& range, const char* op) {
  if (std::isnan(mn) || std::isnan(mx) || !(mn <= mx)) {
    std::ostringstream msg;
    msg << op << ": need min_val <= max_val, got min_val = " << mn << ", max_val = " << mx;
    throw ValueError(msg.str());
  }
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
  if (!std::isfinite(qp.scale)) {
    std::ostringstream msg;
    msg << op << ": the observed range [" << mn << ", " << mx << "] overflows the scale's type";
    throw ValueError(msg.str());
  }
  return qp;
}

template UniformQParams<float> uniform_qparams(float, float, QuantDtype, QScheme, const QuantRange&,
                                               const char*);
template UniformQParams<double> uniform_qparams(double, double, QuantDtype, QScheme,
                                                const QuantRange&, const char*);

}  // namespace xgrad::quant
