#include "xgrad/quant/fake_quantize/fake_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "../kernels/affine.hpp"
#include "../kernels/ste_mask.hpp"
#include "../observers/observe_range.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad::quant {

const char* to_string(QuantDtype dtype) { return dtype == QuantDtype::quint8 ? "quint8" : "qint8"; }

const char* to_string(QScheme qscheme) {
  switch (qscheme) {
    case QScheme::per_tensor_affine:
      return "per_tensor_affine";
    case QScheme::per_tensor_symmetric:
      return "per_tensor_symmetric";
    case QScheme::per_channel_affine:
      return "per_channel_affine";
    case QScheme::per_channel_symmetric:
      return "per_channel_symmetric";
  }
  return "unknown";
}

bool is_symmetric(QScheme q) {
  return q == QScheme::per_tensor_symmetric || q == QScheme::per_channel_symmetric;
}
bool is_per_channel(QScheme q) {
  return q == QScheme::per_channel_affine || q == QScheme::per_channel_symmetric;
}

namespace {

constexpr std::int64_t dtype_min(QuantDtype d) { return d == QuantDtype::quint8 ? 0 : -128; }
constexpr std::int64_t dtype_max(QuantDtype d) { return d == QuantDtype::quint8 ? 255 : 127; }

// The forward saves the mask of in-range elements (one byte each) for the
// backward; the arithmetic is detail::fake_quantize_affine_kernel.
struct FakeQuantizePerTensorAffineFn : Function<FakeQuantizePerTensorAffineFn> {
  static constexpr const char* name = "FakeQuantizePerTensorAffineBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, T scale, T inv_scale,
                               std::int64_t zero_point, std::int64_t quant_min,
                               std::int64_t quant_max) {
    const xt::xarray<T>& in = x.data();
    xt::xarray<T> out = xgrad::detail::new_array<T>(in.shape());
    const detail::AffineGrid<T> grid{scale, inv_scale, T(zero_point), T(quant_min), T(quant_max)};
    detail::fake_quantize_affine_kernel(in.data(), in.size(), grid, out.data(),
                                        detail::saved_mask(ctx, in.size(), ctx.recording()));
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    return gradients(detail::masked_gradient(ctx, std::move(grad)));
  }
};

}  // namespace

template <class T>
Tensor<T> fake_quantize_per_tensor_affine(const Tensor<T>& x, double scale, std::int64_t zero_point,
                                          std::int64_t quant_min, std::int64_t quant_max) {
  const char* op = "fake_quantize_per_tensor_affine";
  if (!x.defined()) throw ValueError(std::string(op) + ": the input tensor is undefined");
  if (quant_min > quant_max) {
    std::ostringstream msg;
    msg << op << ": quant_min (" << quant_min << ") must be <= quant_max (" << quant_max << ")";
    throw ValueError(msg.str());
  }
  if (zero_point < quant_min || zero_point > quant_max) {
    std::ostringstream msg;
    msg << op << ": zero_point " << zero_point << " must lie in [quant_min, quant_max] = ["
        << quant_min << ", " << quant_max << "]";
    throw ValueError(msg.str());
  }
  const T sc = T(scale);
  const T inv = T(1) / sc;
  if (!(sc > T(0)) || !std::isfinite(sc) || !std::isfinite(inv)) {
    std::ostringstream msg;
    msg << op << ": scale must be finite and > 0 (with a finite inverse) in the tensor's type, got "
        << scale;
    throw ValueError(msg.str());
  }
  return FakeQuantizePerTensorAffineFn::apply(x, sc, inv, zero_point, quant_min, quant_max);
}

// ---------------------------------------------------------------- observer

QuantRange resolve_quant_range(QuantDtype dtype, std::optional<std::int64_t> quant_min,
                               std::optional<std::int64_t> quant_max, const char* op) {
  QuantRange r{dtype_min(dtype), dtype_max(dtype), quant_min.has_value() || quant_max.has_value()};
  if (!r.customized) return r;
  if (!quant_min || !quant_max) {
    throw ValueError(std::string(op) +
                     ": a custom range needs both quant_min and quant_max, got only " +
                     (quant_min ? "quant_min" : "quant_max"));
  }
  std::ostringstream range;
  range << "[" << *quant_min << ", " << *quant_max << "]";
  if (!(*quant_min <= 0 && 0 <= *quant_max)) {
    throw ValueError(std::string(op) + ": the quantization range " + range.str() +
                     " must include 0");
  }
  if (*quant_min >= *quant_max) {
    throw ValueError(std::string(op) + ": quant_min must be < quant_max, got " + range.str());
  }
  if (*quant_min < dtype_min(dtype) || *quant_max > dtype_max(dtype)) {
    std::ostringstream msg;
    msg << op << ": the quantization range " << range.str() << " exceeds " << to_string(dtype)
        << "'s [" << dtype_min(dtype) << ", " << dtype_max(dtype) << "]";
    throw ValueError(msg.str());
  }
  r.quant_min = *quant_min;
  r.quant_max = *quant_max;
  return r;
}

template <class T>
MinMaxObserver<T>::MinMaxObserver(QuantDtype dtype, QScheme qscheme,
                                  std::optional<std::int64_t> quant_min,
                                  std::optional<std::int64_t> quant_max)
    : MinMaxObserver("MinMaxObserver", dtype, qscheme, quant_min, quant_max) {}

template <class T>
MinMaxObserver<T>::MinMaxObserver(std::string type_name, QuantDtype dtype, QScheme qscheme,
                                  std::optional<std::int64_t> quant_min,
                                  std::optional<std::int64_t> quant_max)
    : Module<T>(type_name), dtype_(dtype), qscheme_(qscheme) {
  const std::string op = this->type_name();
  if (is_per_channel(qscheme))
    throw ValueError(op + ": qscheme " + to_string(qscheme) +
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
  if (!x.defined()) throw ValueError(op + ": the input tensor is undefined");
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
  if (std::isnan(v)) throw ValueError("MinMaxObserver.set_min_val: the value is NaN");
  min_val_.mutable_data() = xt::xarray<T>(v);
}

template <class T>
void MinMaxObserver<T>::set_max_val(T v) {
  if (std::isnan(v)) throw ValueError("MinMaxObserver.set_max_val: the value is NaN");
  max_val_.mutable_data() = xt::xarray<T>(v);
}

template <class T>
UniformQParams<T> MinMaxObserver<T>::calculate_qparams() const {
  const char* op = "MinMaxObserver.calculate_qparams";
  if (min_val_.numel() != 1 || max_val_.numel() != 1) {
    throw ShapeError(
        std::string(op) + ": min_val and max_val must hold one value each, got shapes " +
        xgrad::to_string(min_val_.shape()) + " and " + xgrad::to_string(max_val_.shape()));
  }
  const T mn = min_val_.data().data()[0], mx = max_val_.data().data()[0];
  const T inf = std::numeric_limits<T>::infinity();
  if (mn == inf && mx == -inf) {
    throw StateError(std::string(op) +
                     ": nothing was observed yet (min_val = inf, max_val = -inf); run forward "
                     "on data first");
  }
  return uniform_qparams(mn, mx, dtype_, qscheme_, {quant_min_, quant_max_, customized_}, op);
}

template <class T>
UniformQParams<T> uniform_qparams(T mn, T mx, QuantDtype dtype, QScheme qscheme,
                                  const QuantRange& range, const char* op) {
  if (std::isnan(mn) || std::isnan(mx) || !(mn <= mx)) {
    std::ostringstream msg;
    msg << op << ": need min_val <= max_val, got min_val = " << mn << ", max_val = " << mx;
    throw ValueError(msg.str());
  }
  const std::int64_t qmin = range.quant_min, qmax = range.quant_max;
  // PyTorch's float32 arithmetic, step by step.
  const T min_neg = std::min(mn, T(0));
  const T max_pos = std::max(mx, T(0));
  const T eps = T(std::numeric_limits<float>::epsilon());
  UniformQParams<T> qp{T(1), 0};
  if (is_symmetric(qscheme)) {
    const T m = std::max(-min_neg, max_pos);
    qp.scale = std::max(m / T(double(qmax - qmin) / 2.0), eps);
    if (dtype == QuantDtype::quint8) {
      // A custom range takes its rounded-down midpoint; the default one 128.
      qp.zero_point = range.customized ? (qmin + qmax) / 2 : 128;
    }
  } else {
    qp.scale = std::max((max_pos - min_neg) / T(qmax - qmin), eps);
    if (std::isfinite(qp.scale)) {
      const auto shift = static_cast<std::int64_t>(std::nearbyint(min_neg / qp.scale));
      qp.zero_point = std::clamp(qmin - shift, qmin, qmax);
    }
  }
  if (!std::isfinite(qp.scale)) {
    std::ostringstream msg;
    msg << op << ": the observed range [" << mn << ", " << mx << "] overflows the scale's type";
    throw ValueError(msg.str());
  }
  return qp;
}

// ---------------------------------------------------------------- fake quantize

template <class T>
FakeQuantize<T>::FakeQuantize(QuantDtype dtype, QScheme qscheme,
                              std::optional<std::int64_t> quant_min,
                              std::optional<std::int64_t> quant_max)
    : FakeQuantizeBase<T>("FakeQuantize") {
  // Empty until computed or loaded: shape-changing buffers.
  scale_ = this->register_buffer("scale", zeros<T>({0}), false);
  zero_point_ = this->register_buffer("zero_point", zeros<T>({0}), false);
  activation_post_process = this->register_module(
      "activation_post_process",
      std::make_shared<MinMaxObserver<T>>(dtype, qscheme, quant_min, quant_max));
}

template <class T>
bool FakeQuantize<T>::has_qparams() const {
  return scale_.numel() > 0 && zero_point_.numel() > 0;
}

template <class T>
UniformQParams<T> FakeQuantize<T>::qparams() const {
  const char* op = "FakeQuantize.qparams";
  if (!has_qparams()) {
    throw StateError(std::string(op) +
                     ": there are no qparams (scale / zero_point) yet: enable the observer and "
                     "run forward on data, or load a state dict");
  }
  if (scale_.numel() != 1 || zero_point_.numel() != 1) {
    throw ShapeError(
        std::string(op) + ": scale and zero_point must hold one value each, got shapes " +
        xgrad::to_string(scale_.shape()) + " and " + xgrad::to_string(zero_point_.shape()));
  }
  const T zp = zero_point_.data().data()[0];
  if (!(std::nearbyint(zp) == zp && zp >= T(quant_min()) && zp <= T(quant_max()))) {
    std::ostringstream msg;
    msg << op << ": zero_point must be an integer in [quant_min, quant_max] = [" << quant_min()
        << ", " << quant_max() << "], got " << zp;
    throw ValueError(msg.str());
  }
  return {scale_.data().data()[0], static_cast<std::int64_t>(zp)};
}

template <class T>
Tensor<T> FakeQuantize<T>::forward(const Tensor<T>& x) {
  if (!x.defined()) throw ValueError("FakeQuantize.forward: the input tensor is undefined");
  if (this->observer_enabled()) {
    // A range whose scale overflows is observed before calculate_qparams can
    // refuse it: put the old extremes back so the module stays unchanged.
    const xt::xarray<T> old_min = activation_post_process->min_val().data();
    const xt::xarray<T> old_max = activation_post_process->max_val().data();
    (*activation_post_process)(x.detach());
    UniformQParams<T> qp;
    try {
      qp = activation_post_process->calculate_qparams();
    } catch (...) {
      activation_post_process->min_val().mutable_data() = old_min;
      activation_post_process->max_val().mutable_data() = old_max;
      throw;
    }
    scale_.mutable_data() = xt::xarray<T>({qp.scale});
    zero_point_.mutable_data() = xt::xarray<T>({T(qp.zero_point)});
  }
  if (!this->fake_quant_enabled()) return x;
  const auto [sc, zp] = qparams();
  return fake_quantize_per_tensor_affine(x, double(sc), zp, quant_min(), quant_max());
}

template UniformQParams<float> uniform_qparams(float, float, QuantDtype, QScheme, const QuantRange&,
                                               const char*);
template UniformQParams<double> uniform_qparams(double, double, QuantDtype, QScheme,
                                                const QuantRange&, const char*);
template <class T>
void MinMaxObserver<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  const T mn = state["min_val"].data()[0], mx = state["max_val"].data()[0];
  const T inf = std::numeric_limits<T>::infinity();
  if (mn == inf && mx == -inf) return;  // nothing observed yet
  if (!std::isfinite(mn) || !std::isfinite(mx) || mn > mx) {
    std::ostringstream msg;
    msg << "MinMaxObserver::load_state_dict: " << state.key("min_val") << " = " << mn << " and "
        << state.key("max_val") << " = " << mx
        << " must be finite with min_val <= max_val (or inf and -inf: nothing observed)";
    throw ValueError(msg.str());
  }
}

template <class T>
void FakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  const std::string where = "FakeQuantize::load_state_dict: ";
  for (const char* name : {"fake_quant_enabled", "observer_enabled"}) {
    const T f = state[name].data()[0];
    if (!(f == T(0) || f == T(1)))
      throw ValueError(where + state.key(name) + " must be 0 or 1, got " + std::to_string(f));
  }
  const xt::xarray<T>&scale = state["scale"], &zp = state["zero_point"];
  if (scale.size() == 0 && zp.size() == 0) return;  // no qparams yet
  if (scale.size() != 1 || zp.size() != 1 || scale.dimension() != 1 || zp.dimension() != 1)
    throw ValueError(where + state.key("scale") + " and " + state.key("zero_point") +
                     " must both have shape [0] or both [1], got " +
                     xgrad::to_string(Shape(scale.shape().begin(), scale.shape().end())) + " and " +
                     xgrad::to_string(Shape(zp.shape().begin(), zp.shape().end())));
  const T sc = scale.data()[0], z = zp.data()[0];
  if (!(sc > T(0)) || !std::isfinite(sc) || !std::isfinite(T(1) / sc)) {
    std::ostringstream msg;
    msg << where << state.key("scale") << " must be finite and > 0 (with a finite inverse), got "
        << sc;
    throw ValueError(msg.str());
  }
  if (!(std::nearbyint(z) == z && z >= T(quant_min()) && z <= T(quant_max()))) {
    std::ostringstream msg;
    msg << where << state.key("zero_point") << " must be an integer in [" << quant_min() << ", "
        << quant_max() << "], got " << z;
    throw ValueError(msg.str());
  }
}

template class MinMaxObserver<float>;
template class MinMaxObserver<double>;
template class FakeQuantize<float>;
template class FakeQuantize<double>;
template Tensor<float> fake_quantize_per_tensor_affine(const Tensor<float>&, double, std::int64_t,
                                                       std::int64_t, std::int64_t);
template Tensor<double> fake_quantize_per_tensor_affine(const Tensor<double>&, double, std::int64_t,
                                                        std::int64_t, std::int64_t);

}  // namespace xgrad::quant
