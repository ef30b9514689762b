// RCF's straight-through range in x (internal): lo <= fl(x / alpha) <= 1
// exactly when t_lo <= x <= t_hi, so a backward decides "inside" with two
// compares per element and the forward's very division. Shared by
// rcf_fake_quantize's backward and the fused weight path (qat/standardized_rcf.hpp).
#pragma once

#include <cstdint>
#include <limits>

#include "../kernels/apot_reference.hpp"

namespace xgrad::quant::detail {

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

template <class T>
struct RcfRange {
  T t_lo, t_hi;
};

// alpha > 0 finite; lo the bottom level (0 or -1).
template <class T>
RcfRange<T> rcf_range(T alpha, T lo) {
  const T t_hi = last_x_with([alpha](T x) { return x / alpha <= T(1); }, alpha,
                             std::numeric_limits<T>::infinity());
  const T t_lo = last_x_with([alpha, lo](T x) { return x / alpha >= lo; }, lo * alpha,
                             -std::numeric_limits<T>::infinity());
  return {t_lo, t_hi};
}

}  // namespace xgrad::quant::detail
