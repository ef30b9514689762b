// Layers that only move data:
// - Flatten(1, -1) -> Flatten(axis = 1); other axis ranges -> Reshape to the
//   traced shape, with 0 ("keep") for the free batch axis and -1 for a merged
//   axis that includes it;
// - Dropout -> nothing (eval mode: the identity, as torch.onnx.export).
#include "../export_context.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"

namespace xgrad::onnx::detail {

template <class T>
Value<T> export_flatten(ExportContext<T>& ctx, const ExportCall<T>& c) {
  const auto& m = static_cast<const nn::Flatten<T>&>(c.module);
  Value<T> out = ctx.run_forward(c);
  const std::vector<std::int64_t>& in = c.input.dims;
  const auto rank = static_cast<std::ptrdiff_t>(in.size());
  // forward has checked both axes against the rank.
  const std::ptrdiff_t start = m.start_dim() < 0 ? m.start_dim() + rank : m.start_dim();
  const std::ptrdiff_t end = m.end_dim() < 0 ? m.end_dim() + rank : m.end_dim();
  if (start == end) {  // nothing merged
    out.name = c.input.name;
    out.dims = in;
    return out;
  }
  std::int64_t merged = 1;
  for (std::ptrdiff_t a = start; a <= end; ++a)
    merged = in[a] < 0 || merged < 0 ? -1 : merged * in[a];
  std::vector<std::int64_t> dims(in.begin(), in.begin() + start), target;
  dims.push_back(merged < 0 ? kUnknownDim : merged);
  dims.insert(dims.end(), in.begin() + end + 1, in.end());
  GraphBuilder& g = ctx.graph();
  const std::string scope = ExportContext<T>::scope(c.path);
  if (start == 1 && end == rank - 1) {
    out.name = g.add_node(scope, "Flatten", {c.input.name}, {attr("axis", std::int64_t{1})});
  } else {
    for (std::int64_t d : dims) target.push_back(d == kBatchDim ? 0 : d == kUnknownDim ? -1 : d);
    out.name = g.add_node(scope, "Reshape",
                          {c.input.name, g.add_int64_initializer(scope + "/shape", target)});
  }
  out.dims = dims;
  return out;
}

template <class T>
Value<T> export_dropout(ExportContext<T>& ctx, const ExportCall<T>& c) {
  Value<T> out = ctx.run_forward(c);
  out.name = c.input.name;
  out.dims = c.input.dims;
  return out;
}

template Value<float> export_flatten(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_flatten(ExportContext<double>&, const ExportCall<double>&);
template Value<float> export_dropout(ExportContext<float>&, const ExportCall<float>&);
template Value<double> export_dropout(ExportContext<double>&, const ExportCall<double>&);

}  // namespace xgrad::onnx::detail
