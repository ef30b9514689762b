// The mechanism behind xgrad/blas_kernels.hpp, for tests (internal).
#pragma once

namespace xgrad::detail {

// Asks OpenBLAS for the kernel set `name` through its own selection; false
// when OpenBLAS is not a DYNAMIC_ARCH build or does not know the name. Only
// while no other thread runs an OpenBLAS call.
bool select_openblas_core(const char* name);

// The load-time correction: when OpenBLAS runs its Prescott fallback on a
// CPU with AVX or better and neither OPENBLAS_CORETYPE nor
// XGRAD_KEEP_OPENBLAS_CORE is set, selects the kernels OpenBLAS picks by CPU
// features. True when it changed the kernel set.
bool correct_prescott_fallback();

}  // namespace xgrad::detail
