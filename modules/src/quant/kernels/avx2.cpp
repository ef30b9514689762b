// The quantization kernels for AVX2 (+ BMI2), compiled with -mavx2 -mbmi2.
#include "simd_kernels.hpp"

namespace xgrad::quant::detail::simd {

Kernels avx2_kernels() { return {&apot_kernel<Avx2>, &uniform_kernel<Avx2>}; }

}  // namespace xgrad::quant::detail::simd
