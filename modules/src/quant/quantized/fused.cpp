#include "xgrad/quant/quantized/fused.hpp"

#include <optional>
#include <typeinfo>
#include <vector>

#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"

namespace xgrad::quant::quantized {

namespace {

// Whether `input` may take the layer's result: no gradient is asked for (the
// fused output has no autograd node).
template <class T>
bool plain(const Tensor<T>& input) {
  return input.defined() && !(GradMode::is_enabled() && input.requires_grad());
}

}  // namespace

template <class T>
Tensor<T> FusedReLU<T>::forward(const Tensor<T>& input) {
  if (plain(input))
    if (const auto layer = layer_.lock())
      if (layer->is_fused_output(input)) return input;  // ReLU'd in the epilogue
  return nn::ReLU<T>::forward(input);
}

template <class T>
Tensor<T> FusedMaxPool2d<T>::forward(const Tensor<T>& input) {
  if (plain(input))
    if (const auto layer = layer_.lock()) {
      Tensor<T> pooled = layer->fused_pooled(input);
      if (pooled.defined()) return pooled;
    }
  return nn::MaxPool2d<T>::forward(input);
}

template <class T>
std::size_t fuse_relu_pool(Module<T>& model) {
  // Held: the modules replaced below must outlive this walk.
  const auto modules = model.modules();
  std::vector<Module<T>*> parents{&model};
  for (const auto& m : modules) parents.push_back(m.get());
  std::size_t fused = 0;
  for (Module<T>* p : parents) {
    if (!p->template as<nn::Sequential<T>>()) continue;  // forward order known
    const auto children = p->named_children();           // a copy: replaced below
    for (std::size_t i = 0; i + 1 < children.size(); ++i) {
      const auto& c = children[i].second;
      auto layer = std::dynamic_pointer_cast<QuantizedLayer<T>>(c);
      if (!layer || !(c->template as<Linear<T>>() || c->template as<Conv2d<T>>()) ||
          typeid(*children[i + 1].second) != typeid(nn::ReLU<T>))
        continue;
      std::optional<typename QuantizedLayer<T>::FusedPool> pool;
      const bool pooled = c->template as<Conv2d<T>>() && i + 2 < children.size() &&
                          typeid(*children[i + 2].second) == typeid(nn::MaxPool2d<T>);
      if (pooled) {
        const auto& o = static_cast<const nn::MaxPool2d<T>&>(*children[i + 2].second).options();
        pool = typename QuantizedLayer<T>::FusedPool{o.kernel_size(), o.stride(), o.padding()};
        p->replace_module(
            children[i + 2].first,
            std::make_shared<FusedMaxPool2d<T>>(o, std::weak_ptr<const QuantizedLayer<T>>(layer)));
      }
      p->replace_module(children[i + 1].first, std::make_shared<FusedReLU<T>>(
                                                   std::weak_ptr<const QuantizedLayer<T>>(layer)));
      layer->fuse(true, pool);
      ++fused;
    }
  }
  return fused;
}

template std::size_t fuse_relu_pool<float>(Module<float>&);
template std::size_t fuse_relu_pool<double>(Module<double>&);

XGRAD_INSTANTIATE_CLASS(FusedReLU);
XGRAD_INSTANTIATE_CLASS(FusedMaxPool2d);

}  // namespace xgrad::quant::quantized
