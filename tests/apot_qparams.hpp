// APoT qparams for the quantization tests: those of an APoTObserver(b, k)
// that has seen the range [lo, hi].
#pragma once

#include "xgrad/quant/observers/apot_observer.hpp"

namespace xgrad_test {

template <class T>
xgrad::quant::APoTQParams<T> apot_qparams(
    T lo, T hi, int b, int k,
    xgrad::quant::LevelScheme scheme = xgrad::quant::LevelScheme::unsigned_levels) {
  xgrad::quant::APoTObserver<T> observer(b, k);
  observer.set_min_val(lo);
  observer.set_max_val(hi);
  return observer.calculate_qparams(scheme);
}

}  // namespace xgrad_test
