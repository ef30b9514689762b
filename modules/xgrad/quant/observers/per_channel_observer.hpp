// PerChannelMinMaxObserver: PyTorch's observer of the same name, for weights.
// Running min and max of every slice along ch_axis (channel c: all elements
// with index c on that axis), and per-channel qparams from them with
// uniform_qparams (uniform_qparams.hpp), channel by channel.
// Buffers "min_val" / "max_val": empty ({0}) until observed, then {C}
// (shape-changing buffers, so any C loads). qscheme per_channel_affine
// (default) or per_channel_symmetric.
// Errors: ValueError for a per-tensor qscheme, a bad custom range (as
// MinMaxObserver), NaN or an infinity in x; ShapeError when ch_axis is out of
// range for x (negative axes count from the end) or x's channel count differs
// from the one observed before; StateError for qparams before anything was
// observed. A throwing call changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/observers/observer_base.hpp"
#include "xgrad/quant/observers/qscheme.hpp"
#include "xgrad/quant/observers/uniform_qparams.hpp"

namespace xgrad::quant {

// What PerChannelMinMaxObserver::calculate_qparams returns (one entry per channel).
template <class T>
struct PerChannelQParams {
  xt::xarray<T> scale;
  xt::xarray<std::int64_t> zero_point;
};

template <class T = float>
class PerChannelMinMaxObserver : public ObserverBase<T, PerChannelQParams<T>> {
 public:
  explicit PerChannelMinMaxObserver(std::ptrdiff_t ch_axis = 0,
                                    QuantDtype dtype = QuantDtype::quint8,
                                    QScheme qscheme = QScheme::per_channel_affine,
                                    std::optional<std::int64_t> quant_min = std::nullopt,
                                    std::optional<std::int64_t> quant_max = std::nullopt);

  // Updates the per-channel extremes and returns x itself; an empty x changes nothing.
  Tensor<T> forward(const Tensor<T>& x) override;
  PerChannelQParams<T> calculate_qparams() const override;
  void reset_min_max_vals();

  Tensor<T> min_val() const { return min_val_; }
  Tensor<T> max_val() const { return max_val_; }
  std::ptrdiff_t ch_axis() const { return ch_axis_; }
  QuantDtype dtype() const { return dtype_; }
  QScheme qscheme() const { return qscheme_; }
  std::int64_t quant_min() const { return range_.quant_min; }
  std::int64_t quant_max() const { return range_.quant_max; }

 private:
  std::ptrdiff_t ch_axis_;
  QuantDtype dtype_;
  QScheme qscheme_;
  QuantRange range_;
  Tensor<T> min_val_, max_val_;
};

// x's axis normalized to [0, dim) (negative counts from the end); ShapeError
// naming op otherwise. Shared by the per-channel observer and fake quantizers.
std::size_t normalize_channel_axis(std::ptrdiff_t axis, std::size_t dim, const char* op);

XGRAD_EXTERN_TEMPLATE_CLASS(PerChannelMinMaxObserver);

}  // namespace xgrad::quant
