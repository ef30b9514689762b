// ObserverBase<T, QParams>: the one base of every observer (PyTorch's
// torch.ao.quantization.ObserverBase). An observer is a Module whose
//   forward(x)           records statistics of x (running extremes, a
//                        percentile, max |x|, ...) and returns x itself, and whose
//   calculate_qparams()  turns them into the qparams of a quantizer.
// QParams is what its quantizer needs: UniformQParams<T> (MinMaxObserver and
// its subclasses), PerChannelQParams<T> (PerChannelMinMaxObserver),
// APoTQParams<T> (APoTObserver) or T, a clipping value (ClipObserver: the
// observers behind RCF's initial alpha). A fake quantizer holds its observer
// as the child "activation_post_process", as in PyTorch.
//
// Observing is transactional for the quantizers built on it: observe_then(x,
// f) runs forward(x) and then f() (the qparams), and when either throws it puts
// every buffer of the observer back first, so a refused batch changes nothing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "xgrad/module.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T, class QParams>
class ObserverBase : public Module<T> {
 public:
  using qparams_type = QParams;

  // Observes x and returns x itself (the same handle).
  Tensor<T> forward(const Tensor<T>& x) override = 0;
  // The qparams of everything observed so far (StateError before anything was).
  virtual QParams calculate_qparams() const = 0;

  // forward(x), then calculate(); if either throws, the observer's buffers
  // are restored before the exception propagates.
  template <class Calculate>
  auto observe_then(const Tensor<T>& x, Calculate calculate) -> decltype(calculate()) {
    std::vector<Tensor<T>> state = this->buffers(false);
    std::vector<xt::xarray<T>> saved;
    saved.reserve(state.size());
    for (const auto& b : state) saved.push_back(b.data());
    try {
      this->forward(x);
      return calculate();
    } catch (...) {
      for (std::size_t i = 0; i < state.size(); ++i) state[i].mutable_data() = std::move(saved[i]);
      throw;
    }
  }
  // observe_then(x, calculate_qparams).
  QParams observe_and_calculate(const Tensor<T>& x) {
    return observe_then(x, [this] { return calculate_qparams(); });
  }

 protected:
  explicit ObserverBase(std::string type_name) : Module<T>(std::move(type_name)) {}
};

// An observer whose qparams is one clipping value alpha (clip_observers.hpp).
template <class T>
using ClipObserver = ObserverBase<T, T>;

}  // namespace xgrad::quant
