#include "xgrad/quant/observers/per_channel_observer.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "channel_layout.hpp"
#include "observe_range.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

std::size_t normalize_channel_axis(std::ptrdiff_t axis, std::size_t dim, const char* op) {
  const auto d = static_cast<std::ptrdiff_t>(dim);
  XGRAD_CHECK(axis >= -d && axis < d, ShapeError, op, ": axis ", axis,
              " is out of range for a tensor of ", dim, " dimensions");
  return static_cast<std::size_t>(axis < 0 ? axis + d : axis);
}

template <class T>
PerChannelMinMaxObserver<T>::PerChannelMinMaxObserver(std::ptrdiff_t ch_axis, QuantDtype dtype,
                                                      QScheme qscheme,
                                                      std::optional<std::int64_t> quant_min,
                                                      std::optional<std::int64_t> quant_max)
    : ObserverBase<T, PerChannelQParams<T>>("PerChannelMinMaxObserver"),
      ch_axis_(ch_axis),
      dtype_(dtype),
      qscheme_(qscheme) {
  const char* op = "PerChannelMinMaxObserver";
  XGRAD_CHECK(is_per_channel(qscheme), ValueError, op, ": qscheme ", to_string(qscheme),
              " is per tensor; use per_channel_affine or per_channel_symmetric");
  range_ = resolve_quant_range(dtype, quant_min, quant_max, op);
  min_val_ = this->register_buffer("min_val", zeros<T>({0}), /*fixed_shape=*/false);
  max_val_ = this->register_buffer("max_val", zeros<T>({0}), /*fixed_shape=*/false);
}

template <class T>
Tensor<T> PerChannelMinMaxObserver<T>::forward(const Tensor<T>& x) {
  const char* op = "PerChannelMinMaxObserver.forward";
  require_defined(x, op, "the input tensor");
  if (x.numel() == 0) return x;
  const detail::ChannelLayout lay = detail::channel_layout(x.shape(), ch_axis_, op);
  const T* p = x.data().data();
  detail::require_finite(p, x.numel(), op);
  const bool first = min_val_.numel() == 0 || max_val_.numel() == 0;
  XGRAD_CHECK(first || (min_val_.numel() == lay.channels && max_val_.numel() == lay.channels),
              ShapeError, op, ": x has ", lay.channels, " channels on axis ", ch_axis_, ", but ",
              min_val_.numel(), " were observed before");
  const T inf = std::numeric_limits<T>::infinity();
  xt::xarray<T> mn = xt::xarray<T>::from_shape({lay.channels});
  xt::xarray<T> mx = xt::xarray<T>::from_shape({lay.channels});
  std::fill(mn.begin(), mn.end(), inf);
  std::fill(mx.begin(), mx.end(), -inf);
  for (std::size_t o = 0; o < lay.outer; ++o)
    for (std::size_t c = 0; c < lay.channels; ++c) {
      const T* row = p + (o * lay.channels + c) * lay.inner;
      for (std::size_t i = 0; i < lay.inner; ++i) {
        mn(c) = std::min(mn(c), row[i]);
        mx(c) = std::max(mx(c), row[i]);
      }
    }
  if (!first) {
    for (std::size_t c = 0; c < lay.channels; ++c) {
      mn(c) = std::min(mn(c), min_val_.data()(c));
      mx(c) = std::max(mx(c), max_val_.data()(c));
    }
  }
  min_val_.mutable_data() = std::move(mn);
  max_val_.mutable_data() = std::move(mx);
  return x;
}

template <class T>
PerChannelQParams<T> PerChannelMinMaxObserver<T>::calculate_qparams() const {
  const char* op = "PerChannelMinMaxObserver.calculate_qparams";
  XGRAD_CHECK(min_val_.numel() != 0 && max_val_.numel() != 0, StateError, op,
              ": nothing was observed yet; run forward on data first");
  XGRAD_CHECK(min_val_.dim() == 1 && min_val_.shape() == max_val_.shape(), ShapeError, op,
              ": min_val and max_val must be 1-D of one shape, got ", min_val_.shape(), " and ",
              max_val_.shape());
  const std::size_t C = min_val_.numel();
  PerChannelQParams<T> q{xt::xarray<T>::from_shape({C}), xt::xarray<std::int64_t>::from_shape({C})};
  for (std::size_t c = 0; c < C; ++c) {
    const UniformQParams<T> one =
        uniform_qparams(min_val_.data()(c), max_val_.data()(c), dtype_, qscheme_, range_, op);
    q.scale(c) = one.scale;
    q.zero_point(c) = one.zero_point;
  }
  return q;
}

template <class T>
void PerChannelMinMaxObserver<T>::reset_min_max_vals() {
  min_val_.mutable_data() = xt::xarray<T>::from_shape({0});
  max_val_.mutable_data() = xt::xarray<T>::from_shape({0});
}

XGRAD_INSTANTIATE_CLASS(PerChannelMinMaxObserver);

}  // namespace xgrad::quant
