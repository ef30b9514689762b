// Batch normalization (libtorch's batch_norm) of [N, C], [N, C, L] or
// [N, C, H, W] inputs, per channel C, as one differentiable op.
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad {

// training: normalizes with the batch mean and biased variance over N and the
// trailing axes (L, or H and W),
// and, when running_mean / running_var are defined, then updates them in place
// (running = (1 - momentum) * running + momentum * batch, with the unbiased
// variance for running_var). Needs more than one value per channel.
// Not training: normalizes with running_mean / running_var (required).
// y = (x - mean) / sqrt(var + eps) * weight + bias; weight and bias ([C]) may
// be undefined (scale 1, shift 0). Running statistics never get gradients.
// Throws ShapeError on a bad rank or [C] mismatch, ValueError on momentum
// outside [0, 1], eps <= 0, a missing running statistic in eval, or too few
// values per channel in training. Nothing is updated when it throws.
template <class T>
Tensor<T> batch_norm(const Tensor<T>& input, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight, const Tensor<T>& bias,
                     bool training, double momentum = 0.1, double eps = 1e-5);

}  // namespace xgrad
