// The fake quantizers docs/experiment.md puts on a Net, per method and bit width:
//   inner layers (LeNet's conv2, fc1, fc2): b-bit weights and b-bit unsigned
//   input activations;
//   first and last layer (keep_ends_8bit): weights 8-bit uniform symmetric per
//   tensor, step max|W| / 127; the last layer's input 8-bit unsigned with a
//   fixed step calibration max / 255 (without keep_ends_8bit they are b-bit
//   like the inner layers: the digits MLP);
//   the network's input is never quantized; biases stay float.
// APoT: weights normalized ((W - mean) / (std + 1e-5), output times the
// detached std), sign-magnitude APoT levels with a learnable RCF alpha
// starting at 3; activations unsigned APoT with alpha from the calibration
// maximum. Uniform: LSQ (learnable step, gradient scale 1 / sqrt(N qmax),
// step 2 mean|x| / sqrt(qmax)). PTQ: clipping from the maximum, no training.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "net.hpp"

namespace harness {

enum class Method { apot, uniform };
const char* to_string(Method m);

struct QuantPlan {
  Method method = Method::apot;
  int bits = 4;
  bool ptq = false;
  bool keep_ends_8bit = true;
  // APoT activation alphas start at LSQ's clip point 2 mean|x| sqrt(qmax)
  // instead of the calibration maximum (docs/experiment.md, "What the numbers show"; QAT only).
  bool apot_act_lsq_init = false;
};

// Puts the quantizers on a float Net (its weights already loaded).
void attach_quantizers(Net& net, const QuantPlan& plan);

// Sets every clipping parameter from one forward of `images` without a graph
// and without fake quantization (every quantizer sees float tensors): RCF
// alphas and the 8-bit steps by their observers, LSQ steps from the recorded
// tensors (2 mean|x| / sqrt(qmax), or max|x| / qmax for PTQ). Then freezes
// the observers (but those of the 8-bit weights): the clipping parameters are
// learned (QAT) or stay as calibrated (PTQ) from here on.
void calibrate(Net& net, const Tensor& images, bool ptq);

// After each optimizer step: keeps every learned alpha / step positive.
void clamp_clipping(Net& net);

// The clipping parameter of every quantizer ("fc1.weight": alpha or step).
std::map<std::string, double> clipping_values(const Net& net);

// The trainable clipping parameters (their own optimizer group, no decay).
std::vector<Tensor> clipping_parameters(const Net& net);

// The values a layer's quantized weight can take, in weight units.
std::vector<double> weight_levels(const Net& net, std::size_t layer);

}  // namespace harness
