#include "xgrad/quant/quantized/conv2d.hpp"

#include "xgrad/ops/conv.hpp"

namespace xgrad::quant::quantized {

namespace {

// The weight shape nn::Conv2d gives these options (which it validates).
Shape conv_weight_shape(const nn::Conv2dOptions& o) {
  Generator unused;
  return nn::Conv2d<float>(o, unused).weight.shape();
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(qat::Conv2d<T>& layer)
    : QuantizedLayer<T>("quantized::Conv2d", layer), options_(layer.options()) {}

template <class T>
Conv2d<T>::Conv2d(const nn::Conv2dOptions& options, const QConfig<T>& qconfig)
    : QuantizedLayer<T>("quantized::Conv2d", conv_weight_shape(options), options.bias(), qconfig),
      options_(options) {}

template <class T>
std::shared_ptr<Conv2d<T>> Conv2d<T>::from_qat(qat::Conv2d<T>& layer) {
  return std::shared_ptr<Conv2d<T>>(new Conv2d<T>(layer));
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Tensor<T>& input) {
  return conv2d(this->quantized_input(input), this->dequantized_weight(), this->bias,
                options_.stride(), options_.padding(), options_.dilation(), options_.groups());
}

template class Conv2d<float>;
template class Conv2d<double>;

}  // namespace xgrad::quant::quantized
