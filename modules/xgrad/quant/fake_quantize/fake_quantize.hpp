// The uniform (affine) quantization baseline, as PyTorch has it:
// MinMaxObserver, FakeQuantize and fake_quantize_per_tensor_affine. APoT is
// compared against it (benchmarks, QAT experiment, the levels plot).
//
// For T = float, scale and zero_point are computed exactly as PyTorch's
// MinMaxObserver._calculate_qparams computes them (float32 arithmetic,
// round-half-even), and the fake quantize matches PyTorch's CPU kernel bit for
// bit on finite inputs. Deliberate differences, each tested:
// - calculate_qparams before anything was observed throws StateError
//   (PyTorch warns and returns scale 1, zero_point 0);
// - observing NaN or an infinity throws ValueError and leaves the observer
//   unchanged (PyTorch silently poisons min/max);
// - FakeQuantize refuses to fake-quantize before it has qparams (StateError;
//   PyTorch silently uses scale 1, zero_point 0), like APoTFakeQuantize;
// - fake_quantize_per_tensor_affine propagates NaN with a zero gradient and
//   clips infinities (PyTorch maps NaN to quant_min and infinities through an
//   undefined float-to-integer conversion);
// - FakeQuantize observes with MinMaxObserver (PyTorch's default observer is
//   the moving-average variant, which xgrad does not have);
// - reduce_range is not offered.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "xgrad/module.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// PyTorch's torch.quint8 (default range 0..255) and torch.qint8 (-128..127).
enum class QuantDtype { quint8, qint8 };
// PyTorch's torch.per_tensor_affine, per_tensor_symmetric, per_channel_affine
// and per_channel_symmetric.
enum class QScheme {
  per_tensor_affine,
  per_tensor_symmetric,
  per_channel_affine,
  per_channel_symmetric
};

const char* to_string(QuantDtype dtype);
const char* to_string(QScheme qscheme);
bool is_symmetric(QScheme qscheme);
bool is_per_channel(QScheme qscheme);

// What calculate_qparams returns; usable with structured bindings:
// auto [scale, zero_point] = observer.calculate_qparams();
template <class T>
struct UniformQParams {
  T scale;
  std::int64_t zero_point;
};

// An observer's integer range: the dtype's, or a custom one (customized).
struct QuantRange {
  std::int64_t quant_min, quant_max;
  bool customized;
};

// The dtype's range unless quant_min / quant_max are given; a custom range must
// be given as both bounds, lie within the dtype's range, contain 0 and have
// quant_min < quant_max (ValueError naming op otherwise, as PyTorch's assertions).
QuantRange resolve_quant_range(QuantDtype dtype, std::optional<std::int64_t> quant_min,
                               std::optional<std::int64_t> quant_max, const char* op);

// PyTorch's ObserverBase._calculate_qparams for one (min, max) pair, in T's
// arithmetic (bit for bit with PyTorch for float): symmetric schemes use
// max(-min_neg, max_pos) / ((quant_max - quant_min) / 2) and zero point 0 (qint8)
// or 128 / the custom range's midpoint (quint8); affine schemes (max_pos -
// min_neg) / (quant_max - quant_min) and quant_min - round(min_neg / scale),
// clamped; the scale is at least float32's eps. ValueError (naming op) if min
// > max, either is NaN, or the scale overflows.
template <class T>
UniformQParams<T> uniform_qparams(T min_val, T max_val, QuantDtype dtype, QScheme qscheme,
                                  const QuantRange& range, const char* op);

// Running global min and max of everything observed; qparams from them.
// quant_min / quant_max default to the dtype's range. A custom range must be
// given as both bounds, lie within the dtype's range, contain 0 and have
// quant_min < quant_max (ValueError otherwise, as PyTorch's assertions); a
// per-channel qscheme is a ValueError (PerChannelMinMaxObserver has those).
template <class T = float>
class MinMaxObserver : public Module<T> {
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
  UniformQParams<T> calculate_qparams() const;

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

// Observer plus per-tensor affine fake quantization, PyTorch's FakeQuantize.
// Buffers (state dict order): fake_quant_enabled [1], observer_enabled [1]
// (1 or 0; the toggles of FakeQuantizeBase), scale and zero_point (empty until
// computed or loaded, then [1]); the observer is the child
// `activation_post_process`.
template <class T = float>
class FakeQuantize : public FakeQuantizeBase<T> {
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

  UniformQParams<T> calculate_qparams() const {
    return activation_post_process->calculate_qparams();
  }

  // The stored scale / zero_point; StateError when there are none yet.
  UniformQParams<T> qparams() const;
  // True once scale / zero_point hold values (computed or loaded).
  bool has_qparams() const;

  std::int64_t quant_min() const { return activation_post_process->quant_min(); }
  std::int64_t quant_max() const { return activation_post_process->quant_max(); }

  std::shared_ptr<MinMaxObserver<T>> activation_post_process;

 protected:
  // load_state_dict refuses (ValueError) toggles other than 0 / 1 and a
  // scale / zero_point that qparams() would refuse.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  Tensor<T> scale_, zero_point_;
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

extern template class MinMaxObserver<float>;
extern template class MinMaxObserver<double>;
extern template class FakeQuantize<float>;
extern template class FakeQuantize<double>;

}  // namespace xgrad::quant
