#include "xgrad/quant/qat/fake_quantized_layer.hpp"

#include "xgrad/errors.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"

namespace xgrad::quant::qat {

template <class T>
FakeQuantizedLayer<T>::FakeQuantizedLayer(std::string type_name, Tensor<T> w, Tensor<T> b,
                                          QConfig<T> qconfig)
    : Module<T>(std::move(type_name)), qconfig_(std::move(qconfig)) {
  const std::string where = this->type_name() + ": ";
  XGRAD_CHECK(qconfig_.weight, ValueError, where, "the qconfig has no weight factory");
  XGRAD_CHECK(qconfig_.weight_norm == WeightNorm::none || !w.defined() || w.numel() >= 2,
              ValueError, where, "weight normalization needs at least 2 weights, got ", w.numel());
  auto wq = qconfig_.weight(w.defined() ? w.shape() : Shape{});
  XGRAD_CHECK(wq, ValueError, where, "the qconfig's weight factory returned null");
  std::shared_ptr<FakeQuantizeBase<T>> aq;
  if (qconfig_.activation) {
    aq = qconfig_.activation();
    XGRAD_CHECK(aq, ValueError, where, "the qconfig's activation factory returned null");
  }
  weight = this->register_parameter("weight", w, w.requires_grad());
  if (b.defined()) bias = this->register_parameter("bias", b, b.requires_grad());
  qconfig_tag_ = this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qconfig_.name)),
                                       /*fixed_shape=*/false);
  weight_fake_quant = this->register_module("weight_fake_quant", wq);
  if (aq) input_fake_quant = this->register_module("input_fake_quant", aq);
}

template <class T>
Tensor<T> FakeQuantizedLayer<T>::fake_quantized_weight() {
  if (qconfig_.weight_norm == WeightNorm::none) return weight_fake_quant->forward(weight);
  // An RCF quantizer (observer off) does all three steps in one fused
  // Function, with the same bits as the composition below.
  if (auto* rcf = dynamic_cast<RCFFakeQuantize<T>*>(weight_fake_quant.get())) {
    Tensor<T> q = rcf->forward_standardized(
        weight, qconfig_.weight_norm_eps, qconfig_.weight_norm == WeightNorm::standardize_rescale);
    if (q.defined()) return q;
  }
  // One computation of mean and std for the normalization and the rescale
  // (the same bits as rescale_by_weight_std(q, weight)).
  const StandardizedWeight<T> w = weight_standardize_with_std(weight, qconfig_.weight_norm_eps);
  const Tensor<T> q = weight_fake_quant->forward(w.normalized);
  if (qconfig_.weight_norm == WeightNorm::standardize) return q;
  return mul(q, w.std);
}

template <class T>
Tensor<T> FakeQuantizedLayer<T>::fake_quantized_input(const Tensor<T>& x) {
  return input_fake_quant ? input_fake_quant->forward(x) : x;
}

template <class T>
Tensor<T> FakeQuantizedLayer<T>::quantized_forward(const Tensor<T>& x, const LayerOp& op) {
  // Only the quantizers' state: a few scalars (or one per channel), not the weights.
  const StateDict<T> weight_state = weight_fake_quant->state_dict();
  const StateDict<T> input_state =
      input_fake_quant ? input_fake_quant->state_dict() : StateDict<T>();
  try {
    return op(fake_quantized_input(x), fake_quantized_weight());
  } catch (...) {
    weight_fake_quant->load_state_dict(weight_state);
    if (input_fake_quant) input_fake_quant->load_state_dict(input_state);
    throw;
  }
}

template <class T>
void FakeQuantizedLayer<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  check_qconfig_entry(this->type_name(), qconfig_tag_, state["qconfig"]);
}

template class FakeQuantizedLayer<float>;
template class FakeQuantizedLayer<double>;

}  // namespace xgrad::quant::qat
