// The gradient scale of a learnable quantization parameter (LSQ, Esser et
// al. 2020): the step's (or clipping value's) gradient is multiplied by
// 1 / sqrt(numel * top_code), numel the quantized tensor's size and top_code
// the top integer level (2^b - 1 unsigned, 2^(b-1) - 1 signed; LSQ's
// quant_max), so it learns at the pace of the weights. Used by
// LearnableFakeQuantize (use_grad_scaling) and RCFFakeQuantize
// (RCFOptions::lsq_grad_scale).
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::quant {

// 1 / sqrt(numel * top_code) in double; ValueError unless both are > 0.
double lsq_grad_scale(std::size_t numel, std::int64_t top_code);

}  // namespace xgrad::quant
