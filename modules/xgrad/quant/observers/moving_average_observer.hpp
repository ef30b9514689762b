// MovingAverageMinMaxObserver: PyTorch's observer of the same name, the
// default for activations in QAT. The first non-empty batch sets min_val /
// max_val to its extremes; every later batch moves them by averaging_constant:
//   min_val += averaging_constant * (batch_min - min_val)   (max_val alike).
// qparams, buffers, quant range, errors and the deliberate differences from
// PyTorch are MinMaxObserver's (min_max_observer.hpp): NaN or an infinity in a batch is
// a ValueError and changes nothing. ValueError unless 0 < averaging_constant <= 1.
#pragma once

#include <cstdint>
#include <optional>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/observers/min_max_observer.hpp"

namespace xgrad::quant {

template <class T = float>
class MovingAverageMinMaxObserver : public MinMaxObserver<T> {
 public:
  explicit MovingAverageMinMaxObserver(double averaging_constant = 0.01,
                                       QuantDtype dtype = QuantDtype::quint8,
                                       QScheme qscheme = QScheme::per_tensor_affine,
                                       std::optional<std::int64_t> quant_min = std::nullopt,
                                       std::optional<std::int64_t> quant_max = std::nullopt);

  Tensor<T> forward(const Tensor<T>& x) override;

  double averaging_constant() const { return averaging_constant_; }

 private:
  double averaging_constant_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(MovingAverageMinMaxObserver);

}  // namespace xgrad::quant
