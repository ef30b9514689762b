// PyTorch's uniform (affine) fake quantization: FakeQuantize (observer plus
// fake quantize, a Module) and fake_quantize_per_tensor_affine (the op). APoT
// is compared against it (benchmarks, QAT experiment, the levels plot).
//
// For T = float the fake quantize matches PyTorch's CPU kernel bit for bit on
// finite inputs. Deliberate differences, each tested:
// - FakeQuantize refuses to fake-quantize before it has qparams (StateError;
//   PyTorch silently uses scale 1, zero_point 0), like APoTFakeQuantize;
// - fake_quantize_per_tensor_affine propagates NaN with a zero gradient and
//   clips infinities (PyTorch maps NaN to quant_min and infinities through an
//   undefined float-to-integer conversion);
// - FakeQuantize observes with MinMaxObserver, whose own differences apply
//   (min_max_observer.hpp); PyTorch's default observer is
//   MovingAverageMinMaxObserver (moving_average_observer.hpp; LearnableFakeQuantize
//   observes with it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/fake_quantize/uniform_fake_quantize_base.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// Observer plus per-tensor affine fake quantization, PyTorch's FakeQuantize.
// Buffers (state dict order): fake_quant_enabled [1], observer_enabled [1]
// (1 or 0; the toggles of FakeQuantizeBase), scale and zero_point (empty until
// computed or loaded, then [1]); the observer is the child
// `activation_post_process` (uniform_fake_quantize_base.hpp).
template <class T = float>
class FakeQuantize : public UniformFakeQuantizeBase<T, MinMaxObserver<T>> {
 public:
  explicit FakeQuantize(QuantDtype dtype = QuantDtype::quint8,
                        QScheme qscheme = QScheme::per_tensor_affine,
                        std::optional<std::int64_t> quant_min = std::nullopt,
                        std::optional<std::int64_t> quant_max = std::nullopt);

  // Observer on: observe x and recompute scale / zero_point (if either step
  // throws, e.g. a range whose scale overflows, nothing changes). Fake quant on:
  // fake_quantize_per_tensor_affine(x, scale, zero_point, quant_min,
  // quant_max) (StateError if there are no qparams yet). Otherwise x itself.
  Tensor<T> forward(const Tensor<T>& x) override;

  // The stored scale / zero_point; StateError when there are none yet.
  UniformQParams<T> qparams() const;

 protected:
  // load_state_dict refuses (ValueError) toggles other than 0 / 1 and a
  // scale / zero_point that qparams() would refuse.
  void check_state(const typename Module<T>::StateCandidate& state) const override;
};

// PyTorch's torch.fake_quantize_per_tensor_affine, differentiable
// ("FakeQuantizePerTensorAffineBackward"): q = nearbyint(x * (1 / scale)) +
// zero_point, out = (clamp(q, quant_min, quant_max) - zero_point) * scale; the
// gradient passes where quant_min <= q <= quant_max (clipped STE), none to the
// qparams. NaN gives NaN with zero gradient. ValueError unless scale is finite
// and > 0, quant_min <= quant_max and quant_min <= zero_point <= quant_max.
template <class T>
Tensor<T> fake_quantize_per_tensor_affine(const Tensor<T>& x, double scale, std::int64_t zero_point,
                                          std::int64_t quant_min, std::int64_t quant_max);

XGRAD_EXTERN_TEMPLATE_CLASS(FakeQuantize);

}  // namespace xgrad::quant
