// 2-D pooling on NCHW tensors (libtorch's torch::nn::functional max_pool2d,
// avg_pool2d, adaptive_avg_pool2d), each one differentiable op.
#pragma once

#include "xgrad/ops/size2.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

// Window geometry, as PyTorch with ceil_mode = false:
//   OH = (H + 2 padding.h - kernel_size.h) / stride.h + 1 (same for W).
// Errors (before anything is allocated), for max_pool2d and avg_pool2d:
//   ShapeError: input not 4-D [N, C, H, W], C, H or W zero, kernel larger
//     than the padded input (output size 0);
//   ValueError: undefined input, kernel_size or stride < 1, padding < 0 or
//     more than half the kernel (PyTorch's rule).

// Maximum over each window; padding never wins (it is -infinity). The
// gradient goes to the first maximum of the window in row-major order; a NaN
// in the window is the result (the last NaN gets the gradient, as PyTorch).
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& input, Size2 kernel_size, Size2 stride, Size2 padding = 0);
// stride = kernel_size (PyTorch's default).
template <class T>
Tensor<T> max_pool2d(const Tensor<T>& input, Size2 kernel_size);

// Mean over each window, padding counted as zeros (count_include_pad = true,
// PyTorch's default): every window divides by kernel_size.h * kernel_size.w.
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& input, Size2 kernel_size, Size2 stride, Size2 padding = 0);
// stride = kernel_size (PyTorch's default).
template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& input, Size2 kernel_size);

// [N, C, H, W] -> [N, C, output_size.h, output_size.w]: output (i, j) is the
// mean of rows floor(i H / OH) .. ceil((i + 1) H / OH) - 1 and likewise for
// columns (PyTorch's windows; 1x1 is the global average pool). ShapeError for
// a bad rank or zero C/H/W, ValueError for an output size < 1.
template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& input, Size2 output_size);

}  // namespace xgrad
