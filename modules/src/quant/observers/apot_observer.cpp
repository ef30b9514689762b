#include "xgrad/quant/observers/apot_observer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "../scalar_pair_state.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

template <class T>
Tensor<T> empty_buffer() {
  return Tensor<T>(xt::xarray<T>::from_shape({0}));
}

template <class T>
xt::xarray<T> one_value(T v) {
  xt::xarray<T> a = xt::xarray<T>::from_shape({1});
  a(0) = v;
  return a;
}

template <class T>
T single_value(const Tensor<T>& v, const char* op, const char* what) {
  XGRAD_CHECK(v.defined() && v.numel() == 1, ValueError, op, ": ", what,
              " must hold exactly one element, got shape ",
              (v.defined() ? to_string(v.shape()) : std::string("undefined")));
  const T x = v.data().data()[0];
  XGRAD_CHECK(!std::isnan(x), ValueError, op, ": ", what, " is NaN");
  return x;
}

}  // namespace

template <class T>
APoTObserver<T>::APoTObserver(int b, int k, LevelScheme scheme)
    : ObserverBase<T, APoTQParams<T>>("APoTObserver"), b_(b), k_(k), scheme_(scheme) {
  // b % k is checked per scheme when levels are computed (sign_magnitude needs
  // k | b-1 instead).
  XGRAD_CHECK(k >= 1, ValueError, "APoTObserver: k must be >= 1, got k=", k);
  XGRAD_CHECK(b >= 1, ValueError, "APoTObserver: b must be >= 1, got b=", b);
  min_val_ = this->register_buffer("min_val", empty_buffer<T>(), /*fixed_shape=*/false);
  max_val_ = this->register_buffer("max_val", empty_buffer<T>(), /*fixed_shape=*/false);
}

template <class T>
Tensor<T> APoTObserver<T>::forward(const Tensor<T>& x) {
  require_defined(x, "APoTObserver::forward", "x");
  const T* p = x.data().data();
  const std::size_t n = x.numel();
  bool any = false;
  T lo = 0, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const T v = p[i];
    if (!std::isfinite(v)) continue;
    if (!any) {
      lo = hi = v;
      any = true;
    } else {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!any) return x;
  if (min_val_.numel() == 1) lo = std::min(lo, min_val_.data().data()[0]);
  if (max_val_.numel() == 1) hi = std::max(hi, max_val_.data().data()[0]);
  min_val_.mutable_data() = one_value(lo);
  max_val_.mutable_data() = one_value(hi);
  return x;
}

template <class T>
bool APoTObserver<T>::has_observed() const {
  return min_val_.numel() != 0 && max_val_.numel() != 0;
}

template <class T>
APoTQParams<T> APoTObserver<T>::calculate_qparams() const {
  return calculate_qparams(scheme_);
}

template <class T>
APoTQParams<T> APoTObserver<T>::calculate_qparams(bool signed_) const {
  return calculate_qparams(signed_ ? LevelScheme::signed_per_term : LevelScheme::unsigned_levels);
}

template <class T>
APoTQParams<T> APoTObserver<T>::calculate_qparams(LevelScheme scheme) const {
  const char* op = "APoTObserver::calculate_qparams";
  XGRAD_CHECK(has_observed(), StateError, op,
              ": nothing observed yet (min_val/max_val are empty); call forward(x) or "
              "set_min_val/set_max_val first");
  const T lo = single_value(min_val_, op, "min_val");
  const T hi = single_value(max_val_, op, "max_val");
  XGRAD_CHECK(lo <= hi, ValueError, op, ": min_val ", lo, " > max_val ", hi);
  const T alpha = std::max(-lo, hi);
  const LevelSet set = apot_level_set(b_, k_, static_cast<double>(alpha), scheme);
  APoTQParams<T> q;
  q.alpha = alpha;
  q.gamma = static_cast<T>(set.scale);
  xt::xarray<T> levels = xt::xarray<T>::from_shape({set.size()});
  xt::xarray<std::int64_t> indices = xt::xarray<std::int64_t>::from_shape({set.size()});
  for (std::size_t i = 0; i < set.size(); ++i) {
    levels(i) = static_cast<T>(set.levels[i]);
    indices(i) = set.codes[i];
  }
  q.quantization_levels = Tensor<T>(std::move(levels));
  q.level_indices = std::move(indices);
  return q;
}

template <class T>
void APoTObserver<T>::set_min_val(const Tensor<T>& v) {
  set_min_val(single_value(v, "APoTObserver::set_min_val", "min_val"));
}
template <class T>
void APoTObserver<T>::set_max_val(const Tensor<T>& v) {
  set_max_val(single_value(v, "APoTObserver::set_max_val", "max_val"));
}
template <class T>
void APoTObserver<T>::set_min_val(T v) {
  XGRAD_CHECK(!std::isnan(v), ValueError, "APoTObserver::set_min_val: min_val is NaN");
  min_val_.mutable_data() = one_value(v);
}
template <class T>
void APoTObserver<T>::set_max_val(T v) {
  XGRAD_CHECK(!std::isnan(v), ValueError, "APoTObserver::set_max_val: max_val is NaN");
  max_val_.mutable_data() = one_value(v);
}

template <class T>
void APoTObserver<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  const std::string where = "APoTObserver::load_state_dict: ";
  if (!detail::holds_scalar_pair<T>(state, where, "min_val", "max_val")) return;  // none observed
  const T mn = state["min_val"].data()[0], mx = state["max_val"].data()[0];
  // forward only ever records finite values.
  XGRAD_CHECK(std::isfinite(mn) && std::isfinite(mx) && mn <= mx, ValueError, where,
              state.key("min_val"), " = ", mn, " and ", state.key("max_val"), " = ", mx,
              " must be finite with min_val <= max_val");
}

template struct APoTQParams<float>;
template struct APoTQParams<double>;
XGRAD_INSTANTIATE_CLASS(APoTObserver);

}  // namespace xgrad::quant
