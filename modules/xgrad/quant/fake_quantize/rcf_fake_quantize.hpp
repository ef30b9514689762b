// RCF: the APoT paper's reparameterized clipping function (Li, Dong, Wang,
// ICLR 2020; docs/apot-training.md), a fake quantizer whose clipping value
// alpha is learned.
//
// The op, rcf_fake_quantize(x, alpha, levels, grad_scale), is one engine
// Function ("RCFFakeQuantizeBackward"). With u = x / alpha and lo = levels[0]
// (0 for an unsigned set, -1 for a signed one):
//   forward   q = alpha * P(clip(u, lo, 1)),  P = nearest normalized level
//             (the APoT rule: distances in T, the lower level on ties,
//             O(log L) by the APoT search of kernels/apot_reference.hpp);
//   dq/dx     1 where lo <= u <= 1 (inclusive), else 0 (the clipped STE);
//   dq/dalpha P(u) - u where lo <= u <= 1; the clip value where clipped:
//             1 above, -1 below a signed range, 0 below an unsigned one
//             (= sign(x) wherever the output is not exactly 0);
// alpha's gradient is summed over the tensor (in T over blocks of 512
// elements, the blocks in double), the in-range terms as dy * (q - x) divided
// by alpha once (q - x = alpha (P(u) - u) up to rounding), and multiplied by
// grad_scale (LSQ's trick: 1 / sqrt(numel * top_code) is common, see
// lsq_grad_scale, grad_scale.hpp). It equals the stop-gradient composition the authors build,
// alpha * (c + detach(P(c) - c)), c = clamp(x / alpha, lo, 1): bit for bit
// forward (for the named level sets) and up to summation rounding backward.
// NaN x gives NaN with no gradient to x or alpha; infinities clip. Backward
// stores nothing per element: it reads x and q (modifying x in place before
// backward is a StateError) and finds the range by two exact thresholds on x.
// Errors: ValueError unless alpha holds one finite value > 0, levels are
// finite, strictly ascending, start at 0 or -1 and end at 1, and grad_scale is
// finite; ShapeError when alpha has more than one element.
//
// rcf_fake_quantize_per_channel(x, alpha, ch_axis, levels, grad_scale): one
// alpha per slice of x along ch_axis (negative counts from the end), alpha of
// shape [x.shape[ch_axis]] ("RCFFakeQuantizePerChannelBackward"): every
// channel c is the op above with alpha[c], bit for bit; alpha[c]'s gradient
// sums its channel's terms (in double) times grad_scale. ShapeError for an
// axis out of range or another alpha shape; ValueError as above (naming
// alpha[c]).
//
// The module, RCFFakeQuantize<T>, holds alpha as the learnable parameter
// "alpha" (shape {1}) and the normalized levels as the buffer "levels" (values
// of a LevelSet, levels/level_set.hpp), after the flags of FakeQuantizeBase.
// Its initial alpha comes from an observer child, "activation_post_process"
// (a ClipObserver, observers/clip_observers.hpp), as PyTorch's learnable fake
// quantize takes its initial scale from one: the one RCFOptions::init names
// (make_clip_observer: max_abs, lsq_clip_point, percentile, mse), none for
// fixed (or any ClipObserver given to the constructor).
//   forward(x): observer on, an observer child and x not empty: observe x
//   and set alpha = max(its clipping value, min_alpha); fake quant on:
//   rcf_fake_quantize(x, alpha, levels, scale); else x itself. The levels
//   live in the state dict, so a checkpoint carries its set; the observer's
//   state follows under "activation_post_process." (the running max |x| of
//   max_abs: "activation_post_process.max_abs", formerly "observed_max_abs").
// Per channel (RCFOptions::channel_len > 0, as LSQ's options): alpha has
// shape [channel_len], one per slice along ch_axis (0: a weight's output
// channels); the observer child then sets each channel's alpha from that
// channel's slice of the latest x (a fresh observer of the same kind per
// channel, so a running max is the latest batch's; meant for weights, which
// every forward sees whole), and itself observes the whole tensor (its
// clipping value is what has_qparams asks). x must have channel_len slices
// (ShapeError). lsq_grad_scale uses numel(x), as LSQ's per-channel step does.
// Keeping alpha positive: an optimizer step can push alpha to 0 or below
// (the classic RCF bug). Call clamp_alpha_() after every optimizer step; it
// raises alpha to min_alpha. forward refuses alpha <= 0 (ValueError).
//
//   RCFFakeQuantize<float> wq(apot_sign_magnitude_levels(4));  // alpha 3, fixed
//   RCFOptions<float> act;
//   act.init = AlphaInit::lsq_clip_point;
//   act.lsq_grad_scale = true;
//   RCFFakeQuantize<float> aq(apot_unsigned_levels(4, 2), act);
//   ... calibrate; disable_observer(model); train:
//   loss.backward(); opt.step(); wq.clamp_alpha_(); aq.clamp_alpha_();
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/fake_quantize/grad_scale.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/observers/clip_observers.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T>
Tensor<T> rcf_fake_quantize(const Tensor<T>& x, const Tensor<T>& alpha,
                            const std::vector<T>& levels, double grad_scale = 1.0);

template <class T>
Tensor<T> rcf_fake_quantize_per_channel(const Tensor<T>& x, const Tensor<T>& alpha,
                                        std::int64_t ch_axis, const std::vector<T>& levels,
                                        double grad_scale = 1.0);

template <class T>
struct RCFOptions {
  AlphaInit init = AlphaInit::fixed;
  T alpha = T(3);                 // initial alpha (> 0, finite)
  double grad_scale = 1.0;        // multiplies alpha's gradient ...
  bool lsq_grad_scale = false;    // ... or, when true, 1 / sqrt(numel(x) * top_code)
  T min_alpha = T(1e-4);          // clamp_alpha_() floor and floor of observed alphas
  double percentile = 99.9;       // of |x|, for AlphaInit::percentile
  std::int64_t channel_len = -1;  // -1: one alpha; > 0: one per slice along ch_axis
  std::int64_t ch_axis = 0;
};

template <class T = float>
class RCFFakeQuantize : public FakeQuantizeBase<T> {
 public:
  // ValueError for a bad option (alpha or min_alpha not finite and > 0,
  // grad_scale not finite, channel_len neither -1 nor > 0) or an empty level set. The observer
  // child is the one options.init names.
  explicit RCFFakeQuantize(const LevelSet& levels, RCFOptions<T> options = {});
  // With the observer child given (null: alpha is only ever learned; options.init
  // is then not consulted).
  RCFFakeQuantize(const LevelSet& levels, RCFOptions<T> options,
                  std::shared_ptr<ClipObserver<T>> observer);

  Tensor<T> forward(const Tensor<T>& x) override;

  // forward(weight_standardize(w, eps)), times weight_std(w) when `rescale`
  // (a QAT layer's weight path, qat/weight_norm.hpp), as one fused engine
  // Function: the same bits forward and backward, far fewer passes over w.
  // An undefined Tensor when the fused path does not apply (fake quant off,
  // an observer on: then compose the steps).
  Tensor<T> forward_standardized(const Tensor<T>& w, double eps, bool rescale);

  // alpha = max(alpha, min_alpha) in place (also repairs NaN); call after
  // each optimizer step.
  void clamp_alpha_();

  // False while an observer child has seen nothing but zeros (its clipping
  // value is 0: never calibrated, nothing loaded), so convert() refuses to
  // keep the initial alpha; true without an observer child.
  bool has_qparams() const override;

  // The smallest x observed (observer on) since construction or
  // reset_observed_min(); +inf before any. Not part of the state dict:
  // calibrate() uses it to refuse an unsigned level set that would clip
  // negative inputs.
  T observed_min() const { return observed_min_; }
  void reset_observed_min();

  Tensor<T> alpha() const { return alpha_; }
  std::vector<T> levels() const;
  bool is_signed() const;
  std::int64_t top_code() const { return top_code_; }
  bool is_per_channel() const { return options_.channel_len > 0; }
  const RCFOptions<T>& options() const { return options_; }

  // The observer of the initial alpha; null for AlphaInit::fixed.
  std::shared_ptr<ClipObserver<T>> activation_post_process;

 protected:
  // load_state_dict: ValueError naming the key unless the toggles are 0 or 1,
  // every alpha is finite and > 0 (their count is fixed: ShapeError) and the levels are a
  // normalized set (as above); the level count is fixed (ShapeError).
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  void observe_channels(const Tensor<T>& x, T whole);

  RCFOptions<T> options_;
  std::int64_t top_code_;
  LevelSet level_set_;  // as constructed: the per-channel observers' levels
  Tensor<T> alpha_, levels_;
  T observed_min_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(RCFFakeQuantize);

}  // namespace xgrad::quant
