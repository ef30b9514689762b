// Conv-BatchNorm folding for inference (PyTorch's
// torch.nn.utils.fusion.fuse_conv_bn_eval): one Conv2d that computes
// bn(conv(x)) with bn in eval mode (its running statistics), per output
// channel o, with s = gamma[o] / sqrt(running_var[o] + eps):
//   W'[o] = W[o] * s,   b'[o] = (b[o] - running_mean[o]) * s + beta[o]
// (b = 0 without a conv bias, gamma = 1 and beta = 0 without affine). The
// folding is computed in double and rounded once to T, so the fused output
// differs from conv then bn only by float rounding: a few ulps of the
// output's scale (the tests bound it at 1e-5 relative for float, 1e-12 for
// double).
#pragma once

#include <memory>

#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"

namespace xgrad::nn {

// A new Conv2d (conv's options, with a bias); conv and bn are read, never
// modified. ShapeError when bn.num_features() != conv's out_channels;
// ValueError when bn has no running statistics (track_running_stats false).
template <class T>
std::shared_ptr<Conv2d<T>> fuse_conv_bn(const Conv2d<T>& conv, const BatchNorm2d<T>& bn);

}  // namespace xgrad::nn
