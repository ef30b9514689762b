#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../kernels/affine.hpp"
#include "../kernels/affine_reference.hpp"
#include "../kernels/blocked_sums.hpp"
#include "../observers/channel_layout.hpp"
#include "channel_grids.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"
#include "xgrad/quant/levels/level_set.hpp"

namespace xgrad::quant {

namespace {

// Zero points as PyTorch rounds them (see the header).
template <class T>
T zero_point_forward(T zp, std::int64_t qmin, std::int64_t qmax) {
  return std::clamp(std::nearbyint(zp), T(qmin), T(qmax));
}
template <class T>
T zero_point_backward_per_tensor(T zp, std::int64_t qmin, std::int64_t qmax) {
  return std::trunc(std::clamp(zp + T(0.5), T(qmin), T(qmax)));
}

void require_range(std::int64_t qmin, std::int64_t qmax, const char* op) {
  XGRAD_CHECK(qmin <= qmax, ValueError, op, ": quant_min (", qmin, ") must be <= quant_max (", qmax,
              ")");
}

template <class T>
void require_zero_points(const Tensor<T>& zp, const char* op) {
  const T* p = zp.data().data();
  for (std::size_t i = 0; i < zp.numel(); ++i)
    XGRAD_CHECK(!std::isnan(p[i]), ValueError, op, ": zero_point[", i, "] is NaN");
}

// What both ops save besides x, scale and zero_point (version checked).
template <class T>
struct LearnableScalars {
  std::int64_t qmin, qmax;
  T grad_factor;
};
template <class T>
void save_scalars(Context<T>& ctx, std::int64_t qmin, std::int64_t qmax, double grad_factor) {
  ctx.saved_scalars = {double(qmin), double(qmax), grad_factor};
}
template <class T>
LearnableScalars<T> saved_scalars(const Context<T>& ctx) {
  return {static_cast<std::int64_t>(ctx.saved_scalars[0]),
          static_cast<std::int64_t>(ctx.saved_scalars[1]), static_cast<T>(ctx.saved_scalars[2])};
}

struct LearnablePerTensorFn : Function<LearnablePerTensorFn> {
  static constexpr const char* name = "FakeQuantizeLearnablePerTensorAffineBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& scale,
                               const Tensor<T>& zero_point, std::int64_t qmin, std::int64_t qmax,
                               double grad_factor) {
    const T sc = scale.data().data()[0];
    const detail::AffineGrid<T> g{sc, T(1) / sc,
                                  zero_point_forward(zero_point.data().data()[0], qmin, qmax),
                                  T(qmin), T(qmax)};
    xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
    detail::fake_quantize_affine_kernel(x.data().data(), x.numel(), g, out.data(), nullptr);
    if (ctx.recording()) {
      ctx.save_for_backward({x, scale, zero_point});
      save_scalars(ctx, qmin, qmax, grad_factor);
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const LearnableScalars<T> s = saved_scalars(ctx);
    const T* px = ctx.saved(0).data();
    const T sc = ctx.saved(1).data()[0];
    const detail::AffineGrid<T> g{
        sc, T(1) / sc, zero_point_backward_per_tensor(ctx.saved(2).data()[0], s.qmin, s.qmax),
        T(s.qmin), T(s.qmax)};
    T* pg = grad.data();
    const auto [sum_scale, sum_zp] = detail::blocked_sums<T>(0, grad.size(), [=](std::size_t i) {
      return detail::learnable_affine_grads(px[i], pg[i], g, s.grad_factor, &pg[i]);
    });
    std::vector<xt::xarray<T>> grads(3);
    grads[1] = xt::xarray<T>::from_shape(ctx.input_shape(1));
    grads[1].fill(static_cast<T>(sum_scale));
    grads[2] = xt::xarray<T>::from_shape(ctx.input_shape(2));
    grads[2].fill(static_cast<T>(sum_zp));
    grads[0] = std::move(grad);
    return grads;
  }
};

// Per-channel grids with zero points rounded half to even and clamped.
template <class T>
std::vector<detail::AffineGrid<T>> learnable_grids(const xt::xarray<T>& scale,
                                                   const xt::xarray<T>& zero_point,
                                                   std::int64_t qmin, std::int64_t qmax,
                                                   const char* op) {
  std::vector<T> zp(zero_point.size());
  for (std::size_t c = 0; c < zp.size(); ++c)
    zp[c] = zero_point_forward(zero_point.data()[c], qmin, qmax);
  return detail::channel_grids(scale.data(), zp.data(), zp.size(), qmin, qmax, op);
}

struct LearnablePerChannelFn : Function<LearnablePerChannelFn> {
  static constexpr const char* name = "FakeQuantizeLearnablePerChannelAffineBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& scale,
                               const Tensor<T>& zero_point, const detail::ChannelLayout& lay,
                               std::int64_t qmin, std::int64_t qmax, double grad_factor) {
    const auto grids = learnable_grids(scale.data(), zero_point.data(), qmin, qmax, name);
    xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
    detail::fake_quantize_per_channel_kernel(x.data().data(), lay.outer, lay.channels, lay.inner,
                                             grids.data(), out.data(), nullptr);
    if (ctx.recording()) {
      ctx.save_for_backward({x, scale, zero_point});
      save_scalars(ctx, qmin, qmax, grad_factor);
      ctx.saved_ints = {std::ptrdiff_t(lay.outer), std::ptrdiff_t(lay.channels),
                        std::ptrdiff_t(lay.inner)};
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const LearnableScalars<T> s = saved_scalars(ctx);
    const auto outer = std::size_t(ctx.saved_ints[0]), channels = std::size_t(ctx.saved_ints[1]),
               inner = std::size_t(ctx.saved_ints[2]);
    const auto grids = learnable_grids(ctx.saved(1), ctx.saved(2), s.qmin, s.qmax, name);
    const T* px = ctx.saved(0).data();
    T* pg = grad.data();
    std::vector<double> sum_scale(channels, 0.0), sum_zp(channels, 0.0);
    // Channels split over threads; each channel sums its rows in order as a
    // single thread would.
    xgrad::detail::parallel_for(
        channels, xgrad::detail::row_grain(outer * inner), [&](std::size_t cb, std::size_t ce) {
          for (std::size_t o = 0; o < outer; ++o)
            for (std::size_t c = cb; c < ce; ++c) {
              const std::size_t at = (o * channels + c) * inner;
              const detail::AffineGrid<T> gc = grids[c];
              const auto [ds, dz] = detail::blocked_sums<T>(at, at + inner, [=](std::size_t i) {
                return detail::learnable_affine_grads(px[i], pg[i], gc, s.grad_factor, &pg[i]);
              });
              sum_scale[c] += ds;
              sum_zp[c] += dz;
            }
        });
    std::vector<xt::xarray<T>> grads(3);
    grads[1] = xt::xarray<T>::from_shape({channels});
    grads[2] = xt::xarray<T>::from_shape({channels});
    for (std::size_t c = 0; c < channels; ++c) {
      grads[1](c) = static_cast<T>(sum_scale[c]);
      grads[2](c) = static_cast<T>(sum_zp[c]);
    }
    grads[0] = std::move(grad);
    return grads;
  }
};

}  // namespace

template <class T>
Tensor<T> fake_quantize_learnable_per_tensor_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                                    const Tensor<T>& zero_point,
                                                    std::int64_t quant_min, std::int64_t quant_max,
                                                    double grad_factor) {
  const char* op = "fake_quantize_learnable_per_tensor_affine";
  XGRAD_CHECK(x.defined() && scale.defined() && zero_point.defined(), ValueError, op,
              ": x, scale or zero_point is undefined");
  require_range(quant_min, quant_max, op);
  XGRAD_CHECK(scale.numel() == 1 && zero_point.numel() == 1, ShapeError, op,
              ": scale and zero_point must hold one value each, got shapes ", scale.shape(),
              " and ", zero_point.shape());
  detail::require_scale(scale.data().data()[0], op, "scale");
  require_zero_points(zero_point, op);
  XGRAD_CHECK(std::isfinite(grad_factor), ValueError, op, ": grad_factor must be finite, got ",
              grad_factor);
  return LearnablePerTensorFn::apply(x, scale, zero_point, quant_min, quant_max, grad_factor);
}

template <class T>
Tensor<T> fake_quantize_learnable_per_channel_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                                     const Tensor<T>& zero_point,
                                                     std::ptrdiff_t axis, std::int64_t quant_min,
                                                     std::int64_t quant_max, double grad_factor) {
  const char* op = "fake_quantize_learnable_per_channel_affine";
  require_defined(x, op, "x");
  require_range(quant_min, quant_max, op);
  const detail::ChannelLayout lay = detail::channel_layout(x.shape(), axis, op);
  detail::require_channel_params(scale, zero_point, lay.channels, op);
  require_zero_points(zero_point, op);
  for (std::size_t c = 0; c < lay.channels; ++c)
    detail::require_scale(scale.data()(c), op, "scale[" + std::to_string(c) + "]");
  XGRAD_CHECK(std::isfinite(grad_factor), ValueError, op, ": grad_factor must be finite, got ",
              grad_factor);
  return LearnablePerChannelFn::apply(x, scale, zero_point, lay, quant_min, quant_max, grad_factor);
}

// ---- module ----

template <class T>
LearnableFakeQuantize<T>::LearnableFakeQuantize(LearnableFakeQuantizeOptions<T> o)
    : FakeQuantizeBase<T>("LearnableFakeQuantize"), options_(o) {
  const char* op = "LearnableFakeQuantize";
  XGRAD_CHECK(o.quant_min < o.quant_max, ValueError, op,
              ": quant_min must be strictly less than quant_max, got [", o.quant_min, ", ",
              o.quant_max, "]");
  XGRAD_CHECK(o.channel_len == -1 || o.channel_len > 0, ValueError, op,
              ": channel_len must be -1 (per tensor) or > 0, got ", o.channel_len);
  XGRAD_CHECK(quant::is_per_channel(o.qscheme) == (o.channel_len > 0), ValueError, op, ": qscheme ",
              to_string(o.qscheme), o.channel_len > 0 ? " is per tensor" : " is per channel",
              " but channel_len is ", o.channel_len);
  XGRAD_CHECK(!o.use_grad_scaling || o.quant_max > 0, ValueError, op,
              ": use_grad_scaling needs quant_max > 0 (grad_factor = 1 / sqrt(numel * "
              "quant_max)), got quant_max = ",
              o.quant_max);
  detail::require_scale(o.scale, op, "scale");
  XGRAD_CHECK(std::isfinite(o.zero_point), ValueError, op, ": zero_point must be finite");
  const std::size_t n = o.channel_len > 0 ? std::size_t(o.channel_len) : 1;
  scale_ = this->register_parameter("scale", full<T>({n}, o.scale));
  zero_point_ = this->register_parameter("zero_point", full<T>({n}, o.zero_point));
  learning_enabled_ = this->register_buffer("learning_enabled", ones<T>({1}));
  eps_ = this->register_buffer("eps", full<T>({1}, T(std::numeric_limits<float>::epsilon())));
  if (o.step_init) {
    const char* why = *o.step_init == AlphaInit::fixed ? "fixed leaves no observer to set the step"
                      : o.channel_len > 0              ? "it is per tensor only"
                                                       : nullptr;
    XGRAD_CHECK(!why, ValueError, op, ": step_init ", to_string(*o.step_init), ": ", why);
    // The grid j / quant_max as a LevelSet: b-bit unsigned or symmetric signed.
    const bool is_signed = o.quant_min < 0;
    const std::int64_t n = o.quant_max + 1;
    XGRAD_CHECK((o.quant_min == 0 || o.quant_min == -o.quant_max) && (n & (n - 1)) == 0, ValueError,
                op, ": step_init needs quant_min 0 or -quant_max and quant_max + 1 a ",
                "power of two, got [", o.quant_min, ", ", o.quant_max, "]");
    int b = is_signed ? 1 : 0;
    for (std::int64_t m = n; m > 1; m >>= 1) ++b;
    clip_observer_ =
        make_clip_observer<T>(*o.step_init, uniform_levels(b, is_signed), o.percentile);
    activation_post_process = this->register_module("activation_post_process", clip_observer_);
    zero_point_.mutable_data().fill(T(0));
    zero_point_.set_requires_grad(false);
  } else if (o.channel_len > 0) {
    channel_observer_ = std::make_shared<PerChannelMinMaxObserver<T>>(o.ch_axis, o.dtype, o.qscheme,
                                                                      o.quant_min, o.quant_max);
    activation_post_process = this->register_module("activation_post_process", channel_observer_);
  } else {
    tensor_observer_ = std::make_shared<MovingAverageMinMaxObserver<T>>(
        o.averaging_constant, o.dtype, o.qscheme, o.quant_min, o.quant_max);
    activation_post_process = this->register_module("activation_post_process", tensor_observer_);
  }
}

template <class T>
void LearnableFakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  this->check_toggles(state);
  const char* op = "LearnableFakeQuantize::load_state_dict";
  const T learning = state["learning_enabled"].data()[0];
  XGRAD_CHECK(learning == T(0) || learning == T(1), ValueError, op, ": ",
              state.key("learning_enabled"), " must be 0 or 1, got ", learning);
  const T eps = state["eps"].data()[0];
  XGRAD_CHECK(eps > T(0) && std::isfinite(eps), ValueError, op, ": ", state.key("eps"),
              " must be finite and > 0, got ", eps);
  // A positive scale below eps is what an optimizer step can leave (forward
  // raises it to eps, as PyTorch); zero, negative or non-finite ones are not.
  const xt::xarray<T>& s = state["scale"];
  for (std::size_t c = 0; c < s.size(); ++c)
    XGRAD_CHECK(s.data()[c] > T(0) && std::isfinite(s.data()[c]), ValueError, op, ": ",
                state.key("scale"), "[", c, "] must be finite and > 0, got ", s.data()[c]);
  const xt::xarray<T>& z = state["zero_point"];
  for (std::size_t c = 0; c < z.size(); ++c)
    XGRAD_CHECK(std::isfinite(z.data()[c]), ValueError, op, ": ", state.key("zero_point"), "[", c,
                "] must be finite, got ", z.data()[c]);
}

template <class T>
bool LearnableFakeQuantize<T>::has_qparams() const {
  if (tensor_observer_) return std::isfinite(tensor_observer_->min_val().item());
  return channel_observer_->min_val().numel() > 0;
}

template <class T>
bool LearnableFakeQuantize<T>::learning_enabled() const {
  return learning_enabled_.numel() > 0 && learning_enabled_.data().data()[0] != T(0);
}

template <class T>
void LearnableFakeQuantize<T>::toggle_qparam_learning(bool enabled) {
  learning_enabled_.mutable_data() = xt::xarray<T>({enabled ? T(1) : T(0)});
  scale_.set_requires_grad(enabled);
  zero_point_.set_requires_grad(enabled && !clip_observer_);  // step_init: zero point stays 0
}

template <class T>
void LearnableFakeQuantize<T>::enable_param_learning() {
  toggle_qparam_learning(true);
  this->enable_fake_quant(true);
  this->enable_observer(false);
}

template <class T>
void LearnableFakeQuantize<T>::enable_static_estimate() {
  toggle_qparam_learning(false);
  this->enable_fake_quant(true);
  this->enable_observer(true);
}

template <class T>
void LearnableFakeQuantize<T>::enable_static_observation() {
  toggle_qparam_learning(false);
  this->enable_fake_quant(false);
  this->enable_observer(true);
}

template <class T>
PerChannelQParams<T> LearnableFakeQuantize<T>::calculate_qparams() {
  const T eps = eps_.data().data()[0];
  for (auto& s : scale_.mutable_data()) s = std::max(s, eps);
  PerChannelQParams<T> q{scale_.data(), xt::xarray<std::int64_t>::from_shape(zero_point_.shape())};
  for (std::size_t c = 0; c < zero_point_.numel(); ++c)
    q.zero_point(c) = static_cast<std::int64_t>(
        zero_point_forward(zero_point_.data()(c), options_.quant_min, options_.quant_max));
  return q;
}

template <class T>
Tensor<T> LearnableFakeQuantize<T>::forward(const Tensor<T>& x) {
  const char* op = "LearnableFakeQuantize.forward";
  require_defined(x, op, "x");
  if (this->observer_enabled()) {
    xt::xarray<T> s, z;
    // Every observer restores its state when the qparams are refused.
    if (clip_observer_) {
      const T clip = clip_observer_->observe_and_calculate(x.detach());
      s = xt::xarray<T>({std::max(clip / T(options_.quant_max), eps_.data().data()[0])});
      z = xt::xarray<T>({T(0)});
    } else if (tensor_observer_) {
      const auto [sc, zp] = tensor_observer_->observe_and_calculate(x.detach());
      s = xt::xarray<T>({sc});
      z = xt::xarray<T>({T(zp)});
    } else {
      PerChannelQParams<T> q = channel_observer_->observe_then(x.detach(), [&] {
        PerChannelQParams<T> r = channel_observer_->calculate_qparams();
        XGRAD_CHECK(r.scale.size() == scale_.numel(), ShapeError, op, ": the observer found ",
                    r.scale.size(), " channels, channel_len is ", scale_.numel());
        return r;
      });
      s = std::move(q.scale);
      z = xt::xarray<T>::from_shape(s.shape());
      std::copy(q.zero_point.begin(), q.zero_point.end(), z.begin());
    }
    scale_.mutable_data() = std::move(s);
    zero_point_.mutable_data() = std::move(z);
  } else {
    const T eps = eps_.data().data()[0];
    const xt::xarray<T>& sd = scale_.data();
    if (std::any_of(sd.begin(), sd.end(), [eps](T v) { return !(v >= eps); }))
      for (auto& v : scale_.mutable_data()) v = std::max(v, eps);
  }
  if (!this->fake_quant_enabled()) return x;
  if (is_symmetric(options_.qscheme) &&
      std::any_of(zero_point_.data().begin(), zero_point_.data().end(),
                  [](T v) { return v != T(0); }))
    zero_point_.mutable_data().fill(T(0));
  const double factor = options_.use_grad_scaling && x.numel() > 0
                            ? lsq_grad_scale(x.numel(), options_.quant_max)
                            : 1.0;
  const bool learn = learning_enabled();
  const Tensor<T> s = learn ? scale_ : scale_.detach();
  const Tensor<T> z = learn ? zero_point_ : zero_point_.detach();
  if (channel_observer_)
    return fake_quantize_learnable_per_channel_affine(x, s, z, options_.ch_axis, options_.quant_min,
                                                      options_.quant_max, factor);
  return fake_quantize_learnable_per_tensor_affine(x, s, z, options_.quant_min, options_.quant_max,
                                                   factor);
}

#define XGRAD_LSQ_INSTANTIATE(T)                                                                 \
  template Tensor<T> fake_quantize_learnable_per_tensor_affine(                                  \
      const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, std::int64_t, std::int64_t, double); \
  template Tensor<T> fake_quantize_learnable_per_channel_affine(                                 \
      const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, std::ptrdiff_t, std::int64_t,        \
      std::int64_t, double);                                                                     \
  template class LearnableFakeQuantize<T>;

XGRAD_LSQ_INSTANTIATE(float)
XGRAD_LSQ_INSTANTIATE(double)

}  // namespace xgrad::quant
