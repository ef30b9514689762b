// The quantization kernels for AVX2 (+ BMI2), compiled with -mavx2 -mbmi2.
#include "simd_kernels.hpp"

namespace xgrad::quant::detail {

KernelTable avx2_kernels() {
  return {&apot_kernel<Avx2>,     &affine_kernel<Avx2>,    &rcf_normalize_kernel<Avx2>,
          &rcf_chunk_sums_kernel, &rcf_scale_kernel<Avx2>, &rcf_weight_grad_kernel<Avx2>};
}

}  // namespace xgrad::quant::detail
