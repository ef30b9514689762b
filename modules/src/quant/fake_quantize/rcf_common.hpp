// Internal: what the per-tensor and per-channel RCF ops share: the check of a
// normalized level set and the exact range thresholds of the backward (also
// used by the fused weight path, qat/standardized_rcf.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "../kernels/apot_reference.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant::detail {

// ValueError unless the levels are a normalized set: finite, strictly
// ascending, bottom 0 or -1, top 1.
// `what` names them in messages (a state-dict key on load).
template <class T>
void validate_rcf_levels(const T* lv, std::size_t L, const char* op,
                         const std::string& what = "levels") {
  XGRAD_CHECK(L >= 2, ValueError, op, ": ", what, " need at least 2 entries, got ", L);
  XGRAD_CHECK((lv[0] == T(0) || lv[0] == T(-1)) && lv[L - 1] == T(1), ValueError, op, ": ", what,
              " must run from 0 (unsigned) or -1 (signed) to 1, got [", lv[0], ", ", lv[L - 1],
              "]");
  for (std::size_t i = 1; i < L; ++i)
    XGRAD_CHECK(lv[i - 1] < lv[i], ValueError, op, ": ", what, " must be strictly ascending, got ",
                what, "[", i - 1, "] = ", lv[i - 1], " and ", what, "[", i, "] = ", lv[i]);
}

// The last x (going from `inside` towards `outside`, both floats) for which
// pred holds; pred(inside) is true, pred(outside) false, and pred is monotone
// along the way (fl(x / alpha) is monotone in x). Bisection over the float
// ordering: at most 64 steps.
template <class T, class Pred>
T last_x_with(Pred pred, T inside, T outside) {
  using Key = FloatKey<T>;
  std::int64_t k_in = Key::key(inside), k_out = Key::key(outside);
  while (k_in - k_out > 1 || k_out - k_in > 1) {
    const std::int64_t mid = k_in + (k_out - k_in) / 2;
    if (pred(Key::value(mid)))
      k_in = mid;
    else
      k_out = mid;
  }
  return Key::value(k_in);
}

// The thresholds t_lo <= x <= t_hi that hold exactly when lo <= fl(x / alpha)
// <= 1: the forward's very decision, as two compares. A struct, not a pair:
// C++17 lambdas cannot capture structured bindings (clang refuses them).
template <class T>
struct RcfRange {
  T t_lo, t_hi;
};

template <class T>
RcfRange<T> rcf_range(T alpha, T lo) {
  const T t_hi = last_x_with([alpha](T x) { return x / alpha <= T(1); }, alpha,
                             std::numeric_limits<T>::infinity());
  const T t_lo = last_x_with([alpha, lo](T x) { return x / alpha >= lo; }, lo * alpha,
                             -std::numeric_limits<T>::infinity());
  return {t_lo, t_hi};
}

}  // namespace xgrad::quant::detail
