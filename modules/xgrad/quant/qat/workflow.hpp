// The QAT workflow (PyTorch's torch.ao.quantization prepare_qat / convert):
//
//   auto model = make_model();                       // nn::Linear / nn::Conv2d inside
//   xgrad::load(*model, "float.npz");                // 1. the float checkpoint, first
//   quant::prepare_qat(*model, quant::apot_rcf_qconfig<float>(4),
//                      {{"0", quant::uniform_qconfig<float>(8)}});   // per-layer override
//   quant::calibrate(*model, calibration_batches);   // 2. observers on, fake quant off
//   quant::freeze(*model);                           // 3. observers off, fake quant on
//   optim::Adam<float> opt(quant::qat_param_groups(*model, 1e-3), ...); // 4. train
//   ... loss.backward(); opt.step(); quant::clamp_alpha_(*model);    //    (alphas are params)
//   quant::convert(*model);                          // 5. integer-weight inference layers
//   xgrad::save(*model, "quantized.npz");
//
// A float checkpoint also loads into an already prepared model non-strictly:
// model.load_state_dict(float_dict, /*strict=*/false) fills every "weight" /
// "bias" (their names do not change) and leaves the quantizers' state alone.
// A QAT checkpoint loads strictly into a model prepared with the same configs;
// another config is a ValueError (keys, shapes or the saved "qconfig" name
// differ), with nothing changed. A converted checkpoint loads into a model
// prepared the same way and converted with ConvertMode::empty.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/module.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace xgrad::quant {

// Swaps every nn::Linear and nn::Conv2d below `model` (at any depth: nested
// Sequentials and user modules) for qat::Linear / qat::Conv2d built with
// from_float (the float weight tensors are kept, not copied), using
// overrides[dotted name] where given (a config without a weight factory,
// e.g. float_qconfig(), leaves that layer float), else `qconfig`. A layer
// shared by two parents becomes one QAT layer in both. Member handles of user
// modules that point at swapped layers are not refreshed (libtorch's
// replace_module contract). A layer that a BatchNorm follows directly in an
// nn::Sequential gets `qconfig` without the weight normalization's std
// rescale (apot_rcf_qconfig(b, false): the BatchNorm normalizes the scale
// anyway); overrides apply as given, and in modules of your own, whose
// forward order prepare_qat cannot see, pass that config as an override.
// Errors, with nothing changed: ValueError when an
// override names no nn::Linear / nn::Conv2d of the model, when there is
// nothing to swap (no such layer, e.g. an already prepared model), when
// `model` itself is a Linear / Conv2d (swap it in its parent), or as the
// layers' from_float.
template <class T>
void prepare_qat(Module<T>& model, const QConfig<T>& qconfig,
                 const std::map<std::string, QConfig<T>>& overrides = {});

// Calibration: turns every observer on and every fake quant off, then runs
// model.forward on each batch without recording gradients. Observers stay on.
// Errors as model.forward (e.g. ShapeError for a batch of the wrong width),
// with the model's state (toggles, observed ranges) left as it was; also
// StateError for a model without fake quantizers (not prepared) or with a
// converted layer (calibrate before convert), and ValueError, naming the
// layer and the fix, when a layer's unsigned RCF or APoT input set saw inputs below
// minus half its first step: it would clip them all to 0 (a normalized image
// into apot_rcf_qconfig's first layer; give that layer a signed input).
template <class T>
void calibrate(Module<T>& model, const std::vector<Tensor<T>>& batches);

// Freezes the observed ranges: every observer off, every fake quant on.
// follow_weights = true keeps the observers of the weight quantizers whose
// qparams are not learned (FakeQuantize, PerChannelFakeQuantize,
// APoTFakeQuantize: no parameters) on, so their range follows the weights as
// training moves them (PyTorch's QAT observes weights throughout); learned
// ones (RCF, LSQ) are frozen either way, as observing would overwrite what
// they learn.
template <class T>
void freeze(Module<T>& model, bool follow_weights = false);

// The learnable clipping parameters below `model`: the parameters of every
// fake quantizer that require gradients (RCF's alpha, LSQ's scale and, when
// learned, zero point), in module order, each once.
template <class T>
std::vector<Tensor<T>> clipping_parameters(Module<T>& model);

// Optimizer groups for QAT: every other parameter of `model` (weights,
// biases: the optimizer's defaults), then the clipping parameters with their
// own learning rate (nullopt: the optimizer's) and no weight decay, which
// would pull clipping values towards 0. The second group is left out when
// there are no clipping parameters. ValueError for clip_lr not finite and > 0.
template <class T>
std::vector<optim::ParamGroup<T>> qat_param_groups(Module<T>& model,
                                                   std::optional<double> clip_lr = std::nullopt);

// clamp_alpha_() on every RCFFakeQuantize in the model: call after each
// optimizer step when training RCF quantizers.
template <class T>
void clamp_alpha_(Module<T>& model);

enum class ConvertMode {
  from_qparams,  // the converted weights of each QAT layer's current state
  empty,         // empty converted layers, to load a converted checkpoint into
};

// Swaps every qat::Linear / qat::Conv2d for quantized::Linear /
// quantized::Conv2d (quantized/quantized_layer.hpp): weights stored as packed
// b-bit codes and a level table. In eval, the converted model computes what
// the QAT model computes with observers off: bit for bit on the float-table
// path (QuantizedLayer::enable_lut_kernel(false), and always for 8-bit,
// per-channel and double layers); through the lookup-table kernels (2-4-bit
// float layers, the default) each layer's sums are within their rounding
// bound of it (quantized_layer.hpp). Input quantizers are moved over with
// observer off, fake quant on; the converted layers' remaining parameters
// (their input quantizers' alphas) keep their keys and stop requiring grad.
// Errors, with nothing changed: StateError when the model has no QAT layer
// (not prepared), when a quantizer has no qparams yet (not calibrated: an
// observer-based quantizer that never observed, an RCF input quantizer whose
// observer saw nothing, an LSQ quantizer whose observer saw nothing), or a
// weight quantizer has fake quant off (freeze first); ValueError as the
// quantized layers' constructors.
template <class T>
void convert(Module<T>& model, ConvertMode mode = ConvertMode::from_qparams);

}  // namespace xgrad::quant
