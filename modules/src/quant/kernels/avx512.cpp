// The quantization kernels for AVX-512 F + BW + VL, compiled with those flags.
#include "simd_kernels.hpp"

namespace xgrad::quant::detail {

KernelTable avx512_kernels() {
  return {&apot_kernel<Avx512>,   &affine_kernel<Avx512>,    &rcf_normalize_kernel<Avx512>,
          &rcf_chunk_sums_kernel, &rcf_scale_kernel<Avx512>, &rcf_weight_grad_kernel<Avx512>};
}

}  // namespace xgrad::quant::detail
