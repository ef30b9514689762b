// Puts back the quantization kernels' instruction set and the thread count
// that a test case switches (set_simd_isa, set_num_threads), however the case
// ends.
#pragma once

#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace xgrad_test {

struct IsaGuard {
  xgrad::quant::SimdIsa saved = xgrad::quant::simd_isa();
  int threads = xgrad::get_num_threads();
  ~IsaGuard() {
    xgrad::quant::set_simd_isa(saved);
    xgrad::set_num_threads(threads);
  }
};

}  // namespace xgrad_test
