#include "quantizers.hpp"

#include <cmath>

#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/fake_quantize_base.hpp"
#include "xgrad/quant/level_sets.hpp"
#include "xgrad/quant/rcf_fake_quantize.hpp"
#include "xgrad/quant/uniform.hpp"

namespace harness {
namespace {

using xgrad::quant::AlphaInit;
using xgrad::quant::FakeQuantizeBase;
using xgrad::quant::RCFFakeQuantize;
using xgrad::quant::RCFOptions;

// The paper's weight normalization around a quantizer: W' = (W - mean) /
// (std + 1e-5) with the unbiased std (gradients through both), quantized,
// then multiplied by the detached std to keep the layer's scale.
class NormalizedWeight : public xgrad::Module<float> {
 public:
  explicit NormalizedWeight(std::shared_ptr<RCFFakeQuantize<float>> q)
      : xgrad::Module<float>("NormalizedWeight"), rcf(register_module("rcf", std::move(q))) {}
  Tensor forward(const Tensor& w) override {
    const Tensor d = w - xgrad::mean(w);
    const float n = static_cast<float>(w.numel());
    const Tensor sd = xgrad::sqrt(xgrad::sum(d * d) / (n - 1.0f));
    return rcf->forward(d / (sd + 1e-5f)) * sd.detach();
  }
  // The unbiased std of w (the factor the levels are scaled by).
  static double std_of(const Tensor& w) {
    const xt::xarray<float>& a = w.data();
    double mean = 0, ss = 0;
    for (float v : a) mean += v / double(a.size());
    for (float v : a) ss += (v - mean) * (v - mean);
    return std::sqrt(ss / double(a.size() - 1));
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
    o.init = AlphaInit::max_abs;  // the calibration maximum
    return std::make_shared<RCFFakeQuantize<float>>(xgrad::quant::apot_unsigned_levels(p.bits, 2),
                                                    o);
  }
  // Uniform: the clipping value is step * qmax, LSQ's initial step
  // 2 mean|x| / sqrt(qmax) for QAT, max / qmax for PTQ, LSQ's gradient scale.
  o.init = p.ptq ? AlphaInit::max_abs : AlphaInit::lsq_clip_point;
  o.lsq_grad_scale = true;
  return std::make_shared<RCFFakeQuantize<float>>(xgrad::quant::uniform_levels(p.bits, weight), o);
}

RCFFakeQuantize<float>* rcf_of(const std::shared_ptr<Quantizer>& q) {
  if (auto n = std::dynamic_pointer_cast<NormalizedWeight>(q)) return n->rcf.get();
  return dynamic_cast<RCFFakeQuantize<float>*>(q.get());
}

}  // namespace

const char* to_string(Method m) { return m == Method::apot ? "APoT" : "uniform"; }

void attach_quantizers(Net& net, const QuantPlan& plan) {
  using xgrad::quant::FakeQuantize;
  using xgrad::quant::QScheme;
  using xgrad::quant::QuantDtype;
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
}

void calibrate(Net& net, const Tensor& images) {
  // Observers on, fake quantization off: every quantizer sees float tensors.
  xgrad::quant::enable_observer(net);
  xgrad::quant::disable_fake_quant(net);
  {
    xgrad::NoGradGuard no_grad;
    net.forward(images);
  }
  xgrad::quant::enable_fake_quant(net);
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (!q) continue;
      const bool follows_weights = q == net.weight_quantizer(i) && rcf_of(q) == nullptr;
      if (!follows_weights) xgrad::quant::disable_observer(*q);
    }
  }
}

void clamp_clipping(Net& net) {
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (auto* r = q ? rcf_of(q) : nullptr) r->clamp_alpha_();
    }
  }
}

std::map<std::string, double> clipping_values(const Net& net) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    const std::string name = net.spec(i).name;
    if (auto* r = rcf_of(net.weight_quantizer(i))) out[name + ".weight"] = r->alpha().item();
    if (auto* r = rcf_of(net.input_quantizer(i))) out[name + ".input"] = r->alpha().item();
  }
  return out;
}

std::vector<Tensor> clipping_parameters(const Net& net) {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < net.num_layers(); ++i) {
    for (const auto& q : {net.weight_quantizer(i), net.input_quantizer(i)}) {
      if (auto* r = q ? rcf_of(q) : nullptr) out.push_back(r->alpha());
    }
  }
  return out;
}

std::vector<double> weight_levels(const Net& net, std::size_t layer) {
  const auto& q = net.weight_quantizer(layer);
  const RCFFakeQuantize<float>* r = q ? rcf_of(q) : nullptr;
  if (!r) return {};
  const bool normalized = std::dynamic_pointer_cast<NormalizedWeight>(q) != nullptr;
  const double scale =
      r->alpha().item() * (normalized ? NormalizedWeight::std_of(net.weight(layer)) : 1.0);
  std::vector<double> out;
  for (float l : r->levels()) out.push_back(scale * l);
  return out;
}

}  // namespace harness
