#include "xgrad/quant/observers/clip_observers.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

struct AbsStats {
  double max_abs = 0, sum_abs = 0;  // |x| is exact in double; the sum runs in order
};

// max |x| and sum |x| of x; ValueError (naming op) at the first non-finite value
// (inf, -inf or nan).
template <class T>
AbsStats abs_stats(const Tensor<T>& x, const std::string& op) {
  require_defined(x, op.c_str(), "x");
  const T* p = x.data().data();
  AbsStats s;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const double a = std::abs(static_cast<double>(p[i]));
    XGRAD_CHECK(std::isfinite(a), ValueError, op, ": cannot observe ", p[i], " at flat position ",
                i, "; only finite values");
    s.max_abs = std::max(s.max_abs, a);
    s.sum_abs += a;
  }
  return s;
}

}  // namespace

template <class T>
MaxAbsObserver<T>::MaxAbsObserver() : ClipObserver<T>("MaxAbsObserver") {
  max_abs_ = this->register_buffer("max_abs", scalar<T>(T(0)));
}

template <class T>
Tensor<T> MaxAbsObserver<T>::forward(const Tensor<T>& x) {
  const AbsStats s = abs_stats(x, this->type_name() + ".forward");
  if (x.numel() == 0) return x;
  // The max of T values, exact in double: converting back is exact.
  max_abs_.mutable_data() = xt::xarray<T>(std::max(max_abs_.item(), static_cast<T>(s.max_abs)));
  return x;
}

template <class T>
T MaxAbsObserver<T>::calculate_qparams() const {
  return max_abs_.item();
}

template <class T>
LsqClipPointObserver<T>::LsqClipPointObserver(std::int64_t top_code)
    : ClipObserver<T>("LsqClipPointObserver"), top_code_(top_code) {
  XGRAD_CHECK(top_code >= 1, ValueError, "LsqClipPointObserver: top_code must be >= 1, got ",
              top_code);
  clip_point_ = this->register_buffer("clip_point", scalar<T>(T(0)));
}

template <class T>
Tensor<T> LsqClipPointObserver<T>::forward(const Tensor<T>& x) {
  const std::string op = this->type_name() + ".forward";
  const AbsStats s = abs_stats(x, op);
  const std::size_t n = x.numel();
  if (n == 0) return x;
  const T c = static_cast<T>(2.0 * (s.sum_abs / double(n)) * std::sqrt(double(top_code_)));
  XGRAD_CHECK(std::isfinite(c), ValueError, op, ": the clip point ", c,
              " overflows the tensor's type");
  clip_point_.mutable_data() = xt::xarray<T>(c);
  return x;
}

template <class T>
T LsqClipPointObserver<T>::calculate_qparams() const {
  return clip_point_.item();
}

XGRAD_INSTANTIATE_CLASS(MaxAbsObserver);
XGRAD_INSTANTIATE_CLASS(LsqClipPointObserver);

}  // namespace xgrad::quant
