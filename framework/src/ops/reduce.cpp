// Reductions. The reduced axes are grouped into runs of adjacent axes; each run
// is summed over an [outer, extent, inner] view (axis_split.hpp), last run
// first, so sum over all axes is one flat loop and a column sum is a row-wise
// vectorizable loop. Backward broadcasts the gradient back run by run.
#include "xgrad/ops/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "axis_split.hpp"
#include "kernels.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"
#include "xgrad/ops/labels.hpp"

namespace xgrad {

namespace {

// Normalized, sorted axes; ShapeError naming `op` on an out-of-range or
// repeated axis.
std::vector<std::size_t> normalize_axes(const Axes& axes, const Shape& shape, const char* op) {
  std::vector<std::size_t> out;
  out.reserve(axes.size());
  for (auto axis : axes) out.push_back(normalize_axis(axis, shape.size(), op));
  std::sort(out.begin(), out.end());
  XGRAD_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), ShapeError, op, ": axes ",
              axes, " name the same axis twice (tensor of shape ", shape, ")");
  return out;
}

// Maximal runs [first, last) of adjacent axes in sorted `axes`.
std::vector<std::pair<std::size_t, std::size_t>> runs_of(const std::vector<std::size_t>& axes) {
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = 0; i < axes.size();) {
    std::size_t j = i + 1;
    while (j < axes.size() && axes[j] == axes[j - 1] + 1) ++j;
    runs.emplace_back(axes[i], axes[j - 1] + 1);
    i = j;
  }
  return runs;
}

// Sums the axes [first, last) of `a`, keeping them with extent 1. A run that
// ends at the last axis (inner == 1) is a flat sum, accumulated in double
// (kernels::flat_sum). Rows, or columns when there is one block, are split
// over threads; a column is never split, so results do not depend on them.
template <class T>
xt::xarray<T> sum_run(const xt::xarray<T>& a, std::size_t first, std::size_t last) {
  const AxisSplit s = split_axes(a.shape(), first, last);
  Shape shape = a.shape();
  for (std::size_t k = first; k < last; ++k) shape[k] = 1;
  auto out = detail::new_array<T>(shape);
  const T* src = a.data();
  T* dst = out.data();
  if (s.inner == 1) {  // one flat sum per outer row
    detail::parallel_for(s.outer, detail::row_grain(s.extent), [&](std::size_t b, std::size_t e) {
      for (std::size_t o = b; o < e; ++o)
        dst[o] = static_cast<T>(kernels::flat_sum(src + o * s.extent, s.extent));
    });
    return out;
  }
  // Columns [first, last) of outer block o: rows added in order.
  const auto columns = [&](std::size_t o, std::size_t first, std::size_t last) {
    const T* block = src + o * s.extent * s.inner;
    T* d = dst + o * s.inner;
    std::fill(d + first, d + last, T(0));
    for (std::size_t j = 0; j < s.extent; ++j) {
      const T* row = block + j * s.inner;
      for (std::size_t i = first; i < last; ++i) d[i] += row[i];
    }
  };
  if (s.outer == 1) {  // split the independent columns
    detail::parallel_for(s.inner, detail::row_grain(s.extent),
                         [&](std::size_t b, std::size_t e) { columns(0, b, e); });
  } else {
    detail::parallel_for(s.outer, detail::row_grain(s.extent * s.inner),
                         [&](std::size_t b, std::size_t e) {
                           for (std::size_t o = b; o < e; ++o) columns(o, 0, s.inner);
                         });
  }
  return out;
}

// Inverse of sum_run's shape change: repeats `g` (extent 1 on [first, last))
// along those axes to `shape`.
template <class T>
xt::xarray<T> expand_run(const xt::xarray<T>& g, const Shape& shape, std::size_t first,
                         std::size_t last) {
  Shape out_shape = g.shape();
  for (std::size_t k = first; k < last; ++k) out_shape[k] = shape[k];
  const AxisSplit s = split_axes(out_shape, first, last);
  auto out = detail::new_array<T>(out_shape);
  const T* src = g.data();
  T* dst = out.data();
  detail::parallel_for(s.outer, detail::row_grain(s.extent * s.inner),
                       [&](std::size_t b, std::size_t e) {
                         for (std::size_t o = b; o < e; ++o) {
                           T* d = dst + o * s.extent * s.inner;
                           for (std::size_t j = 0; j < s.extent; ++j, d += s.inner)
                             std::copy_n(src + o * s.inner, s.inner, d);
                         }
                       });
  return out;
}

// `shape` with the sorted `axes` removed (or set to 1 with keepdims).
Shape reduced_shape(const Shape& shape, const std::vector<std::size_t>& axes, bool keepdims) {
  Shape out;
  for (std::size_t k = 0, r = 0; k < shape.size(); ++k) {
    const bool reduced = r < axes.size() && axes[r] == k;
    if (reduced) ++r;
    if (!reduced)
      out.push_back(shape[k]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

// Sum or mean (Mean == true) over sorted, distinct axes. saved_ints holds the
// axes for backward.
template <bool Mean>
struct SumMeanFn : Function<SumMeanFn<Mean>> {
  static constexpr const char* name = Mean ? "MeanBackward" : "SumBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a,
                               const std::vector<std::size_t>& axes, bool keepdims) {
    const auto runs = runs_of(axes);
    xt::xarray<T> out;
    if (runs.empty()) {
      out = a.data();
    } else {
      out = sum_run(a.data(), runs.back().first, runs.back().second);
      for (std::size_t r = runs.size() - 1; r-- > 0;) {
        out = sum_run(out, runs[r].first, runs[r].second);
      }
    }
    if (Mean) {
      // An empty reduction gives 0 / 0 = NaN, as in NumPy and libtorch.
      const T inv = T(1) / static_cast<T>(count(a.shape(), axes));
      for (auto& v : out) v *= inv;
    }
    if (!keepdims) out.reshape(reduced_shape(a.shape(), axes, false));
    if (ctx.recording()) ctx.saved_ints.assign(axes.begin(), axes.end());
    return out;
  }

  // Takes the gradient by value: it is reshaped and scaled in place.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> g) {
    const Shape& shape = ctx.input_shape(0);
    const std::vector<std::size_t> axes(ctx.saved_ints.begin(), ctx.saved_ints.end());
    g.reshape(reduced_shape(shape, axes, true));
    if (Mean) {
      const T inv = T(1) / static_cast<T>(count(shape, axes));
      for (auto& v : g) v *= inv;
    }
    for (const auto& run : runs_of(axes)) g = expand_run(g, shape, run.first, run.second);
    return gradients(std::move(g));
  }

  static std::size_t count(const Shape& shape, const std::vector<std::size_t>& axes) {
    std::size_t n = 1;
    for (auto k : axes) n *= shape[k];
    return n;
  }
};

using SumFn = SumMeanFn<false>;
using MeanFn = SumMeanFn<true>;

std::vector<std::size_t> all_axes(std::size_t ndim) {
  std::vector<std::size_t> axes(ndim);
  for (std::size_t k = 0; k < ndim; ++k) axes[k] = k;
  return axes;
}

// best[o, i] = max over j of src[o, j, i] and where[o, i] = its first j (a
// NaN wins, the first one). Shared by max and argmax; extent must be >= 1.
template <class T, class Index>
void max_scan(const T* src, const AxisSplit& s, T* best_out, Index* where_out) {
  for (std::size_t o = 0; o < s.outer; ++o) {
    const T* block = src + o * s.extent * s.inner;
    T* best = best_out + o * s.inner;
    Index* where = where_out + o * s.inner;
    std::copy_n(block, s.inner, best);
    std::fill_n(where, s.inner, Index(0));
    for (std::size_t j = 1; j < s.extent; ++j) {
      const T* row = block + j * s.inner;
      for (std::size_t i = 0; i < s.inner; ++i) {
        if (row[i] > best[i] || (std::isnan(row[i]) && !std::isnan(best[i]))) {
          best[i] = row[i];
          where[i] = static_cast<Index>(j);
        }
      }
    }
  }
}

// Maximum over one axis. NaN wins (the first NaN, like libtorch). saved_ints
// holds, for each output element, the position of its maximum along the axis.
struct MaxFn : Function<MaxFn> {
  static constexpr const char* name = "MaxBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, std::size_t axis,
                               bool keepdims) {
    const AxisSplit s = split_at(a.shape(), axis);
    Shape shape = a.shape();
    shape[axis] = 1;
    auto out = detail::new_array<T>(shape);
    std::vector<std::ptrdiff_t> arg(s.outer * s.inner, 0);
    max_scan(a.data().data(), s, out.data(), arg.data());
    if (!keepdims) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis));
    out.reshape(shape);
    if (ctx.recording()) {
      ctx.saved_ints = std::move(arg);
      ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(axis));
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& shape = ctx.input_shape(0);
    const auto axis = static_cast<std::size_t>(ctx.saved_ints.back());
    const AxisSplit s = split_at(shape, axis);
    xt::xarray<T> g = detail::new_zeros<T>(shape);
    const T* src = grad.data();
    T* dst = g.data();
    for (std::size_t o = 0; o < s.outer; ++o) {
      for (std::size_t i = 0; i < s.inner; ++i) {
        const std::size_t j = static_cast<std::size_t>(ctx.saved_ints[o * s.inner + i]);
        dst[(o * s.extent + j) * s.inner + i] = src[o * s.inner + i];
      }
    }
    return gradients(std::move(g));
  }
};

}  // namespace

template <class T>
Tensor<T> sum(const Tensor<T>& a) {
  require_defined(a, "sum", "input");
  return SumFn::apply(a, all_axes(a.dim()), false);
}

template <class T>
Tensor<T> mean(const Tensor<T>& a) {
  require_defined(a, "mean", "input");
  return MeanFn::apply(a, all_axes(a.dim()), false);
}

template <class T>
Tensor<T> sum(const Tensor<T>& a, const Axes& axes, bool keepdims) {
  require_defined(a, "sum", "input");
  return SumFn::apply(a, normalize_axes(axes, a.shape(), "sum"), keepdims);
}

template <class T>
Tensor<T> mean(const Tensor<T>& a, const Axes& axes, bool keepdims) {
  require_defined(a, "mean", "input");
  return MeanFn::apply(a, normalize_axes(axes, a.shape(), "mean"), keepdims);
}

template <class T>
Tensor<T> max(const Tensor<T>& a, std::ptrdiff_t axis, bool keepdims) {
  require_defined(a, "max", "input");
  const std::size_t ax = normalize_axis(axis, a.dim(), "max");
  XGRAD_CHECK(a.shape()[ax] != 0, ShapeError, "max: cannot reduce over axis ", axis,
              " of extent 0 (tensor of shape ", a.shape(), ")");
  return MaxFn::apply(a, ax, keepdims);
}

template <class T>
Labels argmax(const Tensor<T>& a, std::ptrdiff_t dim, bool keepdim) {
  require_defined(a, "argmax", "input");
  const std::size_t ax = normalize_axis(dim, a.dim(), "argmax");
  XGRAD_CHECK(a.shape()[ax] != 0, ShapeError, "argmax: cannot reduce over dim ", dim,
              " of extent 0 (tensor of shape ", a.shape(), ")");
  const AxisSplit s = split_at(a.shape(), ax);
  Shape shape = a.shape();
  shape[ax] = 1;
  std::vector<T> best(s.outer * s.inner);
  Labels out = Labels::from_shape(shape);
  max_scan(a.data().data(), s, best.data(), out.data());
  if (!keepdim) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(ax));
  out.reshape(shape);
  return out;
}

#define XGRAD_INSTANTIATE(T)                                      \
  template Tensor<T> sum(const Tensor<T>&);                       \
  template Tensor<T> mean(const Tensor<T>&);                      \
  template Tensor<T> sum(const Tensor<T>&, const Axes&, bool);    \
  template Tensor<T> mean(const Tensor<T>&, const Axes&, bool);   \
  template Tensor<T> max(const Tensor<T>&, std::ptrdiff_t, bool); \
  template Labels argmax(const Tensor<T>&, std::ptrdiff_t, bool);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
