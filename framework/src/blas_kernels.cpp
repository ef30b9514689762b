// The Prescott fallback correction of blas_kernels.hpp. OpenBLAS's entry
// points are looked up at run time (dlsym), not linked: gotoblas_dynamic_init
// exists only in DYNAMIC_ARCH builds, and xgrad must load without it.
#include "xgrad/blas_kernels.hpp"

#include <dlfcn.h>

#include "xgrad/detail/blas_kernels.hpp"

#include <cstdlib>
#include <strings.h>

namespace xgrad {

namespace {

template <class F>
F openblas_entry(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

std::string corename() {
  const auto get = openblas_entry<char* (*)()>("openblas_get_corename");
  const char* name = get ? get() : nullptr;
  return name ? name : "";
}

// The kernel set OpenBLAS 0.3.21 picks by CPU features for a model its table
// does not know (dynamic.c, gotoblas_dynamic_init); nullptr without AVX.
const char* by_cpu_features() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16")) {
    return "Cooperlake";
  }
  if (__builtin_cpu_supports("avx512vl")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return nullptr;
}

struct State {
  std::string detected;
  bool corrected = false;
};

// Runs once, while the library loads (before main for a linked program).
const State& load_state() {
  static const State state = [] {
    State s{corename(), false};
    s.corrected = detail::correct_prescott_fallback();
    return s;
  }();
  return state;
}

const bool corrected_at_load = (load_state(), true);

}  // namespace

namespace detail {

bool select_openblas_core(const char* name) {
  const auto quit = openblas_entry<void (*)()>("gotoblas_dynamic_quit");
  const auto init = openblas_entry<void (*)()>("gotoblas_dynamic_init");
  if (!quit || !init) return false;
  // OpenBLAS's own selection, as if the user had set the variable: quit
  // clears the table pointer, init picks the named kernels and sets their
  // parameters. The buffers do not depend on the kernel set (BUFFER_SIZE is
  // one constant per build), so no allocation is affected.
  setenv("OPENBLAS_CORETYPE", name, 1);
  quit();
  init();
  unsetenv("OPENBLAS_CORETYPE");
  return strcasecmp(corename().c_str(), name) == 0;
}

bool correct_prescott_fallback() {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("XGRAD_KEEP_OPENBLAS_CORE")) return false;
  if (strcasecmp(corename().c_str(), "Prescott") != 0) return false;
  const char* better = by_cpu_features();
  return better && select_openblas_core(better);
}

}  // namespace detail

BlasKernels blas_kernels() {
  const auto config = openblas_entry<char* (*)()>("openblas_get_config");
  const char* text = config ? config() : nullptr;
  return BlasKernels{corename(), load_state().detected, load_state().corrected,
                     text ? text : ""};
}

}  // namespace xgrad
