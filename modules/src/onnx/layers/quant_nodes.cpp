#include "quant_nodes.hpp"

#include <algorithm>
#include <limits>

#include "xgrad/errors.hpp"

namespace xgrad::onnx::detail {

namespace {

std::vector<std::int64_t> dims_of(const Shape& s) {
  return std::vector<std::int64_t>(s.begin(), s.end());
}

// [C, 1, ...]: a per-channel value broadcast along `axis` of a rank-`rank` tensor.
std::vector<std::int64_t> channel_dims(std::size_t n, std::size_t rank, std::int64_t axis) {
  std::vector<std::int64_t> d = {static_cast<std::int64_t>(n)};
  if (axis >= 0)
    d.resize(rank - static_cast<std::size_t>(axis), 1);
  else
    d.clear();
  return d;
}

}  // namespace

template <class T>
void require_frozen(const ExportCall<T>& c) {
  c.module.apply(
      [&c](const std::string& name, Module<T>& m) {
        auto* fq = dynamic_cast<quant::FakeQuantizeBase<T>*>(&m);
        if (!fq) return;
        XGRAD_CHECK(!fq->observer_enabled(), StateError,
                    "onnx::export_model: ", ExportContext<T>::describe(name, m),
                    " has its observer on: its forward would still move its qparams, which a "
                    "graph cannot; calibrate, then quant::freeze(model) (observers off, fake quant "
                    "on) before exporting");
      },
      c.path);
}

template <class T>
Value<T> quantized_input(ExportContext<T>& ctx, const ExportCall<T>& c,
                         const std::shared_ptr<quant::FakeQuantizeBase<T>>& quantizer) {
  if (!quantizer) return c.input;
  return ctx.export_module(ExportContext<T>::state_name(c.path, "input_fake_quant"), *quantizer,
                           c.input);
}

template <class T>
std::string uniform_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                          std::size_t rank, const std::vector<T>& scale,
                          const std::vector<std::int64_t>& zero_point, std::int64_t axis,
                          std::int64_t quant_min, std::int64_t quant_max,
                          const std::string& where) {
  const std::size_t n = scale.size();
  const std::vector<std::int64_t> bdims = channel_dims(n, rank, axis);  // broadcast shape
  std::vector<double> inv(n), s(scale.begin(), scale.end()),
      zp(zero_point.begin(), zero_point.end());
  for (std::size_t i = 0; i < n; ++i) inv[i] = double(T(1) / scale[i]);  // rounded in T, as xgrad
  const std::string scaled =
      g.add_node(scope, "Mul", {x, g.add_constant(scope + "/inv_scale", inv, bdims)});
  if (g.elem_type() != ::onnx::TensorProto::FLOAT) {
    // QuantizeLinear takes float only (opset <= 18): the same formula in
    // standard ops (Round rounds half to even).
    std::string q = g.add_node(
        scope, "Add",
        {g.add_node(scope, "Round", {scaled}), g.add_constant(scope + "/zero_point", zp, bdims)});
    q = g.add_node(scope, "Clip",
                   {q, g.add_constant(scope + "/quant_min", {double(quant_min)}, {}),
                    g.add_constant(scope + "/quant_max", {double(quant_max)}, {})});
    q = g.add_node(scope, "Sub", {q, g.add_constant(scope + "/zero_point", zp, bdims)});
    return g.add_node(scope, "Mul", {q, g.add_constant(scope + "/scale", s, bdims)});
  }
  // QuantizeLinear (scale 1: the scaling above is xgrad's multiplication by
  // the rounded inverse, where QuantizeLinear would divide) -> [Clip to the
  // narrower range] -> DequantizeLinear with the real scale.
  std::int32_t type;
  std::int64_t type_min, type_max;
  if (quant_min >= 0 && quant_max <= 255) {
    type = ::onnx::TensorProto::UINT8, type_min = 0, type_max = 255;
  } else if (quant_min >= -128 && quant_max <= 127) {
    type = ::onnx::TensorProto::INT8, type_min = -128, type_max = 127;
  } else {
    throw_error<ValueError>("onnx::export_model: ", where, " quantizes to [", quant_min, ", ",
                            quant_max,
                            "], which fits no 8-bit type (QuantizeLinear's uint8 / int8); use a "
                            "range of at most 8 bits");
  }
  const std::vector<std::int64_t> cdims =
      axis >= 0 ? std::vector<std::int64_t>{std::int64_t(n)} : std::vector<std::int64_t>{};
  std::vector<Attribute> axis_attr;
  if (axis >= 0) axis_attr.push_back(attr("axis", axis));
  const std::string zp_name =
      g.add_integer_initializer(scope + "/zero_point", type, zero_point, cdims);
  std::string q = g.add_node(
      scope, "QuantizeLinear",
      {scaled, g.add_constant(scope + "/unit_scale", std::vector<double>(n, 1.0), cdims), zp_name},
      axis_attr);
  if (quant_min > type_min || quant_max < type_max) {
    q = g.add_node(scope, "Clip",
                   {q, g.add_integer_initializer(scope + "/quant_min", type, {quant_min}, {}),
                    g.add_integer_initializer(scope + "/quant_max", type, {quant_max}, {})});
  }
  return g.add_node(scope, "DequantizeLinear",
                    {q, g.add_constant(scope + "/scale", s, cdims), zp_name}, axis_attr);
}

template <class T>
std::string nearest_level_nodes(GraphBuilder& g, const std::string& scope, const std::string& x,
                                std::size_t rank, const std::vector<T>& levels) {
  const std::vector<double> lv(levels.begin(), levels.end());
  const auto L = static_cast<std::int64_t>(lv.size());
  // Clip first: infinities get the end levels (their distances would all be inf).
  const std::string c = g.add_node(scope, "Clip",
                                   {x, g.add_constant(scope + "/lowest", {lv.front()}, {}),
                                    g.add_constant(scope + "/highest", {lv.back()}, {})});
  // Levels along a new leading axis: [L, 1, ..., 1] - x -> [L, ...], then
  // ArgMin over it (its first minimum: the lowest level on ties).
  std::vector<std::int64_t> column(rank + 1, 1);
  column[0] = L;
  const std::string d = g.add_node(
      scope, "Abs",
      {g.add_node(scope, "Sub", {c, g.add_constant(scope + "/levels_column", lv, column)})});
  const std::string index = g.add_node(
      scope, "ArgMin", {d}, {attr("axis", std::int64_t{0}), attr("keepdims", std::int64_t{0})});
  return g.add_node(scope, "Gather", {g.add_constant(scope + "/levels", lv, {L}), index});
}

template <class T>
std::string weight_from_codes(GraphBuilder& g, const std::string& path,
                              const quant::quantized::QuantizedLayer<T>& layer) {
  const std::string scope = ExportContext<T>::scope(path);
  const xt::xarray<std::int64_t> codes = layer.weight_codes();
  const std::vector<std::int64_t> code_values(codes.begin(), codes.end());
  const Shape& shape = layer.weight_shape();
  const std::size_t width = std::size_t(1) << layer.code_bits();
  const xt::xarray<T>& levels = layer.weight_levels();
  const auto cast = [&](const std::string& codes_name) {
    // Runtimes refuse uint8 indices: int64 for Gather.
    return g.add_node(scope, "Cast", {codes_name},
                      {attr("to", std::int64_t{::onnx::TensorProto::INT64})});
  };
  if (levels.dimension() == 2 && levels.shape()[0] > 1) {
    // One table per output channel: row o of the codes gathers from row o.
    const auto rows = static_cast<std::int64_t>(shape[0]);
    const auto cols = static_cast<std::int64_t>(codes.size()) / rows;
    const std::string index =
        cast(g.add_integer_initializer(ExportContext<T>::state_name(path, "weight_codes"),
                                       ::onnx::TensorProto::UINT8, code_values, {rows, cols}));
    std::string w = g.add_node(
        scope, "GatherElements",
        {g.add_initializer(ExportContext<T>::state_name(path, "weight_table"), levels), index},
        {attr("axis", std::int64_t{1})});
    if (shape.size() != 2)
      w = g.add_node(scope, "Reshape",
                     {w, g.add_int64_initializer(scope + "/weight_shape", dims_of(shape))});
    return w;
  }
  // One table, by code: a converted layer's row, or LinearAPoT's levels
  // placed at their codes (codes of no level are never used: 0). The levels
  // already carry the scale (LinearAPoT's gamma): no Mul.
  xt::xarray<T> table = xt::zeros<T>({width});
  if (levels.dimension() == 2) {
    std::copy(levels.begin(), levels.end(), table.begin());
  } else {
    const xt::xarray<std::int64_t> at = layer.level_codes();
    for (std::size_t r = 0; r < levels.size(); ++r) table(std::size_t(at(r))) = levels(r);
  }
  const std::string index =
      cast(g.add_integer_initializer(ExportContext<T>::state_name(path, "weight_codes"),
                                     ::onnx::TensorProto::UINT8, code_values, dims_of(shape)));
  return g.add_node(
      scope, "Gather",
      {g.add_initializer(ExportContext<T>::state_name(path, "weight_table"), table), index});
}

#define XGRAD_ONNX_QUANT_NODES(T)                                                                  \
  template void require_frozen(const ExportCall<T>&);                                              \
  template Value<T> quantized_input(ExportContext<T>&, const ExportCall<T>&,                       \
                                    const std::shared_ptr<quant::FakeQuantizeBase<T>>&);           \
  template std::string uniform_nodes(GraphBuilder&, const std::string&, const std::string&,        \
                                     std::size_t, const std::vector<T>&,                           \
                                     const std::vector<std::int64_t>&, std::int64_t, std::int64_t, \
                                     std::int64_t, const std::string&);                            \
  template std::string nearest_level_nodes(GraphBuilder&, const std::string&, const std::string&,  \
                                           std::size_t, const std::vector<T>&);                    \
  template std::string weight_from_codes(GraphBuilder&, const std::string&,                        \
                                         const quant::quantized::QuantizedLayer<T>&);
XGRAD_ONNX_QUANT_NODES(float)
XGRAD_ONNX_QUANT_NODES(double)

}  // namespace xgrad::onnx::detail
