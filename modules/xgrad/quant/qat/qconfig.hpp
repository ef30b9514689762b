// QConfig<T>: how prepare_qat quantizes a layer (PyTorch's QConfig): two
// factories of fake quantizers, one for the layer's weight and one for its
// input activation, plus the paper's weight normalization.
//
//   auto cfg = quant::apot_rcf_qconfig<float>(4);   // 4-bit APoT, learnable alpha
//   auto cfg8 = quant::uniform_qconfig<float>(8);   // 8-bit min/max uniform
//   auto mine = quant::make_qconfig<float>({QuantMethod::uniform_lsq, 3, true},
//                                          QuantizerSpec{QuantMethod::uniform_lsq, 3});
//
// Each QAT layer calls the factories once, so every layer owns its own
// quantizers. A hand-written QConfig may use any factory (PyTorch's
// `with_args`); its `name` is what a QAT layer saves to recognize its
// configuration when a state dict is loaded (see qat/fake_quantized_layer.hpp):
// give different configurations different names.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/observers/clip_observers.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::quant {

// An input quantizer factory takes nothing; a weight quantizer factory gets
// the weight's shape (a per-channel LSQ quantizer needs its channel count, as
// PyTorch's _LearnableFakeQuantize(channel_len=...) does: a deliberate
// difference from PyTorch's shape-free QConfig factories).
template <class T>
using FakeQuantizeFactory = std::function<std::shared_ptr<FakeQuantizeBase<T>>()>;
template <class T>
using WeightFakeQuantizeFactory =
    std::function<std::shared_ptr<FakeQuantizeBase<T>>(const Shape& weight_shape)>;

// What a QAT layer does to its float weight before the weight quantizer
// (docs/apot-training.md, "Weight normalization"): nothing; W' = (W - mean) /
// (std + eps) with gradients through mean and std (unbiased std, as the
// authors' code); or that, with the quantized weight multiplied back by std(W)
// (detached, as in docs/experiment.md) for layers without a BatchNorm after them.
enum class WeightNorm { none, standardize, standardize_rescale };
const char* to_string(WeightNorm norm);

// The four quantizer families of a ready-made config.
enum class QuantMethod {
  apot_fixed,   // APoTFakeQuantize, k = 2: alpha from the observed max, not trained
  apot_rcf,     // APoT with a learnable clipping alpha (RCF)
  uniform,      // FakeQuantize: min/max observer, affine (unsigned) or symmetric (signed)
  uniform_lsq,  // learnable step and zero point (LSQ, PyTorch's _LearnableFakeQuantize)
};
const char* to_string(QuantMethod method);

// The normalized level set of an apot_rcf quantizer (levels/level_set.hpp):
// the paper's APoT sets, the uniform grid, or powers of two. At 2 bits the
// signed sets are all ternary {-1, 0, 1}; the unsigned ones differ: APoT and
// powers of two {0, 1/4, 1/2, 1}, uniform {0, 1/3, 2/3, 1}.
enum class LevelFamily { apot, uniform, power_of_two };
const char* to_string(LevelFamily family);

// One quantizer: method, bits and scheme. is_signed: weights (APoT: the
// paper's sign-magnitude set; uniform: a symmetric signed range), else
// unsigned (activations after ReLU). per_channel (apot_rcf and the uniform
// methods) quantizes each slice along ch_axis with its own range (apot_rcf:
// its own learnable alpha, RCFOptions::channel_len).
// The training recipe (docs/quantization.md, "Recipe options"); the defaults
// are the paper's (apot_rcf) and PyTorch's (uniform_lsq):
//   narrow_range   uniform signed: [-(2^(b-1) - 1), 2^(b-1) - 1], step max|W| /
//                  (2^(b-1) - 1), instead of [-2^(b-1), 2^(b-1) - 1];
//   init           the observer of the initial clipping value (observers/
//                  clip_observers.hpp); apot_rcf: alpha (default fixed 3 for
//                  signed, max_abs for unsigned); uniform_lsq: the step times
//                  quant_max, zero point 0 (default: PyTorch's min/max observer);
//   percentile     of |x|, for init = percentile;
//   lsq_grad_scale apot_rcf: alpha's gradient times 1 / sqrt(numel * top_code),
//                  as LSQ scales its step's (uniform_lsq always does);
//   levels         apot_rcf: the level family.
struct QuantizerSpec {
  QuantMethod method = QuantMethod::apot_rcf;
  int bits = 4;
  bool is_signed = false;
  bool per_channel = false;
  int ch_axis = 0;
  bool narrow_range = false;
  std::optional<AlphaInit> init = std::nullopt;
  double percentile = 99.9;
  bool lsq_grad_scale = false;
  LevelFamily levels = LevelFamily::apot;
};
// e.g. "apot_rcf(b=4,signed)", "uniform(b=8,unsigned,per_channel@0)"; recipe
// options appear only when not their default ("apot_rcf(b=2,unsigned,
// init=mse,grad=lsq,levels=uniform)"), so older names still match.
std::string to_string(const QuantizerSpec& spec);

// A fresh quantizer for `spec`, for a tensor of `shape` (needed by per-channel
// LSQ and per-channel RCF: shape[ch_axis] channels). ValueError when bits or the scheme do not
// suit the method (APoT activations need an even b with k = 2; APoT signed
// b >= 2; uniform 2 <= b <= 8; per_channel on apot_fixed; ch_axis < 0), or
// a recipe option the method does not have (narrow_range: uniform signed
// only; init: apot_rcf and uniform_lsq only, not fixed for uniform_lsq, per
// tensor for uniform_lsq;
// lsq_grad_scale, levels: apot_rcf only; percentile outside (0, 100]);
// ShapeError when per-channel LSQ gets a shape without axis ch_axis.
// Quantizers: apot_fixed APoTFakeQuantize(b, 2, sign_magnitude / unsigned);
// apot_rcf RCFFakeQuantize on apot_sign_magnitude_levels(b) with alpha 3 fixed
// (standardized weights; per_channel: one alpha per slice along ch_axis), or
// apot_unsigned_levels(b, 2) with alpha from the running max |x| (inputs); uniform FakeQuantize
// (signed: qint8 symmetric
// [-2^(b-1), 2^(b-1) - 1]; unsigned: quint8 affine [0, 2^b - 1]) or
// PerChannelFakeQuantize; uniform_lsq LearnableFakeQuantize on the same ranges
// with LSQ's gradient scaling.
template <class T>
std::shared_ptr<FakeQuantizeBase<T>> make_fake_quantize(const QuantizerSpec& spec,
                                                        const Shape& shape = {});

template <class T = float>
struct QConfig {
  FakeQuantizeFactory<T> activation;    // the input quantizer; empty: inputs stay float
  WeightFakeQuantizeFactory<T> weight;  // empty: prepare_qat leaves the layer float
  WeightNorm weight_norm = WeightNorm::none;
  double weight_norm_eps = 1e-5;
  std::string name;  // describes the configuration; saved by every QAT layer
};

// A config from specs (the factories call make_fake_quantize); the name lists
// them and the normalization. Validates by building each quantizer once:
// ValueError as make_fake_quantize, or for eps <= 0.
template <class T>
QConfig<T> make_qconfig(const QuantizerSpec& weight, const std::optional<QuantizerSpec>& activation,
                        WeightNorm norm = WeightNorm::none, double eps = 1e-5);

// Ready-made configs, `bits` for weights and inputs alike:
// APoT with alphas from observed ranges (weights sign-magnitude, inputs unsigned);
template <class T>
QConfig<T> apot_fixed_qconfig(int bits = 4);
// the paper's method: RCF on weights and inputs, weights standardized (and
// rescaled by std unless a BatchNorm follows: rescale = false);
template <class T>
QConfig<T> apot_rcf_qconfig(int bits = 4, bool rescale = true);
// min/max uniform (weights symmetric signed, inputs affine unsigned);
template <class T>
QConfig<T> uniform_qconfig(int bits = 8, bool per_channel_weights = false);
// LSQ on weights and inputs.
template <class T>
QConfig<T> uniform_lsq_qconfig(int bits = 4, bool per_channel_weights = false);
// The name as a 1-D array of character codes (exact in float and double): the
// "qconfig" buffer QAT and converted layers save. decode is the inverse
// (ValueError for an element that is not a character code).
template <class T>
xt::xarray<T> encode_qconfig_name(const std::string& name);
template <class T>
std::string decode_qconfig_name(const xt::xarray<T>& codes);
// A layer's check_state step: ValueError (naming `layer`, both configs and
// the fix) when the "qconfig" entry a load would leave (`loaded`) is not `own`.
template <class T>
void check_qconfig_entry(const std::string& layer, const Tensor<T>& own,
                         const xt::xarray<T>& loaded);

// Leaves a layer float (PyTorch's qconfig None), for per-layer overrides.
template <class T>
QConfig<T> float_qconfig() {
  return QConfig<T>{};
}

}  // namespace xgrad::quant
