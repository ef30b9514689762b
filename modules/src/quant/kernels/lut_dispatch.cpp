// The lookup-table kernels (float and integer) of the instruction set in use:
// one table of the sets this CPU and build can run, made once, indexed by
// simd_isa() (the one switch of xgrad/quant/kernels/simd_isa.hpp, which tests and
// benchmarks use to force each path).
#include "lut_int_kernels.hpp"
#include "lut_kernels.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace xgrad::quant::kernels {

namespace {

// One kernel set per value of SimdIsa.
template <class K>
struct KernelSets {
  K scalar, avx2, avx512;
  const K& of(SimdIsa isa) const {
    return isa == SimdIsa::avx512 ? avx512 : isa == SimdIsa::avx2 ? avx2 : scalar;
  }
};

// simd_isa() never names a set the CPU lacks. The float kernels also need
// FMA (every AVX2 CPU of Intel and AMD has it); AVX-512 takes AVX2's integer
// kernels on CPUs without VNNI.
const KernelSets<LutKernels>& lut_kernel_sets() {
  static const KernelSets<LutKernels> sets = [] {
    KernelSets<LutKernels> s{lut_scalar_kernels(), lut_scalar_kernels(), lut_scalar_kernels()};
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("fma")) {
      s.avx2 = lut_avx2_kernels();
      s.avx512 = lut_avx512_kernels();
    }
#endif
    return s;
  }();
  return sets;
}

const KernelSets<IntKernels>& int_kernel_sets() {
  static const KernelSets<IntKernels> sets = [] {
    KernelSets<IntKernels> s{int_scalar_kernels(), int_scalar_kernels(), int_scalar_kernels()};
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

const LutKernels& active_lut_kernels() { return lut_kernel_sets().of(simd_isa()); }

const IntKernels& active_int_kernels() { return int_kernel_sets().of(simd_isa()); }

}  // namespace xgrad::quant::kernels
