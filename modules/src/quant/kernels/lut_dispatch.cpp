// The lookup-table kernels of the instruction set in use: one table of the
// sets this CPU and build can run, made once, indexed by simd_isa() (the one
// switch of xgrad/quant/simd.hpp, which tests and benchmarks use to force
// each path).
#include "lut_kernels.hpp"
#include "xgrad/quant/simd.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

namespace {

struct LutKernelSets {
  LutKernels scalar, avx2, avx512;
};

const LutKernelSets& lut_kernel_sets() {
  static const LutKernelSets sets = [] {
    LutKernelSets s{lut_scalar_kernels(), lut_scalar_kernels(), lut_scalar_kernels()};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    // simd_isa() never names a set the CPU lacks; AVX2's kernels also need
    // FMA, which every AVX2 CPU of Intel and AMD has.
    if (__builtin_cpu_supports("fma")) {
      s.avx2 = lut_avx2_kernels();
      s.avx512 = lut_avx512_kernels();
    }
#endif
    return s;
  }();
  return sets;
}

}  // namespace

const LutKernels& active_lut_kernels() {
  const LutKernelSets& sets = lut_kernel_sets();
  switch (simd_isa()) {
    case SimdIsa::avx512:
      return sets.avx512;
    case SimdIsa::avx2:
      return sets.avx2;
    default:
      return sets.scalar;
  }
}

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
