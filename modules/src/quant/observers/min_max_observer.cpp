#include "xgrad/quant/observers/min_max_observer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "observe_range.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

template <class T>
MinMaxObserver<T>::MinMaxObserver(QuantDtype dtype, QScheme qscheme,
                                  std::optional<std::int64_t> quant_min,
                                  std::optional<std::int64_t> quant_max)
    : MinMaxObserver("MinMaxObserver", dtype, qscheme, quant_min, quant_max) {}

template <class T>
MinMaxObserver<T>::MinMaxObserver(std::string type_name, QuantDtype dtype, QScheme qscheme,
                                  std::optional<std::int64_t> quant_min,
                                  std::optional<std::int64_t> quant_max)
    : ObserverBase<T, UniformQParams<T>>(type_name), dtype_(dtype), qscheme_(qscheme) {
  const std::string op = this->type_name();
  XGRAD_CHECK(!is_per_channel(qscheme), ValueError, op, ": qscheme ", to_string(qscheme),
              " is per channel; use PerChannelMinMaxObserver");
  const QuantRange r = resolve_quant_range(dtype, quant_min, quant_max, op.c_str());
  quant_min_ = r.quant_min;
  quant_max_ = r.quant_max;
  customized_ = r.customized;
  min_val_ = this->register_buffer("min_val", scalar<T>(std::numeric_limits<T>::infinity()));
  max_val_ = this->register_buffer("max_val", scalar<T>(-std::numeric_limits<T>::infinity()));
}

template <class T>
Tensor<T> MinMaxObserver<T>::forward(const Tensor<T>& x) {
  const std::string op = this->type_name() + ".forward";
  require_defined(x, op.c_str(), "the input tensor");
  if (x.numel() == 0) return x;
  const auto [lo, hi] = detail::finite_min_max(x.data().data(), x.numel(), op.c_str());
  min_val_.mutable_data() = xt::xarray<T>(std::min(min_val_.item(), lo));
  max_val_.mutable_data() = xt::xarray<T>(std::max(max_val_.item(), hi));
  return x;
}

template <class T>
void MinMaxObserver<T>::reset_min_max_vals() {
  min_val_.mutable_data() = xt::xarray<T>(std::numeric_limits<T>::infinity());
  max_val_.mutable_data() = xt::xarray<T>(-std::numeric_limits<T>::infinity());
}

template <class T>
void MinMaxObserver<T>::set_min_val(T v) {
  XGRAD_CHECK(!std::isnan(v), ValueError, "MinMaxObserver.set_min_val: the value is NaN");
  min_val_.mutable_data() = xt::xarray<T>(v);
}

template <class T>
void MinMaxObserver<T>::set_max_val(T v) {
  XGRAD_CHECK(!std::isnan(v), ValueError, "MinMaxObserver.set_max_val: the value is NaN");
  max_val_.mutable_data() = xt::xarray<T>(v);
}

template <class T>
UniformQParams<T> MinMaxObserver<T>::calculate_qparams() const {
  const char* op = "MinMaxObserver.calculate_qparams";
  XGRAD_CHECK(min_val_.numel() == 1 && max_val_.numel() == 1, ShapeError, op,
              ": min_val and max_val must hold one value each, got shapes ", min_val_.shape(),
              " and ", max_val_.shape());
  const T mn = min_val_.data().data()[0], mx = max_val_.data().data()[0];
  const T inf = std::numeric_limits<T>::infinity();
  XGRAD_CHECK(mn != inf || mx != -inf, StateError, op,
              ": nothing was observed yet (min_val = inf, max_val = -inf); run forward "
              "on data first");
  return uniform_qparams(mn, mx, dtype_, qscheme_, {quant_min_, quant_max_, customized_}, op);
}

template <class T>
void MinMaxObserver<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  const T mn = state["min_val"].data()[0], mx = state["max_val"].data()[0];
  const T inf = std::numeric_limits<T>::infinity();
  if (mn == inf && mx == -inf) return;  // nothing observed yet
  XGRAD_CHECK(std::isfinite(mn) && std::isfinite(mx) && mn <= mx, ValueError,
              "MinMaxObserver::load_state_dict: ", state.key("min_val"), " = ", mn, " and ",
              state.key("max_val"), " = ", mx,
              " must be finite with min_val <= max_val (or inf and -inf: nothing observed)");
}

XGRAD_INSTANTIATE_CLASS(MinMaxObserver);

}  // namespace xgrad::quant
