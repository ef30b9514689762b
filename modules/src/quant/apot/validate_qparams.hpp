// The check every APoT entry point runs on its qparams (internal): quantize_APoT,
// quant_dequant, fake_quantize_function and APoTFakeQuantize's load.
#pragma once

#include <cstdint>
#include <xtensor/xarray.hpp>

namespace xgrad::quant::detail {

// ValueError (naming op) unless alpha is finite and >= 0, gamma finite, the
// levels a non-empty 1-D ascending array of finite values and the indices
// one distinct code in [0, 2^24) per level.
template <class T>
void validate_qparams(T alpha, T gamma, const xt::xarray<T>& levels,
                      const xt::xarray<std::int64_t>& indices, const char* op);

}  // namespace xgrad::quant::detail
