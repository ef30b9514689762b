// qat::Linear<T>: nn::Linear with fake-quantized weight and input (PyTorch's
// torch.ao.nn.qat.Linear, plus an input quantizer and the paper's weight
// normalization): forward(x) = linear(fake_quantized_input(x),
// fake_quantized_weight(), bias). State and toggles: fake_quantized_layer.hpp.
//
//   auto q = quant::qat::Linear<float>::from_float(fc, quant::apot_rcf_qconfig<float>(4));
//   auto back = q->to_float();   // an nn::Linear with copies of the float weights
#pragma once

#include <cstddef>
#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"

namespace xgrad::quant::qat {

template <class T = float>
class Linear : public FakeQuantizedLayer<T> {
 public:
  // Weights drawn as nn::Linear(in, out, bias, gen) draws them. ValueError as
  // nn::Linear and FakeQuantizedLayer.
  Linear(std::size_t in_features, std::size_t out_features, bool bias, QConfig<T> qconfig,
         Generator& gen = default_generator());

  // Keeps the float layer's weight and bias tensors themselves (no copy).
  static std::shared_ptr<Linear> from_float(const nn::Linear<T>& mod, QConfig<T> qconfig);
  // An nn::Linear holding copies of the float weight and bias.
  std::shared_ptr<nn::Linear<T>> to_float() const;

  // [N, in] -> [N, out]. ValueError on an undefined input.
  Tensor<T> forward(const Tensor<T>& input) override;

  std::size_t in_features() const { return this->weight.shape()[1]; }
  std::size_t out_features() const { return this->weight.shape()[0]; }

 private:
  Linear(const nn::Linear<T>& fc, QConfig<T> qconfig);
  Linear(Tensor<T> weight, Tensor<T> bias, QConfig<T> qconfig);
};

XGRAD_EXTERN_TEMPLATE_CLASS(Linear);

}  // namespace xgrad::quant::qat
