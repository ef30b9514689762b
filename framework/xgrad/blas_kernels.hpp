// Which OpenBLAS kernel set xgrad's matrix products run on.
//
// Debian's OpenBLAS (a DYNAMIC_ARCH build) picks its kernels by the CPU when
// it loads. Version 0.3.21 does not recognize some newer CPUs (Intel models
// its table lacks, such as family 6 model 0xCF) and falls back to its SSE3
// "Prescott" kernels, which run matrix products 2-3x slower than the AVX2 or
// AVX-512 kernels the CPU supports. When xgrad loads and finds that fallback
// on a CPU with AVX or better, it asks OpenBLAS for the kernels OpenBLAS
// itself picks by CPU features for models it does not know (Cooperlake with
// AVX-512 BF16, else SkylakeX with AVX-512, Haswell with AVX2, Sandybridge
// with AVX), through OpenBLAS's own selection (gotoblas_dynamic_init with
// OPENBLAS_CORETYPE set for that one call), before any product runs.
//
// It changes nothing when OPENBLAS_CORETYPE is set (the user's choice), when
// XGRAD_KEEP_OPENBLAS_CORE is set (to anything), when OpenBLAS chose anything
// but Prescott, or when the OpenBLAS in the process is not a DYNAMIC_ARCH
// build. It happens while the library loads: a program that dlopens xgrad
// while another of its threads is inside an OpenBLAS call should set one of
// the two variables.
#pragma once

#include <string>

namespace xgrad {

struct BlasKernels {
  std::string core;      // the kernel set in use, as OpenBLAS names it ("Haswell", ...)
  std::string detected;  // the set OpenBLAS picked by itself when it loaded
  bool corrected;        // xgrad replaced a Prescott fallback (see above)
  std::string config;    // openblas_get_config(): version and build options
};

// The kernel set in use and how it was chosen.
BlasKernels blas_kernels();

}  // namespace xgrad
