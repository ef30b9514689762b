#include "xgrad/quant/qat/conv2d.hpp"

#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::quant::qat {

template <class T>
Conv2d<T>::Conv2d(const nn::Conv2d<T>& conv, QConfig<T> qconfig)
    : FakeQuantizedLayer<T>("qat::Conv2d", conv.weight, conv.bias, std::move(qconfig)),
      options_(conv.options()) {}

template <class T>
Conv2d<T>::Conv2d(const nn::Conv2dOptions& options, QConfig<T> qconfig, Generator& gen)
    : Conv2d(nn::Conv2d<T>(options, gen), std::move(qconfig)) {}

template <class T>
std::shared_ptr<Conv2d<T>> Conv2d<T>::from_float(const nn::Conv2d<T>& mod, QConfig<T> qconfig) {
  return std::shared_ptr<Conv2d<T>>(new Conv2d<T>(mod, std::move(qconfig)));
}

template <class T>
std::shared_ptr<nn::Conv2d<T>> Conv2d<T>::to_float() const {
  Generator unused;  // the new layer's random init is overwritten below
  auto conv = std::make_shared<nn::Conv2d<T>>(options_, unused);
  NoGradGuard no_grad;
  conv->weight.copy_(this->weight.detach());
  if (this->bias.defined()) conv->bias.copy_(this->bias.detach());
  return conv;
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Tensor<T>& input) {
  return this->quantized_forward(input, [this](const Tensor<T>& x, const Tensor<T>& w) {
    return conv2d(x, w, this->bias, options_.stride(), options_.padding(), options_.dilation(),
                  options_.groups());
  });
}

XGRAD_INSTANTIATE_CLASS(Conv2d);

}  // namespace xgrad::quant::qat
