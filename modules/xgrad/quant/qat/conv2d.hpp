// qat::Conv2d<T>: nn::Conv2d with fake-quantized weight and input (PyTorch's
// torch.ao.nn.qat.Conv2d, plus an input quantizer and the paper's weight
// normalization): forward(x) = conv2d(fake_quantized_input(x),
// fake_quantized_weight(), bias, stride, padding, dilation, groups). State and
// toggles: fake_quantized_layer.hpp.
#pragma once

#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"

namespace xgrad::quant::qat {

template <class T = float>
class Conv2d : public FakeQuantizedLayer<T> {
 public:
  // Weights drawn as nn::Conv2d(options, gen) draws them; errors as
  // nn::Conv2d and FakeQuantizedLayer.
  Conv2d(const nn::Conv2dOptions& options, QConfig<T> qconfig,
         Generator& gen = default_generator());

  // Keeps the float layer's weight and bias tensors themselves (no copy).
  static std::shared_ptr<Conv2d> from_float(const nn::Conv2d<T>& mod, QConfig<T> qconfig);
  // An nn::Conv2d with the same options holding copies of weight and bias.
  std::shared_ptr<nn::Conv2d<T>> to_float() const;

  // [N, in, H, W] -> [N, out, OH, OW]; conv2d's errors.
  Tensor<T> forward(const Tensor<T>& input) override;

  const nn::Conv2dOptions& options() const { return options_; }

 private:
  Conv2d(const nn::Conv2d<T>& conv, QConfig<T> qconfig);

  nn::Conv2dOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Conv2d);

}  // namespace xgrad::quant::qat
