// A QAT layer's RCF weight path as one engine Function (internal; the
// public form is RCFFakeQuantize::forward_standardized):
//   rcf_fake_quantize(weight_standardize(w, eps), alpha, levels, grad_scale)
//   [* weight_std(w) when rescale]
// with the same bits as that composition, forward and backward, by
// construction: every element goes through the composition's very operations
// in T ((w - mu) * inv, / alpha, nearest level, alpha *, * std), and the sums
// (alpha's gradient, the normalization's sum(g) and sum(g d)) are the
// composition's sums over the same chunks in the same order. What is saved:
// w (version checked) and alpha * level per element; backward recomputes
// w' = (w - mu) * inv instead of reading a saved copy.
// Passes over memory: forward one for the moments and one block loop
// (normalize, quantize, scale while a block is in L1); backward one for the
// STE mask and all sums, one writing dW.
#pragma once

#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad::quant::detail {

// The caller has validated alpha (one value, finite, > 0) and the levels;
// this checks the weight and eps as weight_standardize does.
template <class T>
Tensor<T> standardized_rcf_fake_quantize(const Tensor<T>& weight, const Tensor<T>& alpha,
                                         const std::vector<T>& levels, double grad_scale,
                                         double eps, bool rescale);

}  // namespace xgrad::quant::detail
