#include "quantizers.hpp"

#include <cstdint>

#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"
#include "xgrad/quant/qat/workflow.hpp"

namespace harness {
namespace {

namespace quant = xgrad::quant;
using quant::AlphaInit;
using quant::QConfig;
using quant::QuantizerSpec;
using quant::QuantMethod;
using Layer = quant::qat::FakeQuantizedLayer<float>;

// The inner layers' config.
QConfig<float> inner_qconfig(const QuantPlan& p) {
  const int b = p.bits;
  if (p.method == Method::uniform) {
    QuantizerSpec w{QuantMethod::uniform, b, true}, a{QuantMethod::uniform, b, false};
    w.narrow_range = true;
    if (!p.ptq) {
      // LSQ: learnable step from LSQ's initial step, zero point 0.
      w.method = a.method = QuantMethod::uniform_lsq;
      w.init = a.init = AlphaInit::lsq_clip_point;
    }
    return quant::make_qconfig<float>(w, a);
  }
  QuantizerSpec w{QuantMethod::apot_rcf, b, true}, a{QuantMethod::apot_rcf, b, false};
  if (p.ptq) {
    w.init = a.init = AlphaInit::max_abs;  // alpha_w: max |W'| of the standardized weight
  } else if (p.method == Method::apot_xgrad) {
    a.init = p.recipe.act_init;
    if (p.recipe.weight_init != AlphaInit::fixed) w.init = p.recipe.weight_init;
    w.per_channel = p.recipe.weight_per_channel;
    w.percentile = a.percentile = p.recipe.percentile;
    a.levels = p.recipe.act_levels;
    w.lsq_grad_scale = a.lsq_grad_scale = p.recipe.lsq_grad_scale;
  }
  return quant::make_qconfig<float>(w, a, quant::WeightNorm::standardize_rescale);
}

template <class Q>
Q* as(const std::shared_ptr<quant::FakeQuantizeBase<float>>& q) {
  return q ? q->as<Q>() : nullptr;
}

// The learnable clipping parameter of a quantizer (RCF alpha, LSQ step; the
// mean of per-channel ones), or undefined for the observer-driven 8-bit ones.
Tensor clip_of(const std::shared_ptr<quant::FakeQuantizeBase<float>>& q) {
  Tensor c;
  if (auto* r = as<quant::RCFFakeQuantize<float>>(q)) c = r->alpha();
  if (auto* l = as<quant::LearnableFakeQuantize<float>>(q)) c = l->scale();
  return c.defined() ? c.detach().mean() : c;
}

// The QAT layer registered as `name` in the model, or null.
Layer* layer_named(Model& model, const std::string& name) {
  for (const auto& [n, m] : model.named_children())
    if (n == name) return m->as<Layer>();
  return nullptr;
}

}  // namespace

const char* to_string(Method m) {
  return m == Method::apot_paper   ? "APoT (paper)"
         : m == Method::apot_xgrad ? "APoT (xgrad)"
                                   : "LSQ";
}

void quantize(Model& model, const QuantPlan& plan) {
  const std::vector<std::string> layers = layer_names(model);
  std::map<std::string, QConfig<float>> ends;
  if (plan.keep_ends_8bit) {
    QuantizerSpec w8{QuantMethod::uniform, 8, true};
    w8.narrow_range = true;
    // The first layer's input (the image) stays float; the last layer's is 8-bit.
    ends[layers.front()] = quant::make_qconfig<float>(w8, std::nullopt);
    ends[layers.back()] =
        quant::make_qconfig<float>(w8, QuantizerSpec{QuantMethod::uniform, 8, false});
  } else {
    // b bits everywhere, but the image stays float.
    QConfig<float> first = inner_qconfig(plan);
    first.activation = nullptr;
    first.name += " (input float)";
    ends[layers.front()] = first;
  }
  quant::prepare_qat(model, inner_qconfig(plan), ends);
}

void calibrate(Model& model, const Tensor& images) {
  quant::calibrate(model, {images});
  quant::freeze(model, /*follow_weights=*/true);
}

std::optional<double> clip_lr(const QuantPlan& plan) {
  return plan.method == Method::apot_xgrad ? plan.recipe.clip_lr : std::nullopt;
}

std::map<std::string, double> clipping_values(Model& model) {
  std::map<std::string, double> out;
  for (const std::string& name : layer_names(model)) {
    auto* layer = layer_named(model, name);
    if (!layer) continue;
    if (const Tensor c = clip_of(layer->weight_fake_quant); c.defined())
      out[name + ".weight"] = c.item();
    if (const Tensor c = clip_of(layer->input_fake_quant); c.defined())
      out[name + ".input"] = c.item();
  }
  return out;
}

std::vector<double> weight_levels(Model& model, const std::string& name) {
  auto* layer = layer_named(model, name);
  std::vector<double> out;
  if (!layer) return out;
  if (auto* l = as<quant::LearnableFakeQuantize<float>>(layer->weight_fake_quant)) {
    const double step = l->scale().item();
    for (std::int64_t j = l->options().quant_min; j <= l->options().quant_max; ++j)
      out.push_back(step * double(j));
  } else if (auto* r = as<quant::RCFFakeQuantize<float>>(layer->weight_fake_quant)) {
    const bool rescaled = layer->qconfig().weight_norm == quant::WeightNorm::standardize_rescale;
    const double scale = clip_of(layer->weight_fake_quant).item() *
                         (rescaled ? quant::weight_std(layer->weight) : 1.0f);
    for (float v : r->levels()) out.push_back(scale * v);
  }
  return out;
}

}  // namespace harness
