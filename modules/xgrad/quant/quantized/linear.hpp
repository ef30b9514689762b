// quantized::Linear<T>: the linear member of the integer-weight family (see
// quantized_layer.hpp): forward(x) = linear(quantized_input(x),
// dequantized_weight(), bias), through the lookup-table GEMV (small batches)
// or GEMM kernel where the layer has one (within the family's bound of
// forward_dequantized, which equals the QAT layer's eval forward with its
// observers off bit for bit). A converted qat::Linear, or LinearAPoT.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant::quantized {

template <class T = float>
class Linear : public QuantizedLayer<T> {
 public:
  // Errors as QuantizedLayer's constructors.
  static std::shared_ptr<Linear> from_qat(qat::Linear<T>& layer);
  Linear(std::size_t in_features, std::size_t out_features, bool bias, const QConfig<T>& qconfig);

  // [..., in] -> [..., out]. ValueError on an undefined input, ShapeError
  // from linear for other shapes.
  Tensor<T> forward(const Tensor<T>& input) override;
  Tensor<T> forward_dequantized(const Tensor<T>& input) override;

  // The weight's [out, in].
  std::size_t in_features() const;
  std::size_t out_features() const;

 protected:
  // For a member that stores its weight itself (LinearAPoT).
  Linear(std::string type_name, typename QuantizedLayer<T>::TableKeys keys);

 private:
  explicit Linear(qat::Linear<T>& layer);
};

XGRAD_EXTERN_TEMPLATE_CLASS(Linear);

}  // namespace xgrad::quant::quantized
