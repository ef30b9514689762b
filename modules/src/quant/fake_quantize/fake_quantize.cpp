#include "xgrad/quant/fake_quantize/fake_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../scalar_pair_state.hpp"
#include "affine_function.hpp"
#include "channel_grids.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

struct PerTensorName {
  static constexpr const char* value = "FakeQuantizePerTensorAffineBackward";
};

}  // namespace

template <class T>
Tensor<T> fake_quantize_per_tensor_affine(const Tensor<T>& x, double scale, std::int64_t zero_point,
                                          std::int64_t quant_min, std::int64_t quant_max) {
  const char* op = "fake_quantize_per_tensor_affine";
  require_defined(x, op, "the input tensor");
  XGRAD_CHECK(quant_min <= quant_max, ValueError, op, ": quant_min (", quant_min,
              ") must be <= quant_max (", quant_max, ")");
  XGRAD_CHECK(zero_point >= quant_min && zero_point <= quant_max, ValueError, op, ": zero_point ",
              zero_point, " must lie in [quant_min, quant_max] = [", quant_min, ", ", quant_max,
              "]");
  const T sc = T(scale);
  const T inv = T(1) / sc;
  XGRAD_CHECK(sc > T(0) && std::isfinite(sc) && std::isfinite(inv), ValueError, op,
              ": scale must be finite and > 0 (with a finite inverse) in the tensor's type, got ",
              scale);
  // One grid over x seen as a single channel: the per-channel kernel runs the
  // per-tensor one on the whole of x.
  const std::vector<detail::AffineGrid<T>> grid{
      {sc, inv, T(zero_point), T(quant_min), T(quant_max)}};
  return detail::AffineFakeQuantizeFn<PerTensorName>::apply(x, grid,
                                                            detail::ChannelLayout{1, 1, x.numel()});
}

template <class T>
FakeQuantize<T>::FakeQuantize(QuantDtype dtype, QScheme qscheme,
                              std::optional<std::int64_t> quant_min,
                              std::optional<std::int64_t> quant_max)
    : UniformFakeQuantizeBase<T, MinMaxObserver<T>>(
          "FakeQuantize",
          std::make_shared<MinMaxObserver<T>>(dtype, qscheme, quant_min, quant_max)) {}

template <class T>
UniformQParams<T> FakeQuantize<T>::qparams() const {
  const char* op = "FakeQuantize.qparams";
  XGRAD_CHECK(this->has_qparams(), StateError, op,
              ": there are no qparams (scale / zero_point) yet: enable the observer and "
              "run forward on data, or load a state dict");
  XGRAD_CHECK(this->scale_.numel() == 1 && this->zero_point_.numel() == 1, ShapeError, op,
              ": scale and zero_point must hold one value each, got shapes ", this->scale_.shape(),
              " and ", this->zero_point_.shape());
  const T zp = this->zero_point_.data().data()[0];
  XGRAD_CHECK(std::nearbyint(zp) == zp && zp >= T(this->quant_min()) && zp <= T(this->quant_max()),
              ValueError, op, ": zero_point must be an integer in [quant_min, quant_max] = [",
              this->quant_min(), ", ", this->quant_max(), "], got ", zp);
  return {this->scale_.data().data()[0], static_cast<std::int64_t>(zp)};
}

template <class T>
Tensor<T> FakeQuantize<T>::forward(const Tensor<T>& x) {
  require_defined(x, "FakeQuantize.forward", "the input tensor");
  if (this->observer_enabled()) {
    // A range whose scale overflows is refused by calculate_qparams after it
    // was observed: the transaction puts the old extremes back.
    const UniformQParams<T> qp = this->activation_post_process->observe_and_calculate(x.detach());
    this->scale_.mutable_data() = xt::xarray<T>({qp.scale});
    this->zero_point_.mutable_data() = xt::xarray<T>({T(qp.zero_point)});
  }
  if (!this->fake_quant_enabled()) return x;
  const auto [sc, zp] = qparams();
  return fake_quantize_per_tensor_affine(x, double(sc), zp, this->quant_min(), this->quant_max());
}

template <class T>
void FakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  this->check_toggles(state);
  const char* op = "FakeQuantize::load_state_dict";
  const std::string where = std::string(op) + ": ";
  if (!detail::holds_scalar_pair<T>(state, where, "scale", "zero_point")) return;  // no qparams yet
  detail::require_scale(state["scale"].data()[0], op, state.key("scale"));
  const T z = state["zero_point"].data()[0];
  XGRAD_CHECK(std::nearbyint(z) == z && z >= T(this->quant_min()) && z <= T(this->quant_max()),
              ValueError, where, state.key("zero_point"), " must be an integer in [",
              this->quant_min(), ", ", this->quant_max(), "], got ", z);
}

XGRAD_INSTANTIATE_CLASS(FakeQuantize);
template Tensor<float> fake_quantize_per_tensor_affine(const Tensor<float>&, double, std::int64_t,
                                                       std::int64_t, std::int64_t);
template Tensor<double> fake_quantize_per_tensor_affine(const Tensor<double>&, double, std::int64_t,
                                                        std::int64_t, std::int64_t);

}  // namespace xgrad::quant
