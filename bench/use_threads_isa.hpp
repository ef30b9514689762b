// Sets xgrad's thread count and the quantization kernels' instruction set for
// the duration of a benchmark case and puts both back when it ends.
#pragma once

#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace bench {

struct UseThreadsAndIsa {
  int saved_threads = xgrad::get_num_threads();
  xgrad::quant::SimdIsa saved_isa = xgrad::quant::simd_isa();
  UseThreadsAndIsa(int threads, xgrad::quant::SimdIsa isa) {
    xgrad::set_num_threads(threads);
    xgrad::quant::set_simd_isa(isa);
  }
  ~UseThreadsAndIsa() {
    xgrad::quant::set_simd_isa(saved_isa);
    xgrad::set_num_threads(saved_threads);  // OpenBLAS's count too
  }
  UseThreadsAndIsa(const UseThreadsAndIsa&) = delete;
  UseThreadsAndIsa& operator=(const UseThreadsAndIsa&) = delete;
};

}  // namespace bench
