#include "xgrad/quant/quantized/linear.hpp"

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/linalg.hpp"

namespace xgrad::quant::quantized {

template <class T>
Linear<T>::Linear(qat::Linear<T>& layer) : QuantizedLayer<T>("quantized::Linear", layer) {}

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias,
                  const QConfig<T>& qconfig)
    : QuantizedLayer<T>("quantized::Linear", Shape{out_features, in_features}, bias, qconfig) {}

template <class T>
Linear<T>::Linear(std::string type_name, typename QuantizedLayer<T>::TableKeys keys)
    : QuantizedLayer<T>(std::move(type_name), std::move(keys)) {}

template <class T>
std::shared_ptr<Linear<T>> Linear<T>::from_qat(qat::Linear<T>& layer) {
  return std::shared_ptr<Linear<T>>(new Linear<T>(layer));
}

template <class T>
Tensor<T> Linear<T>::forward_dequantized(const Tensor<T>& input) {
  XGRAD_CHECK(input.defined(), ValueError, this->type_name(),
              ".forward: the input tensor is undefined");
  return linear(this->quantized_input(input), this->dequantized_weight(), this->bias);
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& input) {
  XGRAD_CHECK(input.defined(), ValueError, this->type_name(),
              ".forward: the input tensor is undefined");
  const Tensor<T> x = this->quantized_input(input);
  const std::size_t in = in_features();
  // The kernel has no backward: an input that needs a gradient takes the
  // float op; a shape linear refuses too.
  if ((GradMode::is_enabled() && x.requires_grad()) || x.dim() == 0 || x.shape().back() != in)
    return linear(x, this->dequantized_weight(), this->bias);
  Shape out_shape = x.shape();
  out_shape.back() = out_features();
  const std::size_t batch = x.numel() / in;
  xt::xarray<T> y = xgrad::detail::new_array<T>(out_shape);  // the array cache
  if (batch == 0) return Tensor<T>(std::move(y));
  if (!this->lut_forward(0, x.data().data(), batch, y.data(), false))
    return linear(x, this->dequantized_weight(), this->bias);
  return Tensor<T>(std::move(y));
}

template <class T>
std::size_t Linear<T>::in_features() const {
  return this->weight_shape()[1];
}

template <class T>
std::size_t Linear<T>::out_features() const {
  return this->weight_shape()[0];
}

XGRAD_INSTANTIATE_CLASS(Linear);

}  // namespace xgrad::quant::quantized
