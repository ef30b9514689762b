// APoT fake quantizers -> the nearest level in standard ops
// (nearest_level_nodes, quant_nodes.hpp: Clip, |x - levels| over a leading
// levels axis, ArgMin, Gather), exactly xgrad's rule (distances in the
// model's type, the lowest level on ties):
// - APoTFakeQuantize: its levels (gamma included), clipped to the end levels;
// - RCFFakeQuantize: Div(x, alpha), the normalized levels, Mul(alpha), as
//   rcf_fake_quantize computes q = alpha * P(clip(x / alpha, lo, 1)); per
//   channel, alpha as [C, 1, ..., 1] so that it broadcasts along its axis.
// Fake quant off, or ExportOptions::quantize_activations false: nothing.
#include "../export_context.hpp"
#include "quant_nodes.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

namespace xgrad::onnx::detail {

template <class T>
Value<T> export_apot_fake_quantize(ExportContext<T>& ctx, const ExportCall<T>& c) {
  require_frozen(c);
  Value<T> out = ctx.run_forward(c);
  auto& fq = static_cast<quant::FakeQuantizeBase<T>&>(c.module);
  if (!fq.fake_quant_enabled() || !ctx.options().quantize_activations) {
    out.name = c.input.name;
    out.dims = c.input.dims;
    return out;
  }
  GraphBuilder& g = ctx.graph();
  const std::string scope = ExportContext<T>::scope(c.path);
  const std::size_t rank = c.input.dims.size();
  if (auto* a = c.module.template as<quant::APoTFakeQuantize<T>>()) {
    const xt::xarray<T>& lv = a->qparams().quantization_levels.data();
    out.name =
        nearest_level_nodes(g, scope, c.input.name, rank, std::vector<T>(lv.begin(), lv.end()));
    return out;
  }
  auto& r = static_cast<quant::RCFFakeQuantize<T>&>(c.module);
  xt::xarray<T> alpha_values = r.alpha().data();
  if (r.is_per_channel()) {
    // [C, 1, ..., 1]: broadcasts along the channel axis (trailing axes align).
    const std::int64_t axis = r.options().ch_axis < 0
                                  ? r.options().ch_axis + static_cast<std::int64_t>(rank)
                                  : r.options().ch_axis;
    std::vector<std::size_t> shape(rank - static_cast<std::size_t>(axis), 1);
    shape[0] = alpha_values.size();
    alpha_values.reshape(shape);
  }
  const std::string alpha =
      g.add_initializer(ExportContext<T>::state_name(c.path, "alpha"), alpha_values);
  const std::string u = g.add_node(scope, "Div", {c.input.name, alpha});
  out.name = g.add_node(scope, "Mul", {nearest_level_nodes(g, scope, u, rank, r.levels()), alpha});
  return out;
}

template Value<float> export_apot_fake_quantize(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_apot_fake_quantize(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
