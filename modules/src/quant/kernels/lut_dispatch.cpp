// The lookup-table kernels (float and integer) of the instruction set in use:
// one table of the sets this CPU and build can run, made once, indexed by
// simd_isa() (the one switch of xgrad/quant/simd.hpp, which tests and
// benchmarks use to force each path).
#include "lut_int_kernels.hpp"
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

struct IntKernelSets {
  IntKernels scalar, avx2, avx512;
};

const IntKernelSets& int_kernel_sets() {
  static const IntKernelSets sets = [] {
    IntKernelSets s{int_scalar_kernels(), int_scalar_kernels(), int_scalar_kernels()};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) s.avx2 = s.avx512 = int_avx2_kernels();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vnni")) {
      s.avx512 = int_avx512vnni_kernels();
    }
#endif
    return s;
  }();
  return sets;
}

}  // namespace

const IntKernels& active_int_kernels() {
  const IntKernelSets& sets = int_kernel_sets();
  switch (simd_isa()) {
    case SimdIsa::avx512:
      return sets.avx512;
    case SimdIsa::avx2:
      return sets.avx2;
    default:
      return sets.scalar;
  }
}

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
