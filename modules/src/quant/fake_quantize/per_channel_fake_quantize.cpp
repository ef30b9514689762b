#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"

#include <cmath>
#include <string>

#include "../observers/channel_layout.hpp"
#include "affine_function.hpp"
#include "channel_grids.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

struct PerChannelName {
  static constexpr const char* value = "FakeQuantizePerChannelAffineBackward";
};

}  // namespace

template <class T>
Tensor<T> fake_quantize_per_channel_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                           const Tensor<T>& zero_point, std::ptrdiff_t axis,
                                           std::int64_t quant_min, std::int64_t quant_max) {
  const char* op = "fake_quantize_per_channel_affine";
  require_defined(x, op, "the input tensor");
  XGRAD_CHECK(quant_min <= quant_max, ValueError, op, ": quant_min (", quant_min,
              ") must be <= quant_max (", quant_max, ")");
  const detail::ChannelLayout lay = detail::channel_layout(x.shape(), axis, op);
  detail::require_channel_params(scale, zero_point, lay.channels, op);
  const T* zp = zero_point.data().data();
  for (std::size_t c = 0; c < lay.channels; ++c) {
    XGRAD_CHECK(std::nearbyint(zp[c]) == zp[c] && zp[c] >= T(quant_min) && zp[c] <= T(quant_max),
                ValueError, op, ": zero_point[", c, "] = ", zp[c], " must be an integer in [",
                quant_min, ", ", quant_max, "]");
  }
  const auto grids =
      detail::channel_grids(scale.data().data(), zp, lay.channels, quant_min, quant_max, op);
  return detail::AffineFakeQuantizeFn<PerChannelName>::apply(x, grids, lay);
}

template <class T>
PerChannelFakeQuantize<T>::PerChannelFakeQuantize(std::ptrdiff_t ch_axis, QuantDtype dtype,
                                                  QScheme qscheme,
                                                  std::optional<std::int64_t> quant_min,
                                                  std::optional<std::int64_t> quant_max)
    : UniformFakeQuantizeBase<T, PerChannelMinMaxObserver<T>>(
          "PerChannelFakeQuantize", std::make_shared<PerChannelMinMaxObserver<T>>(
                                        ch_axis, dtype, qscheme, quant_min, quant_max)) {}

template <class T>
Tensor<T> PerChannelFakeQuantize<T>::forward(const Tensor<T>& x) {
  const char* op = "PerChannelFakeQuantize.forward";
  require_defined(x, op, "the input tensor");
  PerChannelMinMaxObserver<T>& obs = *this->activation_post_process;
  if (this->observer_enabled()) {
    PerChannelQParams<T> q = obs.observe_and_calculate(x);  // a failure restores the observer
    xt::xarray<T> zp = xt::xarray<T>::from_shape(q.zero_point.shape());
    std::copy(q.zero_point.begin(), q.zero_point.end(), zp.begin());
    this->scale_.mutable_data() = std::move(q.scale);
    this->zero_point_.mutable_data() = std::move(zp);
  }
  if (!this->fake_quant_enabled()) return x;
  XGRAD_CHECK(this->has_qparams(), StateError, op,
              ": there are no qparams (scale / zero_point) yet: enable the observer and "
              "run forward on data, or load a state dict");
  return fake_quantize_per_channel_affine(x, this->scale_, this->zero_point_, obs.ch_axis(),
                                          obs.quant_min(), obs.quant_max());
}

template <class T>
void PerChannelFakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  this->check_toggles(state);
  const char* op = "PerChannelFakeQuantize::load_state_dict";
  const xt::xarray<T>&s = state["scale"], &z = state["zero_point"];
  XGRAD_CHECK(s.dimension() == 1 && z.dimension() == 1 && s.size() == z.size(), ValueError, op,
              ": ", state.key("scale"), " and ", state.key("zero_point"),
              " must be 1-D of one size (one value per channel), got shapes ", s.shape(), " and ",
              z.shape());
  for (std::size_t c = 0; c < s.size(); ++c)
    detail::require_scale(s.data()[c], op, state.key("scale") + "[" + std::to_string(c) + "]");
  const std::int64_t lo = this->quant_min(), hi = this->quant_max();
  for (std::size_t c = 0; c < z.size(); ++c) {
    const T v = z.data()[c];
    XGRAD_CHECK(std::nearbyint(v) == v && v >= T(lo) && v <= T(hi), ValueError, op, ": ",
                state.key("zero_point"), "[", c, "] must be an integer in [", lo, ", ", hi,
                "], got ", v);
  }
}

#define XGRAD_PER_CHANNEL_FQ_INSTANTIATE(T)                                               \
  template Tensor<T> fake_quantize_per_channel_affine(const Tensor<T>&, const Tensor<T>&, \
                                                      const Tensor<T>&, std::ptrdiff_t,   \
                                                      std::int64_t, std::int64_t);        \
  template class PerChannelFakeQuantize<T>;

XGRAD_PER_CHANNEL_FQ_INSTANTIATE(float)
XGRAD_PER_CHANNEL_FQ_INSTANTIATE(double)

}  // namespace xgrad::quant
