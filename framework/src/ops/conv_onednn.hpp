// Float conv2d on oneDNN (private to ops/conv.cpp), when xgrad is built with
// it (meson option onednn). Every call runs oneDNN single-threaded on fixed
// chunks of samples that the batch size alone sets; xgrad's threads take the
// chunks, so each element comes out of the same oneDNN call whatever the
// thread count, and results are the same bits for any thread count.
#pragma once

#include <cstddef>

#include "xgrad/detail/im2col.hpp"

namespace xgrad::detail::onednn {

// The chunks of a batch of n samples: min(n, kConvChunks) chunks, chunk c
// holding samples [n c / chunks, n (c + 1) / chunks).
constexpr std::size_t kConvChunks = 8;

// Each returns false, having written nothing, when it does not run the call:
// built without oneDNN, set to im2col (set_conv_kernels), an empty batch, or
// a shape oneDNN has no kernel for; which, depends on the plan alone.

// y [N, O, OH, OW] = conv(x, w) + bias (bias may be null).
bool forward(const Conv2dPlan& p, const float* x, const float* w, const float* bias, float* y);

// dx [N, C, H, W] = the input gradient for the output gradient gy (overwritten).
bool backward_data(const Conv2dPlan& p, const float* w, const float* gy, float* dx);

// dw [O, C / groups, kh, kw] = the weight gradient (overwritten): each chunk's
// sum on one thread, then the chunks added in chunk order. Memory: one
// partial dW per chunk beyond the first; a dW over 2^18 elements is left to
// im2col (which bounds that memory in its own way).
bool backward_weights(const Conv2dPlan& p, const float* x, const float* gy, float* dw);

}  // namespace xgrad::detail::onednn
