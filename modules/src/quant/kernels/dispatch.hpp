// The one dispatch point of the quantization kernels (internal): the kernel
// table of the instruction set in use, chosen once at load time from the
// CPU's features (or by set_simd_isa, kernels/simd_isa.hpp). Only the kernels'
// entry points (affine.cpp, apot.cpp, and qat/weight_norm.cpp for the fused
// RCF weight path's loops) read it.
#pragma once

#include "kernel_table.hpp"

namespace xgrad::quant::detail {

const KernelTable& kernel_table();

}  // namespace xgrad::quant::detail
