// The one table of exporters: module type -> ONNX nodes (the exporters live in
// layers/, one file per kind of layer).
#include "export_context.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/fused.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"

namespace xgrad::onnx::detail {

template <class T>
const Exporter<T>* Registry<T>::find(const Module<T>& module) const {
  const auto it = table_.find(std::type_index(typeid(module)));
  return it == table_.end() ? nullptr : &it->second.exporter;
}

template <class T>
std::string Registry<T>::names() const {
  std::string out;
  for (const std::string& n : names_) out += (out.empty() ? "" : ", ") + n;
  return out;
}

template <class T>
const Registry<T>& builtin_registry() {
  static const Registry<T> registry = [] {
    Registry<T> r;
    r.template add<nn::Sequential<T>>("Sequential", export_sequential<T>);
    r.template add<nn::Linear<T>>("Linear", export_linear<T>);
    r.template add<nn::Conv2d<T>>("Conv2d", export_conv2d<T>);
    r.template add<nn::BatchNorm1d<T>>("BatchNorm1d", export_batchnorm<T>);
    r.template add<nn::BatchNorm2d<T>>("BatchNorm2d", export_batchnorm<T>);
    r.template add<nn::MaxPool2d<T>>("MaxPool2d", export_max_pool<T>);
    r.template add<nn::AvgPool2d<T>>("AvgPool2d", export_avg_pool<T>);
    r.template add<nn::AdaptiveAvgPool2d<T>>("AdaptiveAvgPool2d", export_adaptive_avg_pool<T>);
    r.template add<nn::ReLU<T>>("ReLU", elementwise_exporter<T>("Relu"));
    r.template add<nn::Sigmoid<T>>("Sigmoid", elementwise_exporter<T>("Sigmoid"));
    r.template add<nn::Tanh<T>>("Tanh", elementwise_exporter<T>("Tanh"));
    r.template add<nn::Softmax<T>>("Softmax", along_axis_exporter<T, nn::Softmax<T>>("Softmax"));
    r.template add<nn::LogSoftmax<T>>("LogSoftmax",
                                      along_axis_exporter<T, nn::LogSoftmax<T>>("LogSoftmax"));
    r.template add<nn::Flatten<T>>("Flatten", export_flatten<T>);
    r.template add<nn::Dropout<T>>("Dropout", export_dropout<T>);
    namespace q = quant;
    r.template add<q::FakeQuantize<T>>("FakeQuantize", export_uniform_fake_quantize<T>);
    r.template add<q::PerChannelFakeQuantize<T>>("PerChannelFakeQuantize",
                                                 export_uniform_fake_quantize<T>);
    r.template add<q::LearnableFakeQuantize<T>>("LearnableFakeQuantize",
                                                export_uniform_fake_quantize<T>);
    r.template add<q::APoTFakeQuantize<T>>("APoTFakeQuantize", export_apot_fake_quantize<T>);
    r.template add<q::RCFFakeQuantize<T>>("RCFFakeQuantize", export_apot_fake_quantize<T>);
    r.template add<q::qat::Linear<T>>("qat::Linear", export_qat_linear<T>);
    r.template add<q::qat::Conv2d<T>>("qat::Conv2d", export_qat_conv2d<T>);
    r.template add<q::quantized::Linear<T>>("quantized::Linear", export_quantized_linear<T>);
    r.template add<q::LinearAPoT<T>>("LinearAPoT", export_quantized_linear<T>);
    r.template add<q::quantized::Conv2d<T>>("quantized::Conv2d", export_quantized_conv2d<T>);
    r.template add<q::quantized::FusedReLU<T>>("ReLU", elementwise_exporter<T>("Relu"));
    r.template add<q::quantized::FusedMaxPool2d<T>>("MaxPool2d", export_max_pool<T>);
    return r;
  }();
  return registry;
}

template class Registry<float>;
template class Registry<double>;
template const Registry<float>& builtin_registry<float>();
template const Registry<double>& builtin_registry<double>();

}  // namespace xgrad::onnx::detail
