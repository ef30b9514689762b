#include "quantizers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"

namespace harness {
namespace {

using xgrad::quant::AlphaInit;
using xgrad::quant::FakeQuantizeBase;
using xgrad::quant::LearnableFakeQuantize;
using xgrad::quant::QScheme;
using xgrad::quant::QuantDtype;
using xgrad::quant::RCFFakeQuantize;
using xgrad::quant::RCFOptions;

// The paper's weight normalization around RCF: W' = (W - mean) / (std +
// 1e-5), unbiased std, gradients through both; the quantized W' is
// multiplied by the detached std to keep the layer's scale (no BatchNorm).
class NormalizedWeight : public xgrad::Module<float> {
 public:
  explicit NormalizedWeight(std::shared_ptr<RCFFakeQuantize<float>> q)
      : xgrad::Module<float>("NormalizedWeight"), rcf(register_module("rcf", std::move(q))) {}
  Tensor forward(const Tensor& w) override {
    return xgrad::quant::rescale_by_weight_std(rcf->forward(xgrad::quant::weight_standardize(w)),
                                               w);
  }
  std::shared_ptr<RCFFakeQuantize<float>> rcf;
};

// A learnable quantizer of the method's kind for b-bit weights or inputs.
std::shared_ptr<Quantizer> learnable(const QuantPlan& p, bool weight) {
  RCFOptions<float> o;
  if (p.method == Method::apot) {
    if (weight) {
      // QAT: alpha_w starts at 3 (normalized weights); PTQ: max |W'|.
      o.init = p.ptq ? AlphaInit::max_abs : AlphaInit::fixed;
      o.alpha = 3.0f;
      return std::make_shared<NormalizedWeight>(std::make_shared<RCFFakeQuantize<float>>(
          xgrad::quant::apot_sign_magnitude_levels(p.bits, 2), o));
    }
    // The calibration maximum, or LSQ's clip point when asked (QAT only).
    o.init = p.apot_act_lsq_init && !p.ptq ? AlphaInit::lsq_clip_point : AlphaInit::max_abs;
    return std::make_shared<RCFFakeQuantize<float>>(xgrad::quant::apot_unsigned_levels(p.bits, 2),
                                                    o);
  }
  // Uniform: LSQ, symmetric [-qmax, qmax] for weights, [0, 2^b - 1] for
  // activations, zero point 0, LSQ's gradient scale; the step is set by
  // calibrate().
  xgrad::quant::LearnableFakeQuantizeOptions<float> u;
  u.quant_max = (std::int64_t{1} << (weight ? p.bits - 1 : p.bits)) - 1;
  u.quant_min = weight ? -u.quant_max : 0;
  u.use_grad_scaling = true;
  u.dtype = weight ? QuantDtype::qint8 : QuantDtype::quint8;
  u.qscheme = weight ? QScheme::per_tensor_symmetric : QScheme::per_tensor_affine;
  return std::make_shared<LearnableFakeQuantize<float>>(u);
}

RCFFakeQuantize<float>* rcf_of(const std::shared_ptr<Quantizer>& q) {
  if (auto n = std::dynamic_pointer_cast<NormalizedWeight>(q)) return n->rcf.get();
  return dynamic_cast<RCFFakeQuantize<float>*>(q.get());
}
LearnableFakeQuantize<float>* lsq_of(const std::shared_ptr<Quantizer>& q) {
  return dynamic_cast<LearnableFakeQuantize<float>*>(q.get());
}

// The learnable clipping parameter of a quantizer (RCF alpha, LSQ scale), or
// undefined for the fixed 8-bit ones.
Tensor clip_of(const std::shared_ptr<Quantizer>& q) {
  if (!q) return Tensor();
  if (auto* r = rcf_of(q)) return r->alpha();
  if (auto* l = lsq_of(q)) return l->scale();
  return Tensor();
}

// LSQ's initial step: 2 mean|x| / sqrt(qmax) for QAT, max|x| / qmax for PTQ.
void set_lsq_step(LearnableFakeQuantize<float>& q, const Tensor& x, bool ptq) {
  const auto qmax = static_cast<double>(q.options().quant_max);
  double sum = 0, top = 0;
  for (float v : x.data()) sum += std::abs(v), top = std::max(top, double(std::abs(v)));
  const double mean = x.numel() ? sum / double(x.numel()) : 0.0;
  const double step = ptq ? top / qmax : 2 * mean / std::sqrt(qmax);
  q.scale().mutable_data().fill(static_cast<float>(std::max(step, 1e-8)));
  q.zero_point().mutable_data().fill(0.0f);
}

}  // namespace

const char* to_string(Method m) { return m == Method::apot ? "APoT" : "uniform"; }

void attach_quantizers(Net& net, const QuantPlan& plan) {
  using xgrad::quant::FakeQuantize;
  const std::size_t last = net.num_layers() - 1;
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    const bool end = plan.keep_ends_8bit && (i == 0 || i == last);
    // Weights: 8-bit symmetric, step max|W| / 127 (the observer keeps
    // following the weights), or the method's b-bit quantizer.
    net.set_weight_quantizer(
        i, end ? std::make_shared<FakeQuantize<float>>(QuantDtype::qint8,
                                                       QScheme::per_tensor_symmetric, -127, 127)
               : learnable(plan, true));
    if (i == 0) continue;  // the network's input stays float
    // Inputs: the last layer's 8-bit unsigned with a fixed step (calibration
    // max / 255), the others the method's b-bit unsigned quantizer.
    net.set_input_quantizer(i, end ? std::make_shared<FakeQuantize<float>>(
                                         QuantDtype::quint8, QScheme::per_tensor_affine, 0, 255)
                                   : learnable(plan, false));
  }
  // LSQ's zero point stays 0 (docs/experiment.md): only the step learns.
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (auto* l = lsq_of(q)) l->zero_point().set_requires_grad(false);
    }
  }
}

void calibrate(Net& net, const Tensor& images, bool ptq) {
  // Observers on, fake quantization off: every quantizer sees float tensors
  // (RCF sets alpha from them; the 8-bit ones their step).
  xgrad::quant::enable_observer(net);
  xgrad::quant::disable_fake_quant(net);
  net.record_inputs(true);
  {
    xgrad::NoGradGuard no_grad;
    net.forward(images);
  }
  net.record_inputs(false);
  xgrad::quant::enable_fake_quant(net);
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    if (auto* l = lsq_of(net.weight_quantizer(i))) set_lsq_step(*l, net.weight(i), ptq);
    if (auto* l = lsq_of(net.input_quantizer(i))) set_lsq_step(*l, net.last_input(i), ptq);
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      // The 8-bit weight quantizers keep observing the weights they follow.
      const bool follows_weights = q == net.weight_quantizer(i) && !rcf_of(q) && !lsq_of(q);
      if (q && !follows_weights) xgrad::quant::disable_observer(*q);
    }
  }
  net.clear_recorded_inputs();
}

void clamp_clipping(Net& net) {
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (auto* r = q ? rcf_of(q) : nullptr) r->clamp_alpha_();
      // LSQ clamps its step to eps in forward (PyTorch's rule).
    }
  }
}

std::map<std::string, double> clipping_values(const Net& net) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    const std::string name = net.spec(i).name;
    if (const Tensor c = clip_of(net.weight_quantizer(i)); c.defined()) {
      out[name + ".weight"] = c.item();
    }
    if (const Tensor c = clip_of(net.input_quantizer(i)); c.defined()) {
      out[name + ".input"] = c.item();
    }
  }
  return out;
}

std::vector<Tensor> clipping_parameters(const Net& net) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (const Tensor c = clip_of(q); c.defined()) out.push_back(c);
    }
  }
  return out;
}

std::vector<double> weight_levels(const Net& net, std::size_t layer) {
  const auto& q = net.weight_quantizer(layer);
  std::vector<double> out;
  if (auto* l = lsq_of(q)) {
    const double step = l->scale().item();
    for (std::int64_t j = l->options().quant_min; j <= l->options().quant_max; ++j) {
      out.push_back(step * double(j));
    }
  } else if (auto* r = rcf_of(q)) {
    const bool normalized = std::dynamic_pointer_cast<NormalizedWeight>(q) != nullptr;
    const double scale =
        r->alpha().item() * (normalized ? xgrad::quant::weight_std(net.weight(layer)) : 1.0f);
    for (float v : r->levels()) out.push_back(scale * v);
  }
  return out;
}

}  // namespace harness
