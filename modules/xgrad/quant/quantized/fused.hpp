// quantized::FusedReLU<T> and FusedMaxPool2d<T>: what convert leaves in place
// of a ReLU (and a MaxPool2d after it) whose work a converted layer does in
// its epilogue (QuantizedLayer::fuse). They are an nn::ReLU / nn::MaxPool2d
// (type names "ReLU", "MaxPool2d", no state, exported to ONNX as Relu and
// MaxPool): on the layer's own last fused output they return what the layer
// computed (the output itself, or its pooled form), bit for bit what the op
// gives; on any other input (another tensor, one that needs a gradient, the
// layer gone or unfused) they run the op.
#pragma once

#include <cstddef>
#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant::quantized {

template <class T = float>
class FusedReLU : public nn::ReLU<T> {
 public:
  explicit FusedReLU(std::weak_ptr<const QuantizedLayer<T>> layer) : layer_(std::move(layer)) {}
  Tensor<T> forward(const Tensor<T>& input) override;

 private:
  std::weak_ptr<const QuantizedLayer<T>> layer_;
};

template <class T = float>
class FusedMaxPool2d : public nn::MaxPool2d<T> {
 public:
  FusedMaxPool2d(const nn::MaxPool2dOptions& options, std::weak_ptr<const QuantizedLayer<T>> layer)
      : nn::MaxPool2d<T>(options), layer_(std::move(layer)) {}
  Tensor<T> forward(const Tensor<T>& input) override;

 private:
  std::weak_ptr<const QuantizedLayer<T>> layer_;
};

// What convert does last: in every Sequential of `model` (and the model
// itself), a converted layer (quantized::Linear / Conv2d) followed by an
// nn::ReLU, and a Conv2d's ReLU followed by an nn::MaxPool2d, are fused
// (QuantizedLayer::fuse) and the ReLU / MaxPool2d replaced by FusedReLU /
// FusedMaxPool2d (the same options). Returns the number of layers fused.
template <class T>
std::size_t fuse_relu_pool(Module<T>& model);

XGRAD_EXTERN_TEMPLATE_CLASS(FusedReLU);
XGRAD_EXTERN_TEMPLATE_CLASS(FusedMaxPool2d);

}  // namespace xgrad::quant::quantized
