// What the quantization exporters share (internal to libxgrad_onnx): the
// frozen-quantizer check, a layer's input quantizer, the graph's form of a
// uniform grid and of the nearest APoT level, and a converted layer's weight
// as codes gathered from its level table.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../export_context.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::onnx::detail {

// StateError naming the quantizer's path when any fake quantizer in the
// call's module (itself included) has its observer on: its forward would
// still move its qparams, which a graph cannot.
template <class T>
void require_frozen(const ExportCall<T>& c);

// The layer's input as its input quantizer leaves it (exported at
// "<path>.input_fake_quant" through the registry), or the input itself.
template <class T>
Value<T> quantized_input(ExportContext<T>& ctx, const ExportCall<T>& c,
                         const std::shared_ptr<quant::FakeQuantizeBase<T>>& quantizer);

// A uniform grid, per tensor (axis < 0: one scale and zero point) or per
// channel along `axis` of a rank-`rank` tensor:
//   y = (clamp(zero_point + round_half_even(x * (1 / scale)), quant_min, quant_max)
//        - zero_point) * scale,
// xgrad's formula, with 1 / scale rounded in the model's type as xgrad does.
template <class T>
std::string uniform_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                          std::size_t rank, const std::vector<T>& scale,
                          const std::vector<std::int64_t>& zero_point, std::int64_t axis,
                          std::int64_t quant_min, std::int64_t quant_max, const std::string& where);

// y = the level nearest to clip(x, levels[0], levels[L - 1]), distances in
// the model's type, the lowest level among equal distances (xgrad's rule).
template <class T>
std::string nearest_level_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                                std::size_t rank, const std::vector<T>& levels);

// The weight of a converted layer: its codes as a uint8 initializer
// "<path>.weight_codes" (weight's shape), Cast to int64, gathered from the
// level table ("<path>.weight_table") - the values xgrad's layer computes with.
template <class T>
std::string weight_from_codes(GraphBuilder& g, const std::string& path,
                              const quant::quantized::QuantizedLayer<T>& layer);

}  // namespace xgrad::onnx::detail
