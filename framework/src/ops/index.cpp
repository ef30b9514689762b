// Tensor::index and index_put_ (libtorch's indexing with integers, Slice, None
// and Ellipsis). An index list resolves to one range (first, step, count) per
// input axis; index gathers that region in row-major order (its elements are
// the result's, in order: integers drop an axis, None adds one of extent 1),
// its backward scatters the gradient back, and index_put_ writes the region.
#include <algorithm>
#include <string>
#include <utility>
#include <xtensor/xbroadcast.hpp>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/indexing.hpp"

namespace xgrad {

namespace indexing {

TensorIndex::TensorIndex(const char* text) : kind_(Kind::ellipsis) {
  XGRAD_CHECK(text != nullptr && std::string(text) == "...", ValueError,
              "TensorIndex: the only text index is \"...\" (Ellipsis), got \"",
              text ? text : "(null)", "\"");
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;

struct AxisRange {
  std::size_t first = 0, step = 1, count = 0;
};

struct Region {
  std::vector<AxisRange> ranges;  // one per input axis
  Shape shape;                    // of index()'s result
};

// The region `indices` name in a tensor of `shape`; `op` names the caller.
Region resolve(const Shape& shape, const std::vector<TensorIndex>& indices, const char* op) {
  const std::size_t nd = shape.size();
  std::size_t consuming = 0, ellipses = 0;
  for (const auto& t : indices) {
    consuming += t.kind() == TensorIndex::Kind::integer || t.kind() == TensorIndex::Kind::slice;
    ellipses += t.kind() == TensorIndex::Kind::ellipsis;
  }
  XGRAD_CHECK(ellipses <= 1, ValueError, op, ": an index may hold one Ellipsis, got ", ellipses);
  XGRAD_CHECK(consuming <= nd, ShapeError, op, ": too many indices (", consuming,
              ") for a tensor of shape ", shape);
  Region r;
  std::size_t axis = 0;
  const auto full = [&](std::size_t count) {
    for (; count > 0; --count, ++axis) {
      r.ranges.push_back({0, 1, shape[axis]});
      r.shape.push_back(shape[axis]);
    }
  };
  for (const auto& t : indices) {
    switch (t.kind()) {
      case TensorIndex::Kind::integer: {
        const auto extent = static_cast<std::int64_t>(shape[axis]);
        const std::int64_t i = t.integer();
        XGRAD_CHECK(i >= -extent && i < extent, ValueError, op, ": index ", i,
                    " is out of range for dim ", axis, " of extent ", extent, " (tensor of shape ",
                    shape, ")");
        r.ranges.push_back({static_cast<std::size_t>(i < 0 ? i + extent : i), 1, 1});
        ++axis;
        break;
      }
      case TensorIndex::Kind::slice: {
        const auto extent = static_cast<std::int64_t>(shape[axis]);
        const auto& s = t.slice();
        const std::int64_t step = s.step.value_or(1);
        XGRAD_CHECK(step >= 1, ValueError, op, ": a Slice step must be >= 1, got ", step, " (dim ",
                    axis, ")");
        const auto bound = [extent](std::int64_t i) {
          return std::clamp<std::int64_t>(i < 0 ? i + extent : i, 0, extent);
        };
        const std::int64_t first = bound(s.start.value_or(0));
        const std::int64_t last = bound(s.stop.value_or(extent));
        const std::int64_t count = last > first ? (last - first - 1) / step + 1 : 0;
        r.ranges.push_back({static_cast<std::size_t>(first), static_cast<std::size_t>(step),
                            static_cast<std::size_t>(count)});
        r.shape.push_back(static_cast<std::size_t>(count));
        ++axis;
        break;
      }
      case TensorIndex::Kind::none:
        r.shape.push_back(1);
        break;
      case TensorIndex::Kind::ellipsis:
        full(nd - consuming);
        break;
    }
  }
  full(nd - axis);  // the axes no index named
  return r;
}

// Calls f(position in the source, position in the region) for every element
// of the region, the region in row-major order.
template <class F>
void for_each_element(const Shape& shape, const std::vector<AxisRange>& ranges, F f) {
  const std::size_t nd = shape.size();
  std::size_t total = 1;
  for (const auto& r : ranges) total *= r.count;
  if (total == 0) return;
  if (nd == 0) return f(std::size_t(0), std::size_t(0));
  Shape strides(nd);
  for (std::size_t k = nd, stride = 1; k-- > 0;) {
    strides[k] = stride;
    stride *= shape[k];
  }
  Shape index(nd, 0);
  std::size_t base = 0;  // source position of index[0..nd-2] with the last axis at its first
  for (std::size_t k = 0; k < nd; ++k) base += ranges[k].first * strides[k];
  const AxisRange& inner = ranges[nd - 1];
  for (std::size_t done = 0; done < total; done += inner.count) {
    for (std::size_t j = 0; j < inner.count; ++j) f(base + j * inner.step, done + j);
    for (std::size_t d = nd - 1; d-- > 0;) {  // advance the outer axes
      base += ranges[d].step * strides[d];
      if (++index[d] < ranges[d].count) break;
      base -= ranges[d].step * strides[d] * ranges[d].count;
      index[d] = 0;
    }
  }
}

// saved_ints: first, step, count of each input axis.
struct IndexFn : Function<IndexFn> {
  static constexpr const char* name = "IndexBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const Region& region) {
    auto out = detail::new_array<T>(region.shape);
    const T* src = a.data().data();
    T* dst = out.data();
    for_each_element(a.shape(), region.ranges,
                     [&](std::size_t from, std::size_t to) { dst[to] = src[from]; });
    if (ctx.recording()) {
      for (const auto& r : region.ranges) {
        ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(r.first));
        ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(r.step));
        ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(r.count));
      }
    }
    return out;
  }

  // Each input element is in the region at most once (steps >= 1): a scatter.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& shape = ctx.input_shape(0);
    std::vector<AxisRange> ranges(shape.size());
    for (std::size_t k = 0; k < ranges.size(); ++k) {
      ranges[k] = {static_cast<std::size_t>(ctx.saved_ints[3 * k]),
                   static_cast<std::size_t>(ctx.saved_ints[3 * k + 1]),
                   static_cast<std::size_t>(ctx.saved_ints[3 * k + 2])};
    }
    xt::xarray<T> g = detail::new_zeros<T>(shape);
    const T* src = grad.data();
    T* dst = g.data();
    for_each_element(shape, ranges, [&](std::size_t to, std::size_t from) { dst[to] = src[from]; });
    return gradients(std::move(g));
  }
};

}  // namespace

template <class T>
Tensor<T> index(const Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices) {
  require_defined(a, "index", "input");
  return as_view_copy(IndexFn::apply(a, resolve(a.shape(), indices, "index")), a, "index");
}

template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices,
                      typename Tensor<T>::value_type value) {
  require_defined(a, "index_put_", "input");
  const Region region = resolve(a.shape(), indices, "index_put_");
  a.check_writable("index_put_");
  T* dst = a.mutable_data().data();
  for_each_element(a.shape(), region.ranges, [&](std::size_t to, std::size_t) { dst[to] = value; });
  return a;
}

template <class T>
Tensor<T>& index_put_(Tensor<T>& a, const std::vector<indexing::TensorIndex>& indices,
                      const Tensor<T>& value) {
  require_defined(a, "index_put_", "input");
  require_defined(value, "index_put_", "value");
  const Region region = resolve(a.shape(), indices, "index_put_");
  XGRAD_CHECK(broadcast_shapes(value.shape(), region.shape, "index_put_") == region.shape,
              ShapeError, "index_put_: a value of shape ", value.shape(),
              " does not broadcast to the indexed region's shape ", region.shape);
  XGRAD_CHECK(!(value.requires_grad() && GradMode::is_enabled()), StateError,
              "index_put_: the value requires grad, and in-place writes are not recorded (use "
              "NoGradGuard, or build the tensor with concat / where)");
  a.check_writable("index_put_");
  // Materialized first: value may share a's storage.
  const xt::xarray<T> v = xt::broadcast(value.data(), region.shape);
  const T* src = v.data();
  T* dst = a.mutable_data().data();
  for_each_element(a.shape(), region.ranges,
                   [&](std::size_t to, std::size_t from) { dst[to] = src[from]; });
  return a;
}

#define XGRAD_INSTANTIATE(T)                                                                \
  template Tensor<T> index(const Tensor<T>&, const std::vector<indexing::TensorIndex>&);    \
  template Tensor<T>& index_put_(Tensor<T>&, const std::vector<indexing::TensorIndex>&, T); \
  template Tensor<T>& index_put_(Tensor<T>&, const std::vector<indexing::TensorIndex>&,     \
                                 const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
