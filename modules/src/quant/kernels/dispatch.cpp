// Picks the quantization kernels' instruction set once, from the CPU's
// features (__builtin_cpu_supports), and hands out its kernel table.
#include "dispatch.hpp"

#include <string>

#include "../enum_name.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace xgrad::quant {

namespace {

bool cpu_supports(SimdIsa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();  // may run from a static initializer, before libgcc's
  switch (isa) {
    case SimdIsa::scalar:
      return true;
    case SimdIsa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2");
    case SimdIsa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return isa == SimdIsa::scalar;
#endif
}

detail::KernelTable kernels_of(SimdIsa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == SimdIsa::avx512) return detail::avx512_kernels();
  if (isa == SimdIsa::avx2) return detail::avx2_kernels();
#endif
  return {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
}

struct Active {
  SimdIsa isa;
  detail::KernelTable kernels;
};

Active& active() {
  static Active a = [] {
    const std::vector<SimdIsa> isas = supported_simd_isas();
    return Active{isas.back(), kernels_of(isas.back())};
  }();
  return a;
}

}  // namespace

const char* to_string(SimdIsa isa) { return detail::enum_name(isa, {"scalar", "avx2", "avx512"}); }

std::vector<SimdIsa> supported_simd_isas() {
  std::vector<SimdIsa> isas;
  for (SimdIsa isa : {SimdIsa::scalar, SimdIsa::avx2, SimdIsa::avx512}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

SimdIsa simd_isa() { return active().isa; }

void set_simd_isa(SimdIsa isa) {
  XGRAD_CHECK(cpu_supports(isa), ValueError, "set_simd_isa: ", to_string(isa),
              " is not supported by this CPU or build");
  active() = Active{isa, kernels_of(isa)};
}

const detail::KernelTable& detail::kernel_table() { return active().kernels; }

}  // namespace xgrad::quant
