// APoTFakeQuantize: observer + APoT fake quantization as a Module, like
// PyTorch's torch.ao.quantization.experimental.fake_quantize.APoTFakeQuantize.
//
//   auto fq = std::make_shared<APoTFakeQuantize<float>>(4, 2);   // unsigned
//   Tensor<float> y = fq->forward(x);        // observe, recompute qparams, fake-quantize
//
// State (all saved/loaded with the state dict):
//   buffers "fake_quant_enabled", "observer_enabled" (shape {1}, 1 or 0; the
//   toggles of FakeQuantizeBase),
//   "alpha", "gamma" (shape {1}, or {0} while no qparams),
//   "quantization_levels", "level_indices" (1-D; indices stored as T, exact:
//   every index is < kMaxAPoTLevels), registered with fixed_shape = false;
//   child "activation_post_process" (the APoTObserver, min_val/max_val).
//
// forward(x[, signed]): if the observer is enabled, observe x and recompute
// and store the qparams; if fake quant is enabled, require qparams (StateError
// "qparams are missing" otherwise) and return fake_quantize_function(x, ...);
// else return x unchanged (the same handle). When the qparams cannot be
// computed (ValueError: b, k unsuited to the scheme, too many levels, alpha
// beyond float32), the observer's min/max are restored before rethrowing.
//
// Differences from PyTorch: forward honours the signed flag (and a constructor
// default scheme, including the paper's sign_magnitude) where PyTorch
// hard-codes unsigned; the qparams are module state; missing qparams raise
// StateError instead of an assertion.
#pragma once

#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"

namespace xgrad::quant {

template <class T = float>
class APoTFakeQuantize : public FakeQuantizeBase<T> {
 public:
  // ValueError on invalid b, k (see levels/apot_codebook.hpp).
  APoTFakeQuantize(int b, int k, bool signed_ = false);
  APoTFakeQuantize(int b, int k, LevelScheme scheme);

  std::shared_ptr<APoTObserver<T>> activation_post_process;

  // Pass-through to the observer (does not change the stored qparams).
  APoTQParams<T> calculate_qparams(bool signed_) const;
  APoTQParams<T> calculate_qparams(LevelScheme scheme) const;

  // Uses the constructor's scheme.
  Tensor<T> forward(const Tensor<T>& x) override;
  // signed = false: unsigned levels; true: PyTorch's per-term signed levels.
  Tensor<T> forward(const Tensor<T>& x, bool signed_);
  Tensor<T> forward(const Tensor<T>& x, LevelScheme scheme);

  // The stored qparams; StateError when there are none yet.
  APoTQParams<T> qparams() const;
  bool has_qparams() const override;
  LevelScheme scheme() const { return scheme_; }

 protected:
  // load_state_dict refuses (ValueError, nothing written) toggles other than
  // 0 / 1 and qparams a forward would refuse: alpha and gamma not of shape
  // [1], levels empty, unsorted or not finite, indices not distinct codes
  // (see apot/quantizer.hpp). All four empty (no qparams yet) is accepted.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  LevelScheme scheme_;
  Tensor<T> alpha_, gamma_, levels_, indices_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(APoTFakeQuantize);

}  // namespace xgrad::quant
