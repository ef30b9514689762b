// The kernels of the instruction set chosen by dispatch.cpp (internal). A
// null pointer means: use the scalar reference.
#pragma once

#include "kernel_table.hpp"

namespace xgrad {
namespace quant {
namespace detail {
namespace simd {

const Kernels& active_kernels();

}  // namespace simd
}  // namespace detail
}  // namespace quant
}  // namespace xgrad
