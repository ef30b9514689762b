// quantized::Conv2d<T>: a converted qat::Conv2d (see quantized_layer.hpp):
// forward(x) = conv2d(quantized_input(x), dequantized_weight(), bias, stride,
// padding, dilation, groups), where the layer has a lookup-table kernel as
// im2col then the kernel per sample and group (within the family's bound of
// forward_dequantized, which equals the QAT layer's eval forward with its
// observers off bit for bit).
#pragma once

#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant::quantized {

template <class T = float>
class Conv2d : public QuantizedLayer<T> {
 public:
  // Errors as QuantizedLayer's constructors (and nn::Conv2d's for options).
  static std::shared_ptr<Conv2d> from_qat(qat::Conv2d<T>& layer);
  Conv2d(const nn::Conv2dOptions& options, const QConfig<T>& qconfig);

  // conv2d's errors.
  Tensor<T> forward(const Tensor<T>& input) override;
  Tensor<T> forward_dequantized(const Tensor<T>& input) override;

  const nn::Conv2dOptions& options() const { return options_; }

 protected:
  bool integer_geometry() const override;

 private:
  explicit Conv2d(qat::Conv2d<T>& layer);

  nn::Conv2dOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Conv2d);

}  // namespace xgrad::quant::quantized
