// Losses. Integer class labels are xt::xarray<std::int64_t> of shape [N];
// a label outside [0, C) throws ValueError naming its position and value.
#pragma once

#include <cstdint>
#include <xtensor/xarray.hpp>

#include "xgrad/ops/labels.hpp"  // Labels
#include "xgrad/tensor.hpp"

namespace xgrad {

enum class Reduction { None, Mean, Sum };

// (input - target)^2, shapes must match exactly (no silent broadcasting).
template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target,
                   Reduction reduction = Reduction::Mean);
// Negative log-likelihood of log-probabilities [N, C] at integer labels [N].
template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Labels& labels,
                   Reduction reduction = Reduction::Mean);
// nll_loss(log_softmax(logits, 1), labels), fused and stable.
template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Labels& labels,
                        Reduction reduction = Reduction::Mean);

}  // namespace xgrad
