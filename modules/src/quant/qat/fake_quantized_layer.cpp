#include "xgrad/quant/qat/fake_quantized_layer.hpp"

#include "xgrad/errors.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"

namespace xgrad::quant::qat {

namespace {

// (W - mean) / (std + eps) with the unbiased std; also returns the std.
template <class T>
Tensor<T> standardize(const Tensor<T>& w, double eps, Tensor<T>* std_out) {
  const Tensor<T> centered = w - mean(w);
  const T n = static_cast<T>(w.numel());
  const Tensor<T> sd = sqrt(sum(centered * centered) / (n - T(1)));
  *std_out = sd;
  return centered / (sd + static_cast<T>(eps));
}

}  // namespace

template <class T>
FakeQuantizedLayer<T>::FakeQuantizedLayer(std::string type_name, Tensor<T> w, Tensor<T> b,
                                          QConfig<T> qconfig)
    : Module<T>(std::move(type_name)), qconfig_(std::move(qconfig)) {
  const std::string where = this->type_name() + ": ";
  if (!qconfig_.weight) throw ValueError(where + "the qconfig has no weight factory");
  if (qconfig_.weight_norm != WeightNorm::none && w.defined() && w.numel() < 2) {
    throw ValueError(where + "weight normalization needs at least 2 weights, got " +
                     std::to_string(w.numel()));
  }
  auto wq = qconfig_.weight();
  if (!wq) throw ValueError(where + "the qconfig's weight factory returned null");
  std::shared_ptr<FakeQuantizeBase<T>> aq;
  if (qconfig_.activation) {
    aq = qconfig_.activation();
    if (!aq) throw ValueError(where + "the qconfig's activation factory returned null");
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
  Tensor<T> sd;
  const Tensor<T> normalized = standardize(weight, qconfig_.weight_norm_eps, &sd);
  const Tensor<T> q = weight_fake_quant->forward(normalized);
  if (qconfig_.weight_norm == WeightNorm::standardize) return q;
  return q * sd.detach();
}

template <class T>
Tensor<T> FakeQuantizedLayer<T>::fake_quantized_input(const Tensor<T>& x) {
  return input_fake_quant ? input_fake_quant->forward(x) : x;
}

template <class T>
void FakeQuantizedLayer<T>::check_state_dict(
    const std::vector<std::pair<std::string, const xt::xarray<T>*>>& incoming) const {
  check_qconfig_entry(this->type_name(), qconfig_tag_, incoming);
}

template class FakeQuantizedLayer<float>;
template class FakeQuantizedLayer<double>;

}  // namespace xgrad::quant::qat
