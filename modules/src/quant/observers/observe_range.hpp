// Internal: the extremes of a batch for the uniform observers, refusing NaN
// and infinities (they would poison the running range), and a quantile.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "xgrad/errors.hpp"

namespace xgrad::quant::detail {

// ValueError naming op and the first non-finite position.
template <class T>
void require_finite(const T* p, std::size_t n, const char* op) {
  for (std::size_t i = 0; i < n; ++i) {
    XGRAD_CHECK(std::isfinite(p[i]), ValueError, op, ": the input holds ", p[i],
                " at flat position ", i, "; only finite values can be observed");
  }
}

// (min, max) of n >= 1 finite values.
template <class T>
std::pair<T, T> finite_min_max(const T* p, std::size_t n, const char* op) {
  require_finite(p, n, op);
  T lo = std::numeric_limits<T>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < n; ++i) {
    lo = p[i] < lo ? p[i] : lo;
    hi = p[i] > hi ? p[i] : hi;
  }
  return {lo, hi};
}

// The q-quantile (0 <= q <= 1) of sorted values (not empty), linearly
// interpolated between order statistics (numpy's and torch.quantile's default).
template <class T>
T quantile(const std::vector<T>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const std::size_t i = static_cast<std::size_t>(std::floor(pos));
  const double frac = pos - double(i);
  if (i + 1 >= sorted.size()) return sorted.back();
  return static_cast<T>(double(sorted[i]) + frac * (double(sorted[i + 1]) - double(sorted[i])));
}

}  // namespace xgrad::quant::detail
