// Observers of a clipping value alpha (ClipObserver<T> = ObserverBase<T, T>):
// what a learnable-clipping quantizer takes its initial alpha from. RCF holds
// one as its child "activation_post_process" (chosen by RCFOptions::init, or
// given to its constructor), as PyTorch's learnable fake quantize takes its
// initial scale from an observer child. Brevitas calls these statistics
// (brevitas.core.stats: AbsMax, ...).
//
//   MaxAbsObserver        the running max |x| over everything observed;
//   LsqClipPointObserver  LSQ's initial clip point 2 mean|x| sqrt(top_code) of
//                         the latest batch (top_code: the level set's, e.g.
//                         2^b - 1 for b unsigned bits).
//
// Both refuse NaN and infinities (ValueError "cannot observe ... at flat
// position i", nothing changed) and leave their state alone for an empty x.
#pragma once

#include <cstdint>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/observers/observer_base.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

// Buffer "max_abs" (0-d, 0 until observed).
template <class T = float>
class MaxAbsObserver : public ClipObserver<T> {
 public:
  MaxAbsObserver();
  Tensor<T> forward(const Tensor<T>& x) override;
  // The running max |x| (0 before anything was observed).
  T calculate_qparams() const override;

 private:
  Tensor<T> max_abs_;
};

// Buffer "clip_point" (0-d, 0 until observed). ValueError for top_code < 1,
// and from forward when the clip point overflows T (nothing changed).
template <class T = float>
class LsqClipPointObserver : public ClipObserver<T> {
 public:
  explicit LsqClipPointObserver(std::int64_t top_code);
  Tensor<T> forward(const Tensor<T>& x) override;
  // The clip point of the latest non-empty batch (0 before any).
  T calculate_qparams() const override;
  std::int64_t top_code() const { return top_code_; }

 private:
  std::int64_t top_code_;
  Tensor<T> clip_point_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(MaxAbsObserver);
XGRAD_EXTERN_TEMPLATE_CLASS(LsqClipPointObserver);

}  // namespace xgrad::quant
