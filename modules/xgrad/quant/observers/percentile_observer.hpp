// PercentileObserver: a calibration observer robust to outliers. Each batch
// contributes its lower and upper percentile (100 - percentile and percentile,
// linear interpolation between order statistics as numpy's and torch.quantile's
// default); min_val / max_val are the means of those over all observed batches
// (buffer "num_batches" counts them; an unobserved or reset range, min_val =
// inf and max_val = -inf, starts a new mean). qparams come from min_val / max_val as in
// MinMaxObserver (min_max_observer.hpp), whose buffers, range rules and errors apply.
// PyTorch has no percentile observer (its HistogramObserver minimizes an L2
// quantization error instead); TensorRT-style calibration uses percentiles.
// ValueError unless 50 < percentile <= 100; NaN or an infinity in a batch is a
// ValueError and changes nothing. percentile = 100 tracks the mean batch min/max.
#pragma once

#include <cstdint>
#include <optional>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"

namespace xgrad::quant {

template <class T = float>
class PercentileObserver : public MinMaxObserver<T> {
 public:
  explicit PercentileObserver(double percentile = 99.99, QuantDtype dtype = QuantDtype::quint8,
                              QScheme qscheme = QScheme::per_tensor_affine,
                              std::optional<std::int64_t> quant_min = std::nullopt,
                              std::optional<std::int64_t> quant_max = std::nullopt);

  Tensor<T> forward(const Tensor<T>& x) override;

  double percentile() const { return percentile_; }
  // Batches observed so far (the "num_batches" buffer).
  std::int64_t num_batches() const;

 private:
  double percentile_;
  Tensor<T> num_batches_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(PercentileObserver);

}  // namespace xgrad::quant
