#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "../kernels/apot.hpp"
#include "../kernels/apot_reference.hpp"
#include "../kernels/blocked_sums.hpp"
#include "../kernels/select.hpp"
#include "../observers/channel_layout.hpp"
#include "../qat/standardized_rcf.hpp"
#include "rcf_common.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"

namespace xgrad::quant {

namespace {

using detail::validate_rcf_levels;

template <class T>
T validated_alpha(const Tensor<T>& alpha, const char* op) {
  require_defined(alpha, op, "alpha");
  XGRAD_CHECK(alpha.numel() == 1, ShapeError, op, ": alpha must hold one value, got shape ",
              alpha.shape());
  const T a = alpha.data().data()[0];
  XGRAD_CHECK(a > T(0) && std::isfinite(a), ValueError, op, ": alpha must be finite and > 0, got ",
              a);
  return a;
}

// Nothing per element is stored: backward reads x (saved, version checked)
// and the output q, and decides the range from x with thresholds that
// reproduce the forward's division exactly. Inside the range the alpha term
// g * (P(u) - u) is summed as g * (q - x) and divided by alpha once at the end.
struct RCFFakeQuantizeFn : Function<RCFFakeQuantizeFn> {
  static constexpr const char* name = "RCFFakeQuantizeBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& alpha_t,
                               const std::vector<T>& levels, double grad_scale) {
    const T alpha = alpha_t.data().data()[0];
    const std::size_t n = x.numel();
    const T* px = x.data().data();
    xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
    T* po = out.data();
    // u = x / alpha (a true division, as the composition computes it), then
    // P(u) in place (clipped to [lo, 1], NaN kept), then alpha * P(u).
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) po[i] = px[i] / alpha;
    });
    detail::quant_dequant_kernel(po, n, levels.data(), levels.size(), po);
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) po[i] = alpha * po[i];
    });
    if (ctx.recording()) {
      ctx.save_for_backward({x});
      ctx.save_output();
      ctx.saved_scalars = {double(alpha), double(levels.front()), grad_scale};
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const T alpha = static_cast<T>(ctx.saved_scalars[0]);
    const T lo = static_cast<T>(ctx.saved_scalars[1]);
    // lo <= fl(x / alpha) <= 1 exactly when t_lo <= x <= t_hi: two compares
    // per element instead of a division, with the forward's very decision.
    // Plain variables, not a structured binding: lambdas capture them (C++17).
    const detail::RcfRange<T> range = detail::rcf_range(alpha, lo);
    const T t_lo = range.t_lo, t_hi = range.t_hi;
    const T* px = ctx.saved(0).data();
    const T* pq = ctx.output().data();
    T* pg = grad.data();
    // NaN x is neither inside nor clipped.
    const auto [inside_sum, clipped_sum] =
        detail::blocked_sums<T>(0, grad.size(), [=](std::size_t i) {
          const T x = px[i], g = pg[i];
          const bool inside = (x >= t_lo) & (x <= t_hi);
          pg[i] = detail::keep_if(inside, g);
          return std::pair<T, T>(detail::keep_if(inside, g * (pq[i] - x)),
                                 detail::keep_if(x > t_hi, g) + detail::keep_if(x < t_lo, g * lo));
        });
    std::vector<xt::xarray<T>> grads(2);
    if (ctx.needs_input_grad(1)) {
      grads[1] = xt::xarray<T>::from_shape(ctx.input_shape(1));
      grads[1].fill(
          static_cast<T>((inside_sum / double(alpha) + clipped_sum) * ctx.saved_scalars[2]));
    }
    if (ctx.needs_input_grad(0)) grads[0] = std::move(grad);
    return grads;
  }
};

}  // namespace

template <class T>
Tensor<T> rcf_fake_quantize(const Tensor<T>& x, const Tensor<T>& alpha,
                            const std::vector<T>& levels, double grad_scale) {
  const char* op = "rcf_fake_quantize";
  require_defined(x, op, "x");
  validated_alpha(alpha, op);
  validate_rcf_levels(levels.data(), levels.size(), op);
  XGRAD_CHECK(std::isfinite(grad_scale), ValueError, op, ": grad_scale must be finite, got ",
              grad_scale);
  return RCFFakeQuantizeFn::apply(x, alpha, levels, grad_scale);
}

// ---- module ----

template <class T>
RCFFakeQuantize<T>::RCFFakeQuantize(const LevelSet& levels, RCFOptions<T> options)
    : RCFFakeQuantize(levels, options,
                      make_clip_observer<T>(options.init, levels, options.percentile)) {}

template <class T>
RCFFakeQuantize<T>::RCFFakeQuantize(const LevelSet& levels, RCFOptions<T> options,
                                    std::shared_ptr<ClipObserver<T>> observer)
    : FakeQuantizeBase<T>("RCFFakeQuantize"),
      options_(options),
      top_code_(levels.top_code()),
      level_set_(levels),
      observed_min_(std::numeric_limits<T>::infinity()) {
  const char* op = "RCFFakeQuantize";
  XGRAD_CHECK(options.alpha > T(0) && std::isfinite(options.alpha), ValueError, op,
              ": alpha must be finite and > 0, got ", options.alpha);
  XGRAD_CHECK(options.min_alpha > T(0) && std::isfinite(options.min_alpha), ValueError, op,
              ": min_alpha must be finite and > 0, got ", options.min_alpha);
  XGRAD_CHECK(std::isfinite(options.grad_scale), ValueError, op,
              ": grad_scale must be finite, got ", options.grad_scale);
  XGRAD_CHECK(options.channel_len == -1 || options.channel_len > 0, ValueError, op,
              ": channel_len must be -1 (per tensor) or > 0, got ", options.channel_len);
  const std::vector<T> v = levels.values<T>();
  validate_rcf_levels(v.data(), v.size(), op);
  const std::size_t alphas = options.channel_len > 0 ? std::size_t(options.channel_len) : 1;
  alpha_ = this->register_parameter("alpha", full<T>({alphas}, options.alpha));
  xt::xarray<T> lv = xt::xarray<T>::from_shape({v.size()});
  std::copy(v.begin(), v.end(), lv.begin());
  levels_ = this->register_buffer("levels", Tensor<T>(std::move(lv)));
  if (observer)
    activation_post_process = this->register_module("activation_post_process", observer);
}

template <class T>
std::vector<T> RCFFakeQuantize<T>::levels() const {
  return std::vector<T>(levels_.data().begin(), levels_.data().end());
}

template <class T>
bool RCFFakeQuantize<T>::is_signed() const {
  return levels_.numel() > 0 && levels_.data().data()[0] < T(0);
}

template <class T>
bool RCFFakeQuantize<T>::has_qparams() const {
  return !activation_post_process || activation_post_process->calculate_qparams() > T(0);
}

template <class T>
void RCFFakeQuantize<T>::reset_observed_min() {
  observed_min_ = std::numeric_limits<T>::infinity();
}

template <class T>
void RCFFakeQuantize<T>::clamp_alpha_() {
  T* a = alpha_.mutable_data().data();
  for (std::size_t c = 0; c < alpha_.numel(); ++c)
    if (!(a[c] >= options_.min_alpha)) a[c] = options_.min_alpha;
}

template <class T>
void RCFFakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  this->check_toggles(state);
  const char* op = "RCFFakeQuantize::load_state_dict";
  const xt::xarray<T>& alpha = state["alpha"];  // shape: checked before
  for (std::size_t c = 0; c < alpha.size(); ++c) {
    const T a = alpha.data()[c];
    XGRAD_CHECK(a > T(0) && std::isfinite(a), ValueError, op, ": ", state.key("alpha"),
                alpha.size() > 1 ? "[" + std::to_string(c) + "]" : std::string(),
                " must be finite and > 0, got ", a);
  }
  const xt::xarray<T>& lv = state["levels"];
  validate_rcf_levels(lv.data(), lv.size(), op, state.key("levels"));
}

// Each channel's alpha from its own slice, by a fresh observer of the kind
// options.init names (without one: the whole tensor's value `whole`).
template <class T>
void RCFFakeQuantize<T>::observe_channels(const Tensor<T>& x, T whole) {
  const detail::ChannelLayout l =
      detail::channel_layout(x.shape(), options_.ch_axis, "RCFFakeQuantize.forward");
  const T* px = x.data().data();
  T* a = alpha_.mutable_data().data();
  for (std::size_t c = 0; c < l.channels; ++c) {
    auto fresh = make_clip_observer<T>(options_.init, level_set_, options_.percentile);
    T found = whole;
    if (fresh) {
      xt::xarray<T> slice = xt::xarray<T>::from_shape({l.outer * l.inner});
      for (std::size_t o = 0; o < l.outer; ++o)
        std::copy(px + (o * l.channels + c) * l.inner, px + (o * l.channels + c + 1) * l.inner,
                  slice.data() + o * l.inner);
      found = fresh->observe_and_calculate(Tensor<T>(std::move(slice)));
    }
    a[c] = std::max(found, options_.min_alpha);
  }
}

template <class T>
Tensor<T> RCFFakeQuantize<T>::forward(const Tensor<T>& x) {
  const char* op = "RCFFakeQuantize.forward";
  require_defined(x, op, "x");
  const std::vector<T> lv = levels();
  validate_rcf_levels(lv.data(), lv.size(), op);  // a loaded state dict may hold anything
  if (this->observer_enabled() && activation_post_process && x.numel() > 0) {
    // The observer refuses non-finite values and overflow, changing nothing.
    if (is_per_channel()) {  // the shape first: nothing changes on a bad x
      const detail::ChannelLayout l = detail::channel_layout(x.shape(), options_.ch_axis, op);
      XGRAD_CHECK(l.channels == alpha_.numel(), ShapeError, op, ": x has ", l.channels,
                  " channels on axis ", options_.ch_axis, ", channel_len is ", alpha_.numel());
    }
    const T observed = activation_post_process->observe_and_calculate(x.detach());
    if (is_per_channel())
      observe_channels(x, observed);
    else
      alpha_.mutable_data().data()[0] = std::max(observed, options_.min_alpha);
    const T* px = x.data().data();
    observed_min_ = std::min(observed_min_, *std::min_element(px, px + x.numel()));
  }
  if (!this->fake_quant_enabled()) return x;
  const double scale = options_.lsq_grad_scale && x.numel() > 0
                           ? lsq_grad_scale(x.numel(), top_code_)
                           : options_.grad_scale;
  if (is_per_channel())
    return rcf_fake_quantize_per_channel(x, alpha_, options_.ch_axis, lv, scale);
  return rcf_fake_quantize(x, alpha_, lv, scale);
}

template <class T>
Tensor<T> RCFFakeQuantize<T>::forward_standardized(const Tensor<T>& weight, double eps,
                                                   bool rescale) {
  // The observer would see the normalized weight as a tensor of its own;
  // a per-channel alpha is not what the fused path computes.
  if (!this->fake_quant_enabled() || (this->observer_enabled() && activation_post_process) ||
      alpha_.numel() != 1) {
    return Tensor<T>();
  }
  const char* op = "RCFFakeQuantize.forward";
  const std::vector<T> lv = levels();
  validate_rcf_levels(lv.data(), lv.size(), op);  // a loaded state dict may hold anything
  validated_alpha(alpha_, "rcf_fake_quantize");
  const double scale = options_.lsq_grad_scale && weight.defined() && weight.numel() > 0
                           ? lsq_grad_scale(weight.numel(), top_code_)
                           : options_.grad_scale;
  return detail::standardized_rcf_fake_quantize(weight, alpha_, lv, scale, eps, rescale);
}

#define XGRAD_RCF_INSTANTIATE(T)                                                                  \
  template Tensor<T> rcf_fake_quantize(const Tensor<T>&, const Tensor<T>&, const std::vector<T>&, \
                                       double);                                                   \
  template class RCFFakeQuantize<T>;

XGRAD_RCF_INSTANTIATE(float)
XGRAD_RCF_INSTANTIATE(double)

}  // namespace xgrad::quant
