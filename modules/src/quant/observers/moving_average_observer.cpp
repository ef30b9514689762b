#include "xgrad/quant/observers/moving_average_observer.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "observe_range.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

template <class T>
MovingAverageMinMaxObserver<T>::MovingAverageMinMaxObserver(double averaging_constant,
                                                            QuantDtype dtype, QScheme qscheme,
                                                            std::optional<std::int64_t> quant_min,
                                                            std::optional<std::int64_t> quant_max)
    : MinMaxObserver<T>("MovingAverageMinMaxObserver", dtype, qscheme, quant_min, quant_max),
      averaging_constant_(averaging_constant) {
  XGRAD_CHECK(averaging_constant > 0.0 && averaging_constant <= 1.0, ValueError,
              "MovingAverageMinMaxObserver: averaging_constant must be in (0, 1], got ",
              averaging_constant);
}

template <class T>
Tensor<T> MovingAverageMinMaxObserver<T>::forward(const Tensor<T>& x) {
  const char* op = "MovingAverageMinMaxObserver.forward";
  require_defined(x, op, "the input tensor");
  if (x.numel() == 0) return x;
  const auto [lo, hi] = detail::finite_min_max(x.data().data(), x.numel(), op);
  T mn = this->min_val().item(), mx = this->max_val().item();
  const T inf = std::numeric_limits<T>::infinity();
  if (mn == inf && mx == -inf) {
    mn = lo;
    mx = hi;
  } else {
    // PyTorch: min_val + averaging_constant * (min_val_cur - min_val), in T.
    const T c = static_cast<T>(averaging_constant_);
    mn = mn + c * (lo - mn);
    mx = mx + c * (hi - mx);
  }
  this->min_val().mutable_data() = xt::xarray<T>(mn);
  this->max_val().mutable_data() = xt::xarray<T>(mx);
  return x;
}

XGRAD_INSTANTIATE_CLASS(MovingAverageMinMaxObserver);

}  // namespace xgrad::quant
