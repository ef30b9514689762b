// The quantization kernels for AVX2 (+ BMI2), compiled with -mavx2 -mbmi2.
#include "simd_kernels.hpp"

namespace xgrad {
namespace quant {
namespace detail {
namespace simd {

Kernels avx2_kernels() { return {&apot_kernel<Avx2>, &uniform_kernel<Avx2>}; }

}  // namespace simd
}  // namespace detail
}  // namespace quant
}  // namespace xgrad
