// quantized::QuantizedLayer<T>: what convert() turns a QAT layer into (the
// counterpart of PyTorch's torch.ao.nn.quantized modules). The weight is
// stored as integer codes into a table of level values:
//   weight_levels: the distinct values of the QAT layer's fake-quantized
//                  weight (normalized, quantized, rescaled), ascending;
//   weight_codes:  for every weight, the index of its value in weight_levels
//                  (at most 2^b distinct values per tensor for a per-tensor
//                  b-bit quantizer; per channel, 2^b per channel).
// The dequantized weight levels[codes] is the QAT layer's fake-quantized
// weight bit for bit, and the input passes through the QAT layer's own input
// quantizer (observer off, fake quant on), so in eval a converted layer
// computes exactly what the QAT layer computed with its observers off.
//
// State, in state-dict order: buffers "weight_codes" (codes stored as T, exact
// below 2^24), "weight_levels", "bias" (when the layer has one), "qconfig";
// child "input_fake_quant" (when the config quantizes inputs). Loading checks
// the qconfig name (ValueError as for QAT layers), and that every code is an
// integer in [0, size(weight_levels)) and the levels finite and ascending
// (ValueError); nothing changes on a refused load. The layer has no
// parameters: it is for inference.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/module.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace xgrad::quant::quantized {

// More distinct weight values than this is not a quantized weight.
inline constexpr std::size_t kMaxWeightLevels = std::size_t(1) << 20;

template <class T = float>
class QuantizedLayer : public Module<T> {
 public:
  // The codes as integers, in the weight's shape.
  xt::xarray<std::int64_t> weight_codes() const;
  const xt::xarray<T>& weight_levels() const { return levels_.data(); }
  // levels[codes], in the weight's shape (cached until the buffers change).
  Tensor<T> dequantized_weight() const;
  // input_fake_quant(x), or x itself without an input quantizer.
  Tensor<T> quantized_input(const Tensor<T>& x);

  Tensor<T> bias;  // a buffer; undefined without bias
  std::shared_ptr<FakeQuantizeBase<T>> input_fake_quant;

 protected:
  // From a QAT layer: computes its fake-quantized weight with the weight
  // observer off (the layer is left as it was) and takes its input quantizer
  // object. StateError when the weight quantizer has fake quant disabled or no
  // qparams; ValueError for a NaN weight or more than kMaxWeightLevels levels.
  QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer);
  // Empty (all codes 0, one level 0), with fresh quantizers from `qconfig`: a
  // model to load a converted checkpoint into.
  QuantizedLayer(std::string type_name, const Shape& weight_shape, bool bias,
                 const QConfig<T>& qconfig);

  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  void register_state(xt::xarray<T> codes, xt::xarray<T> levels, Tensor<T> bias,
                      const std::string& qconfig_name,
                      std::shared_ptr<FakeQuantizeBase<T>> input_quant);

  Tensor<T> codes_, levels_, qconfig_tag_;
  mutable Tensor<T> weight_cache_;
  mutable std::uint64_t codes_version_ = ~std::uint64_t(0), levels_version_ = ~std::uint64_t(0);
};

extern template class QuantizedLayer<float>;
extern template class QuantizedLayer<double>;

}  // namespace xgrad::quant::quantized
