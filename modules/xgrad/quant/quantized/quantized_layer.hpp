// quantized::QuantizedLayer<T>: the one family of integer-weight layers (the
// counterpart of PyTorch's torch.ao.nn.quantized modules). What convert()
// turns a QAT layer into (quantized::Linear, quantized::Conv2d), and
// LinearAPoT (PyTorch's experimental APoT linear, quantized from a float
// weight). Every member stores its weight the same way:
//   weight codes  the code of every weight (buffer "weight_codes", codes
//                 stored as T: exact below 2^24);
//   level table   a LevelSet (levels/level_set.hpp): the level values,
//                 ascending, and the code of each; a code's weight value is
//                 its level;
//   scale         the table's scale (LevelSet::scale), for integer kernels
//                 that apply it once per output (LinearAPoT's gamma);
// and computes its float forward from the dequantized weight levels[codes]
// (cached until a buffer changes), through the input quantizer when it has
// one. Kernels on the codes themselves (LinearAPoT's shift-and-add today,
// packed-code lookup-table kernels next) read the same storage.
//
// A converted layer: the table is distinct_levels of the QAT layer's
// fake-quantized weight (normalized, quantized, rescaled), at most 2^b
// values per tensor for a per-tensor b-bit quantizer, codes 0, 1, 2, ...
// (not stored: a level's code is its position), no scale. The dequantized
// weight is the QAT layer's fake-quantized weight bit for bit, and the input
// passes through the QAT layer's own input quantizer (observer off, fake quant
// on), so in eval a converted layer computes exactly what the QAT layer
// computed with its observers off. State, in state-dict order: buffers
// "weight_codes", "weight_levels", "bias" (when the layer has one), "qconfig";
// child "input_fake_quant" (when the config quantizes inputs).
//
// Loading checks (ValueError, nothing changed): the qconfig name (as for QAT
// layers), levels finite and ascending, level codes distinct integers in
// [0, 2^24), every weight code an integer that is a level's code, the scale
// and bias finite; members add their own (LinearAPoT: its APoT set). The
// layers have no parameters: they are for inference.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/module.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace xgrad::quant::quantized {

// More distinct weight values than this is not a quantized weight.
inline constexpr std::size_t kMaxWeightLevels = std::size_t(1) << 20;

template <class T = float>
class QuantizedLayer : public Module<T> {
 public:
  const Shape& weight_shape() const { return codes_.shape(); }
  // The codes as integers, in the weight's shape (ValueError if the stored
  // state is not usable, as for dequantized_weight).
  xt::xarray<std::int64_t> weight_codes() const;
  // The level table: values ascending, and each one's code.
  const xt::xarray<T>& weight_levels() const { return levels_.data(); }
  xt::xarray<std::int64_t> level_codes() const;
  // The table's scale; 1 when the layer stores none.
  T weight_scale() const;
  // The level of every code, in the weight's shape (cached; rebuilt, after
  // the checks of a load, when a buffer changed).
  Tensor<T> dequantized_weight() const;
  // input_fake_quant(x), or x itself without an input quantizer.
  Tensor<T> quantized_input(const Tensor<T>& x);

  Tensor<T> bias;  // a buffer; undefined without bias
  std::shared_ptr<FakeQuantizeBase<T>> input_fake_quant;

 protected:
  // The state-dict names of the table (the codes are always "weight_codes").
  struct TableKeys {
    std::string levels = "weight_levels";
    std::string codes;  // empty: a level's code is its position (not stored)
    std::string scale;  // empty: no scale stored
    // The table's size is set by the layer's settings (LinearAPoT's b, k),
    // so a load of another size is a ShapeError; else any size loads.
    bool fixed_size = false;
  };
  // A layer's own entries by name as a check sees them: the loaded candidate
  // in check_state, the stored buffers when dequantizing.
  struct StateView {
    std::function<const xt::xarray<T>&(const std::string&)> get;
    std::string where;  // what the messages start with (the layer, where it is)
    const xt::xarray<T>& operator[](const std::string& name) const { return get(name); }
  };

  // A member that registers its storage itself (LinearAPoT), in this order:
  // register_weight_codes, its own buffers, register_weight_table,
  // register_bias.
  QuantizedLayer(std::string type_name, TableKeys keys);
  // From a QAT layer: computes its fake-quantized weight with the weight
  // observer off (the layer is left as it was) and takes its input quantizer
  // object. StateError when the weight quantizer has fake quant disabled or no
  // qparams; ValueError for a NaN weight or more than kMaxWeightLevels levels.
  QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer);
  // Empty (all codes 0, one level 0), with fresh quantizers from `qconfig`: a
  // model to load a converted checkpoint into.
  QuantizedLayer(std::string type_name, const Shape& weight_shape, bool bias,
                 const QConfig<T>& qconfig);

  void register_weight_codes(xt::xarray<T> codes);
  void register_weight_table(const LevelSet& table);
  void register_bias(const Tensor<T>& b);

  // The checks a usable weight passes (see the header comment); a member
  // adds its own after calling this one. ValueError naming the key.
  virtual void check_weight(const StateView& state) const;
  void check_state(const typename Module<T>::StateCandidate& state) const override;

  // The validated codes (cached with the dequantized weight).
  const xt::xarray<std::int64_t>& checked_codes() const;

 private:
  void refresh() const;

  TableKeys keys_;
  Tensor<T> codes_, levels_, level_codes_, scale_, qconfig_tag_;
  mutable Tensor<T> weight_cache_;
  mutable xt::xarray<std::int64_t> codes_cache_;
  mutable std::vector<std::uint64_t> cache_versions_;
};

extern template class QuantizedLayer<float>;
extern template class QuantizedLayer<double>;

}  // namespace xgrad::quant::quantized
