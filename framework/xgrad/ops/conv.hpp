// 2-D convolution (libtorch's torch::nn::functional::conv2d) on NCHW tensors:
// float on oneDNN when xgrad is built with it (docs/design.md, Convolution),
// otherwise, and always for double, lowered to BLAS gemm through im2col.
#pragma once

#include <cstdint>

#include "xgrad/ops/size2.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

// input [N, C, H, W], weight [O, C / groups, kh, kw], bias [O] (may be
// undefined) -> [N, O, OH, OW] with
//   OH = (H + 2 padding.h - dilation.h (kh - 1) - 1) / stride.h + 1 (same for W),
// zero padding, PyTorch's semantics (cross-correlation; output channel o of
// group g = o / (O / groups) sees input channels g C/groups ... (g+1) C/groups - 1).
// Gradients for input, weight and bias; each is computed only when needed.
// Memory: one [C/groups kh kw, OH OW] column buffer per call (forward and each
// backward), freed on return; on oneDNN instead, per chunk of samples in
// flight (one per thread), the chunk's input and output in oneDNN's blocked
// layouts (channels padded to a multiple of 8 or 16) and its scratchpad, the
// weight once per call in its layout, and for the weight gradient up to 7
// partial copies of dW (a dW over 2^18 elements runs im2col). Nothing but the
// inputs is kept for backward.
// Errors, checked before anything is allocated:
//   ShapeError: input or weight not 4-D, an input extent other than N is 0,
//     weight with a 0 extent, C != weight.shape[1] * groups, bias not [O],
//     the dilated kernel larger than the padded input (output size 0);
//   ValueError: undefined input/weight, stride or dilation < 1, padding < 0,
//     any of them above INT_MAX, groups < 1, groups not dividing C or O, an
//     extent beyond BLAS's int.
template <class T>
Tensor<T> conv2d(const Tensor<T>& input, const Tensor<T>& weight,
                 const Tensor<T>& bias = Tensor<T>(), Size2 stride = 1, Size2 padding = 0,
                 Size2 dilation = 1, std::int64_t groups = 1);

}  // namespace xgrad
