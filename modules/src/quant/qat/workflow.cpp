#include "xgrad/quant/qat/workflow.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <utility>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/fused.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant {

namespace {

template <class T>
using ModulePtr = std::shared_ptr<Module<T>>;

// One parent -> child link of the tree (a shared child has several).
template <class T>
struct Edge {
  Module<T>* parent;
  std::string child_name;
  Module<T>* child;
};

template <class T>
std::vector<Edge<T>> edges_of(Module<T>& model) {
  std::vector<Module<T>*> parents{&model};
  for (const auto& m : model.modules()) parents.push_back(m.get());
  std::vector<Edge<T>> edges;
  for (Module<T>* p : parents) {
    for (const auto& kv : p->named_children()) edges.push_back({p, kv.first, kv.second.get()});
  }
  return edges;
}

// Builds a replacement for every module `make` accepts (first name order),
// then swaps them in everywhere they are registered: all or nothing.
// `make(name, module)` returns null to leave a module alone.
template <class T>
std::size_t swap_modules(Module<T>& model,
                         const std::function<ModulePtr<T>(const std::string&, Module<T>&)>& make) {
  std::vector<std::pair<Module<T>*, ModulePtr<T>>> swaps;
  for (const auto& kv : model.named_modules("", false)) {
    if (auto fresh = make(kv.first, *kv.second)) swaps.emplace_back(kv.second.get(), fresh);
  }
  for (const auto& e : edges_of(model)) {
    const auto it = std::find_if(swaps.begin(), swaps.end(),
                                 [&e](const auto& s) { return s.first == e.child; });
    if (it != swaps.end()) e.parent->replace_module(e.child_name, it->second);
  }
  return swaps.size();
}

template <class T>
bool is_float_layer(Module<T>& m) {
  return m.template as<nn::Linear<T>>() || m.template as<nn::Conv2d<T>>();
}

// The modules a BatchNorm follows directly in a Sequential (its forward order;
// the registration order of other modules need not be the order they run in).
template <class T>
std::vector<const Module<T>*> followed_by_batch_norm(Module<T>& model) {
  std::vector<Module<T>*> parents{&model};
  for (const auto& m : model.modules()) parents.push_back(m.get());
  std::vector<const Module<T>*> out;
  for (Module<T>* p : parents) {
    if (!p->template as<nn::Sequential<T>>()) continue;
    const auto& children = p->named_children();
    for (std::size_t i = 0; i + 1 < children.size(); ++i) {
      if (children[i + 1].second->template as<nn::BatchNormBase<T>>())
        out.push_back(children[i].second.get());
    }
  }
  return out;
}

// `c` without the std rescale, which a BatchNorm right after the layer undoes
// anyway: named as apot_rcf_qconfig(b, false) names it, so that both load
// each other's checkpoints.
template <class T>
QConfig<T> without_rescale(QConfig<T> c) {
  c.weight_norm = WeightNorm::standardize;
  const std::string from = "norm=standardize_rescale";
  const auto at = c.name.size() >= from.size() ? c.name.size() - from.size() : 0;
  if (c.name.compare(at, std::string::npos, from) == 0) {
    c.name.replace(at, from.size(), "norm=standardize");
  } else {
    c.name += " (without rescale: a BatchNorm follows)";
  }
  return c;
}

// The type mapping of prepare_qat (PyTorch's default QAT module mappings).
template <class T>
ModulePtr<T> to_qat(Module<T>& m, const QConfig<T>& qconfig) {
  if (auto* fc = m.template as<nn::Linear<T>>()) return qat::Linear<T>::from_float(*fc, qconfig);
  if (auto* conv = m.template as<nn::Conv2d<T>>())
    return qat::Conv2d<T>::from_float(*conv, qconfig);
  return nullptr;
}

template <class T>
qat::FakeQuantizedLayer<T>* as_qat(Module<T>& m) {
  return m.template as<qat::FakeQuantizedLayer<T>>();
}

template <class T>
ModulePtr<T> to_quantized(Module<T>& m, ConvertMode mode) {
  if (auto* fc = m.template as<qat::Linear<T>>()) {
    if (mode == ConvertMode::empty)
      return std::make_shared<quantized::Linear<T>>(fc->in_features(), fc->out_features(),
                                                    fc->bias.defined(), fc->qconfig());
    return quantized::Linear<T>::from_qat(*fc);
  }
  if (auto* conv = m.template as<qat::Conv2d<T>>()) {
    if (mode == ConvertMode::empty)
      return std::make_shared<quantized::Conv2d<T>>(conv->options(), conv->qconfig());
    return quantized::Conv2d<T>::from_qat(*conv);
  }
  return nullptr;
}

// The model itself (name "") and every descendant by dotted name.
template <class T>
std::vector<std::pair<std::string, Module<T>*>> named_modules_and_root(Module<T>& model) {
  std::vector<std::pair<std::string, Module<T>*>> out{{"", &model}};
  for (const auto& kv : model.named_modules("", false)) out.emplace_back(kv.first, kv.second.get());
  return out;
}

// "layer \"body.0\"", or "the model" when the model itself is the layer.
std::string layer_label(const std::string& name) {
  return name.empty() ? "the model" : "layer \"" + name + "\"";
}

// After calibration: ValueError for a QAT layer whose unsigned RCF or APoT
// input quantizer saw inputs that it clips to 0 although a signed set would keep
// them (below minus half its smallest positive step), naming the layer and
// the fix. A normalized image fed to a first layer with an unsigned set loses
// everything below zero, silently (82.8% -> 41.8% on Fashion-MNIST).
template <class T>
void refuse_clipped_negative_inputs(Module<T>& model) {
  for (const auto& kv : named_modules_and_root(model)) {
    auto* layer = kv.second->template as<qat::FakeQuantizedLayer<T>>();
    if (!layer || !layer->input_fake_quant) continue;
    // The smallest input seen, the top of the set, and how far below 0 an
    // input may go before a signed set would keep it (half the first step).
    T observed_min = std::numeric_limits<T>::infinity(), alpha = 0, lost = 0;
    if (auto* rcf = layer->input_fake_quant->template as<RCFFakeQuantize<T>>()) {
      if (rcf->is_signed()) continue;
      const std::vector<T> lv = rcf->levels();  // normalized: 0, lv[1], ..., 1
      alpha = rcf->alpha().item();
      lost = alpha * lv[1] / T(2);
      observed_min = rcf->observed_min();
    } else if (auto* apot = layer->input_fake_quant->template as<APoTFakeQuantize<T>>()) {
      const Tensor<T> min_val = apot->activation_post_process->min_val();
      if (apot->scheme() != LevelScheme::unsigned_levels || !apot->has_qparams() ||
          min_val.numel() != 1)
        continue;
      const APoTQParams<T> q = apot->qparams();  // levels: 0, ..., alpha
      alpha = q.alpha;
      if (q.quantization_levels.numel() > 1) lost = q.quantization_levels.data()(1) / T(2);
      observed_min = min_val.data().data()[0];
    } else {
      continue;
    }
    if (!(observed_min < -lost)) continue;
    // The model itself may be the layer (no name, and no override for it).
    const std::string fix = kv.first.empty()
                                ? "build it with a config whose input set is signed (e.g. "
                                  "uniform_qconfig<float>(8))"
                                : "prepare_qat(model, qconfig, {{\"" + kv.first +
                                      "\", uniform_qconfig<float>(8)}}) (or leave its input float)";
    throw_error<ValueError>(
        "calibrate: ", layer_label(kv.first), " (", kv.second->type_name(),
        ") sees inputs down to ", observed_min,
        ", but its input quantizer has an unsigned level set [0, alpha = ", alpha,
        "] that clips every negative input to 0. Give it a signed input, e.g. ", fix,
        ", or feed it non-negative inputs (a ReLU before it)");
  }
}

}  // namespace

template <class T>
void prepare_qat(Module<T>& model, const QConfig<T>& qconfig,
                 const std::map<std::string, QConfig<T>>& overrides) {
  XGRAD_CHECK(!is_float_layer(model), ValueError, "prepare_qat: the model itself is a ",
              model.type_name(),
              "; register it in a parent module (e.g. a Sequential) and prepare that");
  const auto all = model.named_modules("", false);
  for (const auto& kv : overrides) {
    const auto it =
        std::find_if(all.begin(), all.end(), [&kv](const auto& m) { return m.first == kv.first; });
    XGRAD_CHECK(it != all.end() && is_float_layer(*it->second), ValueError,
                "prepare_qat: override \"", kv.first,
                "\" names no nn::Linear / nn::Conv2d of the model",
                (it == all.end() ? "" : " (it is a " + it->second->type_name() + ")"));
  }
  std::size_t candidates = 0;
  const auto before_batch_norm = followed_by_batch_norm(model);
  const bool rescales = qconfig.weight_norm == WeightNorm::standardize_rescale;
  swap_modules<T>(model, [&](const std::string& name, Module<T>& m) -> ModulePtr<T> {
    if (!is_float_layer(m)) return nullptr;
    ++candidates;
    const auto o = overrides.find(name);
    if (o != overrides.end()) return o->second.weight ? to_qat(m, o->second) : nullptr;
    if (!qconfig.weight) return nullptr;  // left float
    if (rescales && std::count(before_batch_norm.begin(), before_batch_norm.end(), &m) > 0)
      return to_qat(m, without_rescale(qconfig));
    return to_qat(m, qconfig);
  });
  XGRAD_CHECK(candidates != 0, ValueError,
              "prepare_qat: the model has no nn::Linear or nn::Conv2d to swap (already prepared?)");
}

template <class T>
void calibrate(Module<T>& model, const std::vector<Tensor<T>>& batches) {
  // A converted layer's input quantizer is final: observing again would
  // change what the converted model computes.
  for (const auto& kv : named_modules_and_root(model)) {
    XGRAD_CHECK(!kv.second->template as<quantized::QuantizedLayer<T>>(), StateError,
                "calibrate: ", layer_label(kv.first), " is already converted (",
                kv.second->type_name(), "): calibrate before convert, on the prepared model");
  }
  bool any = false;
  model.apply([&any](Module<T>& m) { any = any || m.template as<FakeQuantizeBase<T>>(); });
  XGRAD_CHECK(any, StateError,
              "calibrate: the model has no fake quantizer to calibrate (run prepare_qat first)");
  // All or nothing: a batch forward refuses (e.g. of the wrong width) must not
  // leave the toggles switched and the ranges of the earlier batches observed.
  const StateDict<T> before = model.state_dict();
  try {
    enable_observer(model);
    disable_fake_quant(model);
    model.apply([](Module<T>& m) {
      if (auto* rcf = m.template as<RCFFakeQuantize<T>>()) rcf->reset_observed_min();
    });
    NoGradGuard no_grad;
    for (const auto& b : batches) model.forward(b);
    refuse_clipped_negative_inputs(model);
  } catch (...) {
    model.load_state_dict(before);
    throw;
  }
}

template <class T>
void freeze(Module<T>& model, bool follow_weights) {
  disable_observer(model);
  enable_fake_quant(model);
  if (!follow_weights) return;
  model.apply([](Module<T>& m) {
    auto* layer = as_qat(m);
    if (layer && layer->weight_fake_quant->parameters().empty())
      layer->weight_fake_quant->enable_observer();
  });
}

template <class T>
std::vector<Tensor<T>> clipping_parameters(Module<T>& model) {
  std::vector<Tensor<T>> out;
  const auto seen = [&out](const Tensor<T>& p) {
    return std::any_of(out.begin(), out.end(),
                       [&p](const Tensor<T>& q) { return &q.data() == &p.data(); });
  };
  model.apply([&](Module<T>& m) {
    if (!m.template as<FakeQuantizeBase<T>>()) return;
    for (const Tensor<T>& p : m.parameters())
      if (p.requires_grad() && !seen(p)) out.push_back(p);
  });
  return out;
}

template <class T>
std::vector<optim::ParamGroup<T>> qat_param_groups(Module<T>& model,
                                                   std::optional<double> clip_lr) {
  XGRAD_CHECK(!clip_lr || (*clip_lr > 0 && std::isfinite(*clip_lr)), ValueError,
              "qat_param_groups: clip_lr must be finite and > 0, got ", clip_lr.value_or(0));
  std::vector<Tensor<T>> clip = clipping_parameters(model), rest;
  for (const Tensor<T>& p : model.parameters()) {
    if (std::none_of(clip.begin(), clip.end(),
                     [&p](const Tensor<T>& q) { return &q.data() == &p.data(); }))
      rest.push_back(p);
  }
  std::vector<optim::ParamGroup<T>> groups = {{rest, std::nullopt, std::nullopt}};
  if (!clip.empty()) groups.push_back({clip, clip_lr, 0.0});
  return groups;
}

template <class T>
void clamp_alpha_(Module<T>& model) {
  model.apply([](Module<T>& m) {
    if (auto* rcf = m.template as<RCFFakeQuantize<T>>()) rcf->clamp_alpha_();
  });
}

template <class T>
void convert(Module<T>& model, ConvertMode mode) {
  std::vector<std::shared_ptr<FakeQuantizeBase<T>>> inputs;
  std::vector<ModulePtr<T>> converted;
  const std::size_t n =
      swap_modules<T>(model, [&](const std::string& name, Module<T>& m) -> ModulePtr<T> {
        auto* layer = as_qat(m);
        if (!layer) return nullptr;
        const auto& in = layer->input_fake_quant;
        if (mode == ConvertMode::from_qparams && in && in->fake_quant_enabled() &&
            !in->has_qparams()) {
          throw StateError(
              "convert: layer \"" + name + "\": the input quantizer (" + in->type_name() +
              ") has no qparams yet (calibrate first: quant::calibrate(model, batches))");
        }
        const auto& wq = layer->weight_fake_quant;
        if (mode == ConvertMode::from_qparams && wq && !wq->has_qparams()) {
          throw StateError(
              "convert: layer \"" + name + "\": the weight quantizer (" + wq->type_name() +
              ") has no qparams yet (calibrate first: quant::calibrate(model, batches))");
        }
        try {
          auto q = to_quantized(m, mode);
          if (in && mode == ConvertMode::from_qparams) inputs.push_back(in);
          converted.push_back(q);
          return q;
        } catch (const StateError& e) {
          throw StateError("convert: layer \"" + name + "\": " + e.what());
        }
      });
  if (n == 0) {
    throw StateError("convert: the model has no QAT layer (run prepare_qat first)");
  }
  for (auto& in : inputs) in->disable_observer();
  // For inference: the parameters a converted layer has (its input
  // quantizer's clipping value) stay for checkpoints, frozen.
  for (auto& q : converted)
    for (Tensor<T>& p : q->parameters()) p.set_requires_grad(false);
  // A ReLU (and a max pool) after a converted layer runs in its epilogue.
  quantized::fuse_relu_pool(model);
}

#define XGRAD_QAT_INSTANTIATE(T)                                                         \
  template void prepare_qat<T>(Module<T>&, const QConfig<T>&,                            \
                               const std::map<std::string, QConfig<T>>&);                \
  template void calibrate<T>(Module<T>&, const std::vector<Tensor<T>>&);                 \
  template void freeze<T>(Module<T>&, bool);                                             \
  template std::vector<Tensor<T>> clipping_parameters<T>(Module<T>&);                    \
  template std::vector<optim::ParamGroup<T>> qat_param_groups<T>(Module<T>&,             \
                                                                 std::optional<double>); \
  template void clamp_alpha_<T>(Module<T>&);                                             \
  template void convert<T>(Module<T>&, ConvertMode);

XGRAD_QAT_INSTANTIATE(float)
XGRAD_QAT_INSTANTIATE(double)

}  // namespace xgrad::quant
