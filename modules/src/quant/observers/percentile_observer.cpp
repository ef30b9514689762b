#include "xgrad/quant/observers/percentile_observer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "observe_range.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

template <class T>
PercentileObserver<T>::PercentileObserver(double percentile, QuantDtype dtype, QScheme qscheme,
                                          std::optional<std::int64_t> quant_min,
                                          std::optional<std::int64_t> quant_max)
    : MinMaxObserver<T>("PercentileObserver", dtype, qscheme, quant_min, quant_max),
      percentile_(percentile) {
  XGRAD_CHECK(percentile > 50.0 && percentile <= 100.0, ValueError,
              "PercentileObserver: percentile must be in (50, 100], got ", percentile);
  num_batches_ = this->register_buffer("num_batches", scalar<T>(T(0)));
}

template <class T>
std::int64_t PercentileObserver<T>::num_batches() const {
  return static_cast<std::int64_t>(num_batches_.item());
}

template <class T>
Tensor<T> PercentileObserver<T>::forward(const Tensor<T>& x) {
  const char* op = "PercentileObserver.forward";
  require_defined(x, op, "the input tensor");
  if (x.numel() == 0) return x;
  const T* p = x.data().data();
  detail::require_finite(p, x.numel(), op);
  std::vector<T> sorted(p, p + x.numel());
  std::sort(sorted.begin(), sorted.end());
  const T lo = detail::quantile(sorted, (100.0 - percentile_) / 100.0);
  const T hi = detail::quantile(sorted, percentile_ / 100.0);
  // An unobserved (or reset) range starts a new mean.
  const T inf = std::numeric_limits<T>::infinity();
  const bool fresh = this->min_val().item() == inf && this->max_val().item() == -inf;
  const T count = fresh ? T(1) : num_batches_.item() + T(1);
  T mn = lo, mx = hi;
  if (count > T(1)) {  // running means
    mn = this->min_val().item() + (lo - this->min_val().item()) / count;
    mx = this->max_val().item() + (hi - this->max_val().item()) / count;
  }
  this->min_val().mutable_data() = xt::xarray<T>(mn);
  this->max_val().mutable_data() = xt::xarray<T>(mx);
  num_batches_.mutable_data() = xt::xarray<T>(count);
  return x;
}

XGRAD_INSTANTIATE_CLASS(PercentileObserver);

}  // namespace xgrad::quant
