// index_select over an [outer, extent, inner] view of the input: each selected
// slice is one contiguous block copy per outer step. Along axis 0 (mini-batch
// rows) outer is 1, so the whole op is one block copy per index.
#include "xgrad/ops/indexing.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "axis_split.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// saved_ints holds the indices, then the axis.
struct IndexSelectFn : Function<IndexSelectFn> {
  static constexpr const char* name = "IndexSelectBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, std::size_t axis,
                               const std::vector<std::size_t>& indices) {
    const AxisSplit s = split_at(a.shape(), axis);
    Shape shape = a.shape();
    shape[axis] = indices.size();
    auto out = detail::new_array<T>(shape);
    const T* src = a.data().data();
    T* dst = out.data();
    for (std::size_t o = 0; o < s.outer; ++o, src += s.extent * s.inner) {
      for (auto index : indices) dst = std::copy_n(src + index * s.inner, s.inner, dst);
    }
    if (ctx.recording()) {
      ctx.saved_ints.assign(indices.begin(), indices.end());
      ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(axis));
    }
    return out;
  }

  // Scatter-add: repeated indices accumulate.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& shape = ctx.input_shape(0);
    const auto axis = static_cast<std::size_t>(ctx.saved_ints.back());
    const std::size_t count = ctx.saved_ints.size() - 1;
    const AxisSplit s = split_at(shape, axis);
    xt::xarray<T> g = detail::new_zeros<T>(shape);
    const T* src = grad.data();
    T* dst = g.data();
    for (std::size_t o = 0; o < s.outer; ++o, dst += s.extent * s.inner) {
      for (std::size_t j = 0; j < count; ++j, src += s.inner) {
        T* slice = dst + static_cast<std::size_t>(ctx.saved_ints[j]) * s.inner;
        for (std::size_t i = 0; i < s.inner; ++i) slice[i] += src[i];
      }
    }
    return gradients(std::move(g));
  }
};

}  // namespace

template <class T>
Tensor<T> index_select(const Tensor<T>& a, std::ptrdiff_t axis,
                       const std::vector<std::size_t>& indices) {
  require_defined(a, "index_select", "input");
  const std::size_t ax = normalize_axis(axis, a.dim(), "index_select");
  const std::size_t extent = a.shape()[ax];
  for (std::size_t j = 0; j < indices.size(); ++j) {
    XGRAD_CHECK(indices[j] < extent, ValueError, "index_select: index ", indices[j],
                " at position ", j, " is out of range for axis ", axis, " of extent ", extent,
                " (tensor of shape ", a.shape(), ")");
  }
  return IndexSelectFn::apply(a, ax, indices);
}

template Tensor<float> index_select(const Tensor<float>&, std::ptrdiff_t,
                                    const std::vector<std::size_t>&);
template Tensor<double> index_select(const Tensor<double>&, std::ptrdiff_t,
                                     const std::vector<std::size_t>&);

}  // namespace xgrad
