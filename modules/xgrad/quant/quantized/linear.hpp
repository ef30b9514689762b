// quantized::Linear<T>: a converted qat::Linear (see quantized_layer.hpp):
// forward(x) = linear(quantized_input(x), dequantized_weight(), bias), equal
// bit for bit to the QAT layer's eval forward with its observers off.
#pragma once

#include <cstddef>
#include <memory>

#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant::quantized {

template <class T = float>
class Linear : public QuantizedLayer<T> {
 public:
  // Errors as QuantizedLayer's constructors.
  static std::shared_ptr<Linear> from_qat(qat::Linear<T>& layer);
  Linear(std::size_t in_features, std::size_t out_features, bool bias, const QConfig<T>& qconfig);

  // [N, in] -> [N, out]. ValueError on an undefined input.
  Tensor<T> forward(const Tensor<T>& input) override;

 private:
  explicit Linear(qat::Linear<T>& layer);
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace xgrad::quant::quantized
