// MinMaxObserver: PyTorch's observer of the same name, the uniform (affine)
// baseline's: the running global min and max of everything observed, and
// scale / zero_point from them (uniform_qparams.hpp).
//
// For T = float, scale and zero_point are computed exactly as PyTorch's
// MinMaxObserver._calculate_qparams computes them (float32 arithmetic,
// round-half-even). Deliberate differences, each tested:
// - calculate_qparams before anything was observed throws StateError
//   (PyTorch warns and returns scale 1, zero_point 0);
// - observing NaN or an infinity throws ValueError and leaves the observer
//   unchanged (PyTorch silently poisons min/max);
// - reduce_range is not offered.
// Subclasses that observe differently: MovingAverageMinMaxObserver (PyTorch's
// default for activations) and PercentileObserver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/observers/observer_base.hpp"
#include "xgrad/quant/observers/qscheme.hpp"
#include "xgrad/quant/observers/uniform_qparams.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// quant_min / quant_max default to the dtype's range. A custom range must be
// given as both bounds, lie within the dtype's range, contain 0 and have
// quant_min < quant_max (ValueError otherwise, as PyTorch's assertions); a
// per-channel qscheme is a ValueError (PerChannelMinMaxObserver has those).
template <class T = float>
class MinMaxObserver : public ObserverBase<T, UniformQParams<T>> {
 public:
  explicit MinMaxObserver(QuantDtype dtype = QuantDtype::quint8,
                          QScheme qscheme = QScheme::per_tensor_affine,
                          std::optional<std::int64_t> quant_min = std::nullopt,
                          std::optional<std::int64_t> quant_max = std::nullopt);

  // Updates min_val / max_val with x's extremes and returns x itself. An empty
  // x changes nothing; NaN or an infinity throws ValueError (naming the first
  // bad position) and changes nothing.
  Tensor<T> forward(const Tensor<T>& x) override;

  // StateError if nothing was observed (min_val = +inf and max_val = -inf, as
  // PyTorch initializes them); ValueError if min_val > max_val or either is NaN
  // (a user may set the buffers directly).
  UniformQParams<T> calculate_qparams() const override;

  // Back to the unobserved state (+inf / -inf).
  void reset_min_max_vals();

  // Buffers "min_val" / "max_val" (0-d, +inf / -inf until observed), as
  // handles aliasing the stored ones. The setters take any value but NaN
  // (ValueError), like APoTObserver's.
  Tensor<T> min_val() const { return min_val_; }
  Tensor<T> max_val() const { return max_val_; }
  void set_min_val(T v);
  void set_max_val(T v);

  QuantDtype dtype() const { return dtype_; }
  QScheme qscheme() const { return qscheme_; }
  std::int64_t quant_min() const { return quant_min_; }
  std::int64_t quant_max() const { return quant_max_; }
  bool has_customized_qrange() const { return customized_; }

 protected:
  // For subclasses that observe differently (MovingAverageMinMaxObserver).
  MinMaxObserver(std::string type_name, QuantDtype dtype, QScheme qscheme,
                 std::optional<std::int64_t> quant_min, std::optional<std::int64_t> quant_max);
  // load_state_dict refuses (ValueError) min_val / max_val that forward could
  // not have produced: NaN, infinite (other than the unobserved inf / -inf) or
  // min_val > max_val.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  QuantDtype dtype_;
  QScheme qscheme_;
  std::int64_t quant_min_;
  std::int64_t quant_max_;
  bool customized_;
  Tensor<T> min_val_, max_val_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(MinMaxObserver);

}  // namespace xgrad::quant
