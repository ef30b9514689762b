// How the experiment quantizes a float model (docs/experiment.md), through
// the public QAT workflow: prepare_qat with a QConfig for the inner layers
// and per-layer overrides for the first and last ones, calibrate, freeze.
//   inner layers (LeNet's conv2, fc1, fc2): b-bit weights and b-bit unsigned
//   input activations;
//   first and last layer (keep_ends_8bit): weights 8-bit uniform symmetric per
//   tensor (narrow range, step max|W| / 127, following the weights); the last
//   layer's input 8-bit unsigned with a fixed step (calibration max / 255)
//   (without keep_ends_8bit they are b-bit like the inner layers: the digits
//   MLP); the network's input is never quantized; biases stay float.
// APoT (paper): apot_rcf_qconfig: weights standardized and rescaled, RCF on
// the sign-magnitude set with alpha 3; inputs RCF with alpha from the
// calibration maximum. APoT (xgrad): the same with the recipe options of
// ApotRecipe. LSQ: uniform_lsq with narrow-range signed weights, LSQ's
// initial step 2 mean|x| / sqrt(qmax) and zero point 0. PTQ: clipping from
// the calibration maximum (RCF max_abs; uniform min/max), no training.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace harness {

enum class Method { apot_paper, apot_xgrad, uniform };
const char* to_string(Method m);

// The "APoT (xgrad)" recipe: QuantizerSpec options (docs/apot-training.md,
// "Recipe options") and the clipping parameters' learning rate.
struct ApotRecipe {
  xgrad::quant::AlphaInit act_init = xgrad::quant::AlphaInit::lsq_clip_point;
  // fixed: the paper's alpha 3 of the standardized weights; LSQ's clip point
  // 2 mean|W'| sqrt(top code) closes most of the 2-bit gap (docs/experiment.md)
  xgrad::quant::AlphaInit weight_init = xgrad::quant::AlphaInit::lsq_clip_point;
  bool weight_per_channel = false;  // one weight alpha per output channel
  double percentile = 99.9;
  bool lsq_grad_scale = false;
  xgrad::quant::LevelFamily act_levels = xgrad::quant::LevelFamily::apot;
  std::optional<double> clip_lr;  // nullopt: the QAT learning rate
};

struct QuantPlan {
  Method method = Method::apot_paper;
  int bits = 4;
  bool ptq = false;
  bool keep_ends_8bit = true;
  ApotRecipe recipe;  // Method::apot_xgrad only
};

// prepare_qat on a float model (its weights already loaded).
void quantize(Model& model, const QuantPlan& plan);

// quant::calibrate on `images`, then quant::freeze with the 8-bit weight
// quantizers following the weights: the clipping parameters are learned
// (QAT) or stay as calibrated (PTQ) from here on.
void calibrate(Model& model, const Tensor& images);

// The learning rate of the clipping parameters' optimizer group (nullopt:
// the QAT rate).
std::optional<double> clip_lr(const QuantPlan& plan);

// The clipping parameter of every learned quantizer ("7.weight": alpha or step).
std::map<std::string, double> clipping_values(Model& model);

// The values a layer's quantized weight can take, in weight units.
std::vector<double> weight_levels(Model& model, const std::string& layer);

}  // namespace harness
