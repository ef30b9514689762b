// Scale and zero point of a uniform (affine) grid from an observed range, as
// PyTorch's observers compute them (UniformQuantizationObserverBase.
// _calculate_qparams): shared by MinMaxObserver, its subclasses and
// PerChannelMinMaxObserver (one call per channel).
#pragma once

#include <cstdint>
#include <optional>

#include "xgrad/quant/observers/qscheme.hpp"

namespace xgrad::quant {

// What calculate_qparams returns; usable with structured bindings:
// auto [scale, zero_point] = observer.calculate_qparams();
template <class T>
struct UniformQParams {
  T scale;
  std::int64_t zero_point;
};

// An observer's integer range: the dtype's, or a custom one (customized).
struct QuantRange {
  std::int64_t quant_min, quant_max;
  bool customized;
};

// The dtype's range unless quant_min / quant_max are given; a custom range must
// be given as both bounds, lie within the dtype's range, contain 0 and have
// quant_min < quant_max (ValueError naming op otherwise, as PyTorch's assertions).
QuantRange resolve_quant_range(QuantDtype dtype, std::optional<std::int64_t> quant_min,
                               std::optional<std::int64_t> quant_max, const char* op);

// PyTorch's ObserverBase._calculate_qparams for one (min, max) pair, in T's
// arithmetic (bit for bit with PyTorch for float): symmetric schemes use
// max(-min_neg, max_pos) / ((quant_max - quant_min) / 2) and zero point 0 (qint8)
// or 128 / the custom range's midpoint (quint8); affine schemes (max_pos -
// min_neg) / (quant_max - quant_min) and quant_min - round(min_neg / scale),
// clamped; the scale is at least float32's eps. ValueError (naming op) if min
// > max, either is NaN, or the scale overflows.
template <class T>
UniformQParams<T> uniform_qparams(T min_val, T max_val, QuantDtype dtype, QScheme qscheme,
                                  const QuantRange& range, const char* op);

}  // namespace xgrad::quant
