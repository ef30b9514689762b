// Per-channel uniform fake quantization for weights, as PyTorch has it:
// fake_quantize_per_channel_affine (torch.fake_quantize_per_channel_affine) and
// PerChannelFakeQuantize (PyTorch's FakeQuantize built with
// observer=PerChannelMinMaxObserver, qscheme per_channel_*).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/fake_quantize/uniform_fake_quantize_base.hpp"
#include "xgrad/quant/observers/per_channel_observer.hpp"

namespace xgrad::quant {

// Channel c (index c on `axis`) is fake-quantized with scale[c] and
// zero_point[c] exactly as fake_quantize_per_tensor_affine does it (PyTorch's
// CPU formula, bit for bit for float); the gradient passes where the unclamped
// q lies in [quant_min, quant_max], none to scale / zero_point
// ("FakeQuantizePerChannelAffineBackward"). NaN gives NaN with zero gradient.
// Errors: ShapeError when axis is out of range or scale / zero_point are not
// 1-D with x.shape[axis] entries; ValueError unless quant_min <= quant_max,
// every scale is finite and > 0 (with a finite inverse) and every zero_point is
// an integer in [quant_min, quant_max].
template <class T>
Tensor<T> fake_quantize_per_channel_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                           const Tensor<T>& zero_point, std::ptrdiff_t axis,
                                           std::int64_t quant_min, std::int64_t quant_max);

// Observer + per-channel fake quantize. Buffers (state dict order):
// fake_quant_enabled, observer_enabled (FakeQuantizeBase), scale and
// zero_point ({0} until computed or loaded, then {C}); child
// activation_post_process (the PerChannelMinMaxObserver;
// uniform_fake_quantize_base.hpp). forward: observer on
// -> observe x and recompute the qparams (a failure restores the observer);
// fake quant on -> fake_quantize_per_channel_affine with the stored qparams
// (StateError if there are none); else x itself.
template <class T = float>
class PerChannelFakeQuantize : public UniformFakeQuantizeBase<T, PerChannelMinMaxObserver<T>> {
 public:
  explicit PerChannelFakeQuantize(std::ptrdiff_t ch_axis = 0, QuantDtype dtype = QuantDtype::qint8,
                                  QScheme qscheme = QScheme::per_channel_symmetric,
                                  std::optional<std::int64_t> quant_min = std::nullopt,
                                  std::optional<std::int64_t> quant_max = std::nullopt);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> scale() const { return this->scale_; }
  Tensor<T> zero_point() const { return this->zero_point_; }

 protected:
  // load_state_dict: ValueError naming the key unless the toggles are 0 or 1,
  // scale and zero_point are 1-D of one size (both empty: no qparams yet),
  // every scale is finite and > 0 (with a finite inverse) and every zero point
  // an integer in [quant_min, quant_max].
  void check_state(const typename Module<T>::StateCandidate& state) const override;
};

XGRAD_EXTERN_TEMPLATE_CLASS(PerChannelFakeQuantize);

}  // namespace xgrad::quant
