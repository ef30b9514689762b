// The kernels of the instruction set chosen by dispatch.cpp (internal). A
// null pointer means: use the scalar reference.
#pragma once

#include "kernel_table.hpp"

namespace xgrad::quant::detail::simd {

const Kernels& active_kernels();

}  // namespace xgrad::quant::detail::simd
