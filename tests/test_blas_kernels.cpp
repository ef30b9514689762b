// The OpenBLAS kernel set in use (xgrad/blas_kernels.hpp), and the
// correction of OpenBLAS 0.3.21's Prescott fallback, exercised by putting
// OpenBLAS on that fallback here, on whatever CPU runs the suite.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>
#include <strings.h>

#include "test_util.hpp"
#include "xgrad/blas_kernels.hpp"
#include "xgrad/detail/blas_kernels.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_blas_kernels)

using namespace xgrad;

namespace {

bool same_name(const std::string& a, const std::string& b) {
  return strcasecmp(a.c_str(), b.c_str()) == 0;
}

// The kernel set OpenBLAS picks by CPU features ("" without AVX), as
// blas_kernels.cpp computes it.
std::string expected_by_features() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16")) {
    return "Cooperlake";
  }
  if (__builtin_cpu_supports("avx512vl")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
  return "";
}

// Puts OpenBLAS back on the kernel set it had, and the environment as it was.
struct CoreGuard {
  std::string core = blas_kernels().core;
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  std::string saved_env = env ? env : "";
  ~CoreGuard() {
    detail::select_openblas_core(core.c_str());
    if (env) setenv("OPENBLAS_CORETYPE", saved_env.c_str(), 1);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_kernel_set_and_the_library_are_named) {
  const BlasKernels k = blas_kernels();
  BOOST_TEST(!k.core.empty());
  BOOST_TEST(!k.detected.empty());
  BOOST_TEST(xgrad_test::contains(k.config, "OpenBLAS"));
}

BOOST_AUTO_TEST_CASE(a_kernel_set_named_in_the_environment_is_kept) {
  const BlasKernels k = blas_kernels();
  if (const char* env = std::getenv("OPENBLAS_CORETYPE")) {
    BOOST_TEST(!k.corrected);
    BOOST_TEST(same_name(k.core, env));
  } else {
    // Unset: the correction applies exactly to the Prescott fallback on a CPU
    // with AVX (XGRAD_KEEP_OPENBLAS_CORE aside).
    const bool fallback = same_name(k.detected, "Prescott") && !expected_by_features().empty() &&
                          !std::getenv("XGRAD_KEEP_OPENBLAS_CORE");
    BOOST_TEST(k.corrected == fallback);
    BOOST_TEST(same_name(k.core, fallback ? expected_by_features() : k.detected));
  }
}

BOOST_AUTO_TEST_CASE(the_prescott_fallback_is_replaced_by_the_cpus_kernels) {
  const std::string expected = expected_by_features();
  if (expected.empty()) {
    BOOST_TEST_MESSAGE("this CPU has no AVX: Prescott is the right kernel set");
    return;
  }
  CoreGuard guard;
  unsetenv("OPENBLAS_CORETYPE");
  BOOST_TEST_REQUIRE(detail::select_openblas_core("Prescott"));
  BOOST_TEST(detail::correct_prescott_fallback());
  BOOST_TEST(same_name(blas_kernels().core, expected));
  // Products still run, and give the same values as by definition.
  const auto a = tensor<double>({{1, 2}, {3, 4}});
  BOOST_TEST(xgrad_test::equal_arrays(matmul(a, a).data(),
                                      xt::xarray<double>({{7, 10}, {15, 22}})));
}

BOOST_AUTO_TEST_CASE(nothing_changes_when_the_user_opts_out) {
  if (expected_by_features().empty()) return;
  CoreGuard guard;
  unsetenv("OPENBLAS_CORETYPE");
  BOOST_TEST_REQUIRE(detail::select_openblas_core("Prescott"));
  setenv("XGRAD_KEEP_OPENBLAS_CORE", "1", 1);
  BOOST_TEST(!detail::correct_prescott_fallback());
  unsetenv("XGRAD_KEEP_OPENBLAS_CORE");
  BOOST_TEST(same_name(blas_kernels().core, "Prescott"));
}

BOOST_AUTO_TEST_CASE(another_kernel_set_is_left_alone) {
  CoreGuard guard;
  unsetenv("OPENBLAS_CORETYPE");
  BOOST_TEST_REQUIRE(detail::select_openblas_core("Nehalem"));
  BOOST_TEST(!detail::correct_prescott_fallback());
  BOOST_TEST(same_name(blas_kernels().core, "Nehalem"));
}

BOOST_AUTO_TEST_SUITE_END()
