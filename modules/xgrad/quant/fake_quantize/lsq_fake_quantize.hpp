// LSQ: uniform fake quantization with a learnable scale and zero point, named
// and computed as PyTorch's torch._fake_quantize_learnable_per_tensor_affine /
// _per_channel_affine and torch.ao.quantization._LearnableFakeQuantize. The
// uniform baseline on equal footing with RCF (rcf_fake_quantize.hpp).
//
// Forward (both ops): PyTorch's fake_quantize_per_*_affine with the rounded
// zero point: q = zp + nearbyint(x * (1 / scale)), out = (clamp(q, quant_min,
// quant_max) - zp) * scale. Backward (PyTorch's CPU kernels, per element, in T):
//   xq = nearbyint(zp' + x / scale)   [x * inv_scale]
//   inside quant_min <= xq <= quant_max:
//     dx = dy, dscale = dy * (xfq - x) * inv_scale * grad_factor, dzp = 0,
//     xfq = (xq - zp') * scale;
//   outside: dx = 0, dscale = dy * (quant_min or quant_max - zp') * grad_factor,
//     dzp = -dy * scale * grad_factor;
// (xfq - x rounds the product first, as PyTorch's scalar build; its AVX2 /
// AVX-512 builds fuse (xq - zp') * scale - x into one FMA, so an inside dscale
// term may differ from theirs by up to half an ulp of xfq, docs/apot-training.md.)
// dscale / dzp summed over the tensor (per tensor) or over all but `axis`
// (per channel), in T over blocks of 512 elements and the blocks in double
// (PyTorch sums float tensors in its own order: equal up to summation rounding). Rounded zero
// points, as PyTorch:
//   per tensor: forward nearbyint(zp) clamped; backward trunc(clamp(zp + 0.5))
//   per channel: nearbyint(zp) (half to even, torch.round) clamped, both passes.
// Differences from PyTorch: NaN x gives NaN and no gradient anywhere; errors
// are typed: ValueError unless every scale is finite and > 0 (with a finite
// inverse), zero points are not NaN, quant_min <= quant_max and grad_factor is
// finite; ShapeError unless per-tensor scale / zero_point hold one value, or
// per-channel ones are 1-D with x.shape[axis] entries, or axis is out of range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/fake_quantize/grad_scale.hpp"
#include "xgrad/quant/observers/clip_observers.hpp"
#include "xgrad/quant/observers/moving_average_observer.hpp"
#include "xgrad/quant/observers/per_channel_observer.hpp"
#include "xgrad/quant/observers/qscheme.hpp"

namespace xgrad::quant {

template <class T>
Tensor<T> fake_quantize_learnable_per_tensor_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                                    const Tensor<T>& zero_point,
                                                    std::int64_t quant_min, std::int64_t quant_max,
                                                    double grad_factor = 1.0);

template <class T>
Tensor<T> fake_quantize_learnable_per_channel_affine(const Tensor<T>& x, const Tensor<T>& scale,
                                                     const Tensor<T>& zero_point,
                                                     std::ptrdiff_t axis, std::int64_t quant_min,
                                                     std::int64_t quant_max,
                                                     double grad_factor = 1.0);

// _LearnableFakeQuantize's constructor arguments (PyTorch's names); the
// observer is MovingAverageMinMaxObserver (per tensor) or
// PerChannelMinMaxObserver (per channel, channel_len > 0) with these settings,
// or, with step_init set (not PyTorch's; per tensor only), the ClipObserver it
// names (make_clip_observer over the normalized grid j / quant_max): the step
// is its clipping value / quant_max (LSQ's own initial step 2 mean|x| /
// sqrt(quant_max) for AlphaInit::lsq_clip_point) and the zero point stays 0,
// not learned. step_init needs quant_min = 0 or -quant_max and quant_max + 1 a
// power of two (a b-bit unsigned or symmetric signed grid).
template <class T>
struct LearnableFakeQuantizeOptions {
  std::int64_t quant_min = 0, quant_max = 255;
  T scale = T(1), zero_point = T(0);  // initial values
  std::int64_t channel_len = -1;      // -1: per tensor
  bool use_grad_scaling = false;      // grad_factor = lsq_grad_scale(numel(x), quant_max)
  QuantDtype dtype = QuantDtype::quint8;
  QScheme qscheme = QScheme::per_tensor_affine;
  std::ptrdiff_t ch_axis = 0;
  double averaging_constant = 0.01;
  std::optional<AlphaInit> step_init = std::nullopt;  // see above; AlphaInit::fixed refused
  double percentile = 99.9;  // of |x|, for step_init = AlphaInit::percentile
};

// PyTorch's _LearnableFakeQuantize. Parameters "scale" and "zero_point" ({1}
// or {channel_len}); buffers fake_quant_enabled, observer_enabled
// (FakeQuantizeBase; PyTorch calls the latter static_enabled),
// "learning_enabled", "eps" (float32's epsilon); child activation_post_process.
// forward(x):
//   observer on: observe x, copy the observer's qparams into scale /
//     zero_point (ShapeError if a per-channel count differs from channel_len;
//     the observer is restored), with step_init: scale = max(clip / quant_max,
//     eps), zero point 0; else clamp scale to eps in place;
//   fake quant on: symmetric qschemes zero the zero point; then the learnable
//     op above with grad_factor; scale / zero_point get gradients only while
//     learning is enabled; else x itself.
// Difference from PyTorch: learning_enabled starts at 1, matching the
// parameters' requires_grad (PyTorch starts the flag at 0 while the parameters
// still learn), and the flag decides whether they get gradients.
template <class T = float>
class LearnableFakeQuantize : public FakeQuantizeBase<T> {
 public:
  // ValueError unless quant_min < quant_max, channel_len is -1 or > 0, the
  // initial scale is finite and > 0, quant_max > 0 when use_grad_scaling (the
  // gradient factor would be infinite), and the observer accepts the settings
  // (per-channel qschemes need channel_len > 0, per-tensor ones -1; step_init
  // as said above).
  explicit LearnableFakeQuantize(LearnableFakeQuantizeOptions<T> options = {});

  Tensor<T> forward(const Tensor<T>& x) override;

  // False until the observer has seen data (or its state was loaded): the
  // scale and zero point are still the initial ones, and convert() refuses
  // to quantize with them.
  bool has_qparams() const override;
  // Scale clamped to eps (in place, as PyTorch), zero points rounded and clamped.
  PerChannelQParams<T> calculate_qparams();

  // PyTorch's toggles: learning sets the flag and the parameters' requires_grad.
  void toggle_qparam_learning(bool enabled = true);
  bool learning_enabled() const;
  void enable_param_learning();      // learning on, fake quant on, observer off
  void enable_static_estimate();     // learning off, fake quant on, observer on
  void enable_static_observation();  // learning off, fake quant off, observer on

  Tensor<T> scale() const { return scale_; }
  Tensor<T> zero_point() const { return zero_point_; }
  const LearnableFakeQuantizeOptions<T>& options() const { return options_; }
  bool is_per_channel() const { return options_.channel_len > 0; }

  std::shared_ptr<Module<T>> activation_post_process;

 protected:
  // load_state_dict: ValueError naming the key unless the three toggles are 0
  // or 1, eps and every scale are finite and > 0 (a scale below eps loads:
  // forward raises it) and every zero point is finite.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  LearnableFakeQuantizeOptions<T> options_;
  std::shared_ptr<MovingAverageMinMaxObserver<T>> tensor_observer_;
  std::shared_ptr<PerChannelMinMaxObserver<T>> channel_observer_;
  std::shared_ptr<ClipObserver<T>> clip_observer_;
  Tensor<T> scale_, zero_point_, learning_enabled_, eps_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(LearnableFakeQuantize);

}  // namespace xgrad::quant
