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
//                         2^b - 1 for b unsigned bits);
//   PercentileClipObserver  the given percentile of |x| of the latest batch
//                         (linear interpolation between order statistics);
//   MseClipObserver       the alpha of least squared error sum (x - Q(x))^2 on
//                         the latest batch, Q rounding to alpha times a
//                         normalized level set (RCF's forward), searched over
//                         alpha = max|x| * i / steps, i = 1..steps.
//
// All refuse NaN and infinities (ValueError "cannot observe ... at flat
// position i", nothing changed) and leave their state alone for an empty x;
// load_state_dict refuses a buffer that is negative or not finite (ValueError
// naming the key). make_clip_observer builds the one an AlphaInit names (the
// QConfig recipe options and RCFOptions::init use it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/levels/level_set.hpp"
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

 protected:
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  Tensor<T> max_abs_;
};

// What the observers of the latest batch's clip point share: buffer
// "clip_point" (0-d, 0 until observed), returned by calculate_qparams and
// checked on load (finite, >= 0).
template <class T = float>
class ClipPointObserver : public ClipObserver<T> {
 public:
  // The clip point of the latest non-empty batch (0 before any).
  T calculate_qparams() const override;

 protected:
  explicit ClipPointObserver(std::string type_name);
  void check_state(const typename Module<T>::StateCandidate& state) const override;

  Tensor<T> clip_point_;
};

// LSQ's clip point 2 mean|x| sqrt(top_code). ValueError for top_code < 1,
// and from forward when the clip point overflows T (nothing changed).
template <class T = float>
class LsqClipPointObserver : public ClipPointObserver<T> {
 public:
  explicit LsqClipPointObserver(std::int64_t top_code);
  Tensor<T> forward(const Tensor<T>& x) override;
  std::int64_t top_code() const { return top_code_; }

 private:
  std::int64_t top_code_;
};

// The given percentile of |x|. ValueError unless 0 < percentile <= 100.
template <class T = float>
class PercentileClipObserver : public ClipPointObserver<T> {
 public:
  explicit PercentileClipObserver(double percentile = 99.9);
  Tensor<T> forward(const Tensor<T>& x) override;
  double percentile() const { return percentile_; }

 private:
  double percentile_;
};

// The least-squared-error alpha. ValueError for a level set that is not
// normalized (bottom 0 or -1, top 1) or steps < 1.
template <class T = float>
class MseClipObserver : public ClipPointObserver<T> {
 public:
  explicit MseClipObserver(const LevelSet& levels, int steps = 100);
  Tensor<T> forward(const Tensor<T>& x) override;

 private:
  std::vector<T> levels_;
  int steps_;
};

// Which observer a learnable clipping value (RCF's alpha, LSQ's step times
// its top code) starts from.
enum class AlphaInit {
  fixed,           // none: the quantizer's own initial value (RCF weights: 3)
  max_abs,         // MaxAbsObserver: the running max |x| over everything observed
  lsq_clip_point,  // LsqClipPointObserver: 2 mean|x| sqrt(top_code) of the latest x
  percentile,      // PercentileClipObserver: a percentile of |x| of the latest x
  mse,             // MseClipObserver: the least-squared-error alpha for the level set
};
const char* to_string(AlphaInit init);

// The observer `init` names, for a quantizer rounding to `levels` (the MSE
// search rounds to them; lsq_clip_point uses their top_code); null for fixed.
// ValueError as the observers' constructors.
template <class T>
std::shared_ptr<ClipObserver<T>> make_clip_observer(AlphaInit init, const LevelSet& levels,
                                                    double percentile = 99.9);

XGRAD_EXTERN_TEMPLATE_CLASS(MaxAbsObserver);
XGRAD_EXTERN_TEMPLATE_CLASS(ClipPointObserver);
XGRAD_EXTERN_TEMPLATE_CLASS(LsqClipPointObserver);
XGRAD_EXTERN_TEMPLATE_CLASS(PercentileClipObserver);
XGRAD_EXTERN_TEMPLATE_CLASS(MseClipObserver);

}  // namespace xgrad::quant
