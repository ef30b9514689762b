// APoTObserver: records the running global min and max of what it sees and
// turns them into APoT qparams (alpha, gamma, quantization_levels,
// level_indices), like PyTorch's torch.ao.quantization.experimental.observer.
//
//   APoTObserver<float> obs(4, 2);
//   obs.forward(x);
//   auto [alpha, gamma, quantization_levels, level_indices] = obs.calculate_qparams(false);
//
// One of the observers of ObserverBase (observer_base.hpp): calculate_qparams()
// without an argument uses the constructor's scheme (unsigned by default, the
// set PyTorch's APoTFakeQuantize computes).
//
// alpha = max(-min_val, max_val); the level computation is apot_level_set
// (exact to PyTorch in float32; see levels/apot_codebook.hpp). For T = double the levels
// are the same float32 values stored as double, alpha and gamma are double.
//
// Differences from PyTorch:
// - b and k are validated (ValueError), see levels/apot_codebook.hpp.
// - calculate_qparams before anything was observed (or set) is a StateError;
//   min_val > max_val is a ValueError.
// - forward ignores non-finite values (NaN, +-inf): they must not turn alpha
//   into NaN/inf; fake quantize clips infinities and propagates NaN anyway.
// - min_val / max_val are buffers set with set_min_val / set_max_val (C++ cannot
//   rebind a registered buffer by assignment as Python's `obs.min_val = t` does).
#pragma once

#include <cstdint>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/observers/observer_base.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// The qparams of an APoT quantizer; four members so that structured bindings
// `auto [alpha, gamma, quantization_levels, level_indices] = ...` work.
template <class T>
struct APoTQParams {
  T alpha = 0;
  T gamma = 0;
  Tensor<T> quantization_levels;           // 1-D, ascending
  xt::xarray<std::int64_t> level_indices;  // 1-D, index (code) of each level
};

template <class T = float>
class APoTObserver : public ObserverBase<T, APoTQParams<T>> {
 public:
  // ValueError unless b >= 1, k >= 1. b % k == 0 (k | b-1 for sign_magnitude)
  // is checked by calculate_qparams, per scheme.
  APoTObserver(int b, int k, LevelScheme scheme = LevelScheme::unsigned_levels);

  // Updates the running min/max over all finite elements seen; returns `x`
  // itself (same handle). An empty x (or one without finite values) changes
  // nothing. ValueError for an undefined x.
  Tensor<T> forward(const Tensor<T>& x) override;

  // The constructor's scheme.
  APoTQParams<T> calculate_qparams() const override;
  // signed = false: LevelScheme::unsigned_levels; true: signed_per_term.
  APoTQParams<T> calculate_qparams(bool signed_) const;
  APoTQParams<T> calculate_qparams(LevelScheme scheme) const;

  // Buffers "min_val" / "max_val": shape {0} until observed, then shape {1}.
  Tensor<T> min_val() const { return min_val_; }
  Tensor<T> max_val() const { return max_val_; }
  bool has_observed() const;
  // Set from a one-element tensor (any shape, e.g. tensor<float>({0.0f})) or a
  // value; ValueError for NaN or a tensor with numel != 1.
  void set_min_val(const Tensor<T>& v);
  void set_max_val(const Tensor<T>& v);
  void set_min_val(T v);
  void set_max_val(T v);

  int b() const { return b_; }
  int k() const { return k_; }
  LevelScheme scheme() const { return scheme_; }

 protected:
  // load_state_dict refuses (ValueError) min_val / max_val that forward could
  // not have produced: not both empty or both [1], not finite, min > max.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  int b_, k_;
  LevelScheme scheme_;
  Tensor<T> min_val_, max_val_;
};

extern template struct APoTQParams<float>;
extern template struct APoTQParams<double>;
XGRAD_EXTERN_TEMPLATE_CLASS(APoTObserver);

}  // namespace xgrad::quant
