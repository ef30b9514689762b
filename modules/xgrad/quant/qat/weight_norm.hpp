// Weight normalization before quantization, as the APoT paper and the
// authors' code do it (docs/apot-training.md, "Weight normalization"): each
// layer's weight is standardized per tensor before RCF clips it, so one alpha
// (typically 3) suits every layer; without it RCF training collapses.
//
//   W' = (W - mean(W)) / (std(W) + eps)
//
// std is the UNBIASED standard deviation, sqrt(sum (W - mean)^2 / (n - 1)),
// as the authors' code (torch.std's default); eps defaults to 1e-5 (theirs).
// One engine Function ("WeightStandardizeBackward") with gradients through
// both mean and std: with d = W - mean, D = std + eps, g the upstream gradient,
//   dW = (g - mean(g)) / D - sum(g * d) * d / (D^2 (n - 1) std),
// the second term taken as 0 when std = 0 (a constant W, where std is not
// differentiable; W' is then 0 and dW = (g - mean(g)) / eps).
// Cost: mean and std in one pass over W (fixed chunks, each summed twice
// while in cache and combined pairwise: no cancellation for a large mean, the
// same bits for any thread count), one pass writing W'; backward one pass for
// sum(g) and sum(g * d), one writing dW.
// Errors: ValueError for fewer than 2 elements (no unbiased std), an eps that
// is negative or not finite, or an undefined W.
//
// Layers without BatchNorm after them lose their scale through W'; the
// authors multiply the quantized weight back by the detached std(W):
//   Tensor<float> wq = rescale_by_weight_std(rcf(weight_standardize(w)), w);
// or, computing mean and std once for both (what a QAT layer does):
//   auto [normalized, s] = weight_standardize_with_std(w);
//   Tensor<float> wq2 = rcf(normalized) * s;   // the same bits as wq
// A QAT layer with an RCF weight quantizer does all of it in one Function,
// RCFFakeQuantize::forward_standardized (the same bits again).
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T>
Tensor<T> weight_standardize(const Tensor<T>& weight, double eps = 1e-5);

// weight_standardize's result and the std it used (std(W), without eps), for
// the rescale: one computation of mean and std serves both (a QAT layer's
// forward). The std equals weight_std(weight) bit for bit.
template <class T>
struct StandardizedWeight {
  Tensor<T> normalized;
  T std;
};
template <class T>
StandardizedWeight<T> weight_standardize_with_std(const Tensor<T>& weight, double eps = 1e-5);

// The unbiased std of w (a plain value: no gradient), ValueError as above.
template <class T>
T weight_std(const Tensor<T>& weight);

// quantized * weight_std(weight), the std treated as a constant (detached).
template <class T>
Tensor<T> rescale_by_weight_std(const Tensor<T>& quantized, const Tensor<T>& weight);

}  // namespace xgrad::quant
