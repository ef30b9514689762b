// Uniform fake quantizers -> Mul(1 / scale) -> QuantizeLinear (scale 1) ->
// [Clip, for ranges narrower than the 8-bit type: QCDQ] -> DequantizeLinear
// (uniform_nodes, quant_nodes.hpp): FakeQuantize (per tensor),
// PerChannelFakeQuantize (per axis) and LearnableFakeQuantize (LSQ, either),
// with the qparams their forward uses. Fake quant off, or
// ExportOptions::quantize_activations false: nothing (the identity).
#include <algorithm>
#include <cmath>

#include "../export_context.hpp"
#include "quant_nodes.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"

namespace xgrad::onnx::detail {

namespace {

template <class T>
std::vector<std::int64_t> as_integers(const xt::xarray<T>& v) {
  return std::vector<std::int64_t>(v.begin(), v.end());
}

}  // namespace

template <class T>
Value<T> export_uniform_fake_quantize(ExportContext<T>& ctx, const ExportCall<T>& c) {
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);  // also LSQ's clamp of its scale to eps
  auto& fq = static_cast<quant::FakeQuantizeBase<T>&>(c.module);
  if (!fq.fake_quant_enabled() || !ctx.options().quantize_activations) {
    out.name = c.input.name;
    out.dims = c.input.dims;
    return out;
  }
  const auto rank = static_cast<std::int64_t>(c.input.dims.size());
  std::vector<T> scale;
  std::vector<std::int64_t> zero_point;
  bool per_channel = false;
  std::int64_t ch_axis = 0, qmin, qmax;
  if (auto* f = c.module.template as<quant::FakeQuantize<T>>()) {
    const auto q = f->qparams();
    scale = {q.scale};
    zero_point = {q.zero_point};
    qmin = f->quant_min(), qmax = f->quant_max();
  } else if (auto* p = c.module.template as<quant::PerChannelFakeQuantize<T>>()) {
    scale.assign(p->scale().data().begin(), p->scale().data().end());
    zero_point = as_integers(p->zero_point().data());
    per_channel = true;
    ch_axis = p->activation_post_process->ch_axis();
    qmin = p->quant_min(), qmax = p->quant_max();
  } else {
    auto& l = static_cast<quant::LearnableFakeQuantize<T>&>(c.module);
    const auto& o = l.options();
    qmin = o.quant_min, qmax = o.quant_max;
    scale.assign(l.scale().data().begin(), l.scale().data().end());
    // The forward's zero point: rounded half to even and clamped; 0 for the
    // symmetric qschemes.
    for (T z : l.zero_point().data()) {
      const T r = quant::is_symmetric(o.qscheme) ? T(0) : std::nearbyint(z);
      zero_point.push_back(static_cast<std::int64_t>(std::clamp(r, T(qmin), T(qmax))));
    }
    per_channel = l.is_per_channel();
    ch_axis = o.ch_axis;
  }
  // The axis as forward has checked it (in range), non-negative; -1 per tensor.
  std::int64_t axis = -1;
  if (per_channel) {
    axis = ch_axis < 0 ? ch_axis + rank : ch_axis;
    ctx.require_fixed(c, c.input, static_cast<std::size_t>(axis), "channels");
  }
  out.name = uniform_nodes<T>(ctx.graph(), ExportContext<T>::scope(c.path), c.input.name,
                              c.input.dims.size(), scale, zero_point, axis, qmin, qmax,
                              ExportContext<T>::describe(c.path, c.module));
  return out;
}

template Value<float> export_uniform_fake_quantize(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_uniform_fake_quantize(ExportContext<double>&,
                                                    const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
