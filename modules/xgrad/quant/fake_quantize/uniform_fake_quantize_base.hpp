// UniformFakeQuantizeBase<T, Observer>: what the observer-based uniform fake
// quantizers share (FakeQuantize with a MinMaxObserver, PerChannelFakeQuantize
// with a PerChannelMinMaxObserver, as PyTorch's FakeQuantize takes either):
//   buffers "scale" and "zero_point", after the toggles of FakeQuantizeBase:
//           empty ({0}) until computed or loaded, then one value per tensor or
//           per channel (shape-changing buffers);
//   child   "activation_post_process", the observer the qparams come from.
// Each subclass's forward observes through it and fake-quantizes with them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T, class Observer>
class UniformFakeQuantizeBase : public FakeQuantizeBase<T> {
 public:
  // The observer's qparams for what it has seen (StateError before anything).
  auto calculate_qparams() const { return activation_post_process->calculate_qparams(); }
  // True once scale and zero_point hold values (computed or loaded).
  bool has_qparams() const override { return scale_.numel() > 0 && zero_point_.numel() > 0; }

  std::int64_t quant_min() const { return activation_post_process->quant_min(); }
  std::int64_t quant_max() const { return activation_post_process->quant_max(); }

  std::shared_ptr<Observer> activation_post_process;

 protected:
  UniformFakeQuantizeBase(std::string type_name, std::shared_ptr<Observer> observer)
      : FakeQuantizeBase<T>(std::move(type_name)) {
    scale_ = this->register_buffer("scale", zeros<T>({0}), /*fixed_shape=*/false);
    zero_point_ = this->register_buffer("zero_point", zeros<T>({0}), /*fixed_shape=*/false);
    activation_post_process = this->register_module("activation_post_process", std::move(observer));
  }

  Tensor<T> scale_, zero_point_;
};

}  // namespace xgrad::quant
