#include "xgrad/quant/qat/linear.hpp"

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/linalg.hpp"

namespace xgrad::quant::qat {

template <class T>
Linear<T>::Linear(Tensor<T> weight, Tensor<T> bias, QConfig<T> qconfig)
    : FakeQuantizedLayer<T>("qat::Linear", std::move(weight), std::move(bias), std::move(qconfig)) {
}

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias, QConfig<T> qconfig,
                  Generator& gen)
    : Linear(nn::Linear<T>(in_features, out_features, bias, gen), std::move(qconfig)) {}

template <class T>
Linear<T>::Linear(const nn::Linear<T>& fc, QConfig<T> qconfig)
    : Linear(fc.weight, fc.bias, std::move(qconfig)) {}

template <class T>
std::shared_ptr<Linear<T>> Linear<T>::from_float(const nn::Linear<T>& mod, QConfig<T> qconfig) {
  return std::shared_ptr<Linear<T>>(new Linear<T>(mod, std::move(qconfig)));
}

template <class T>
std::shared_ptr<nn::Linear<T>> Linear<T>::to_float() const {
  Generator unused;  // the new layer's random init is overwritten below
  auto fc =
      std::make_shared<nn::Linear<T>>(in_features(), out_features(), this->bias.defined(), unused);
  NoGradGuard no_grad;
  fc->weight.copy_(this->weight.detach());
  if (this->bias.defined()) fc->bias.copy_(this->bias.detach());
  return fc;
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& input) {
  require_defined(input, "qat::Linear", "input");
  return this->quantized_forward(
      input, [this](const Tensor<T>& x, const Tensor<T>& w) { return linear(x, w, this->bias); });
}

XGRAD_INSTANTIATE_CLASS(Linear);

}  // namespace xgrad::quant::qat
