// qat::FakeQuantizedLayer<T>: what qat::Linear and qat::Conv2d share (PyTorch's
// torch.ao.nn.qat modules): a float weight (and bias) trained as usual, and on
// every forward
//   input  -> input_fake_quant (when the QConfig has an activation factory)
//   weight -> [standardize] -> weight_fake_quant -> [* detached std]
// as the QConfig's weight_norm says (docs/apot-training.md, "Weight
// normalization": W' = (W - mean) / (std + eps), unbiased std, gradients through
// mean and std; the rescale multiplies by std(W) detached, as the reference run
// of docs/experiment.md).
//
// State, in state-dict order: parameters "weight", "bias" (the float layer's
// names, so a float checkpoint's entries land on them), buffer "qconfig" (the
// config's name as character codes), children "weight_fake_quant" and
// "input_fake_quant" (their flags and qparams). Loading a state dict whose
// "qconfig" differs is a ValueError and changes nothing (Module::
// check_state), even when the quantizers' keys and shapes happen to agree.
//
// The observer / fake-quant toggles of both quantizers are reachable through
// the members, or for a whole model with quant::enable_observer(model) etc.
// (fake_quantize_base.hpp). As libtorch's replace_module contract says, the
// member handles are not refreshed if a quantizer child is replaced by name.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "xgrad/module.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace xgrad::quant::qat {

template <class T = float>
class FakeQuantizedLayer : public Module<T> {
 public:
  // The weight as forward uses it (normalized, fake-quantized, rescaled).
  Tensor<T> fake_quantized_weight();
  // input_fake_quant(x), or x itself when there is no input quantizer.
  Tensor<T> fake_quantized_input(const Tensor<T>& x);

  const QConfig<T>& qconfig() const { return qconfig_; }

  Tensor<T> weight;
  Tensor<T> bias;  // undefined without bias
  std::shared_ptr<FakeQuantizeBase<T>> weight_fake_quant;
  std::shared_ptr<FakeQuantizeBase<T>> input_fake_quant;  // null without an activation factory

 protected:
  // op(fake_quantized_input(x), fake_quantized_weight()), for forward. When
  // it throws (e.g. an input of the wrong shape), the quantizers' state
  // (ranges observed on the way) is restored: a refused forward changes nothing.
  using LayerOp = std::function<Tensor<T>(const Tensor<T>& input, const Tensor<T>& weight)>;
  Tensor<T> quantized_forward(const Tensor<T>& x, const LayerOp& op);

  // Registers `weight` and `bias` themselves (a float layer's handles stay
  // valid: the QAT layer trains the same tensors), then builds the quantizers.
  // ValueError when the config has no weight factory, a factory returns null,
  // or weight normalization is asked for a weight of fewer than 2 elements.
  FakeQuantizedLayer(std::string type_name, Tensor<T> weight, Tensor<T> bias, QConfig<T> qconfig);

  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  QConfig<T> qconfig_;
  Tensor<T> qconfig_tag_;
};

extern template class FakeQuantizedLayer<float>;
extern template class FakeQuantizedLayer<double>;

}  // namespace xgrad::quant::qat
