// slice / narrow / select: one strided copy over the [outer, extent, inner]
// view of the input; backward scatters the gradient into zeros.
#include "xgrad/ops/slicing.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "axis_split.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// saved_ints: axis, start, step, count.
struct SliceFn : Function<SliceFn> {
  static constexpr const char* name = "SliceBackward";

  // keep_axis false removes the (count 1) axis: select.
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, std::size_t axis,
                               std::size_t start, std::size_t step, std::size_t count,
                               bool keep_axis) {
    const AxisSplit s = split_at(a.shape(), axis);
    Shape shape = a.shape();
    if (keep_axis) {
      shape[axis] = count;
    } else {
      shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis));
    }
    auto out = detail::new_array<T>(shape);
    const T* src = a.data().data();
    T* dst = out.data();
    for (std::size_t o = 0; o < s.outer; ++o, src += s.extent * s.inner) {
      for (std::size_t j = 0; j < count; ++j) {
        dst = std::copy_n(src + (start + j * step) * s.inner, s.inner, dst);
      }
    }
    if (ctx.recording()) {
      ctx.saved_ints = {static_cast<std::ptrdiff_t>(axis), static_cast<std::ptrdiff_t>(start),
                        static_cast<std::ptrdiff_t>(step), static_cast<std::ptrdiff_t>(count)};
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& shape = ctx.input_shape(0);
    const auto axis = static_cast<std::size_t>(ctx.saved_ints[0]);
    const auto start = static_cast<std::size_t>(ctx.saved_ints[1]);
    const auto step = static_cast<std::size_t>(ctx.saved_ints[2]);
    const auto count = static_cast<std::size_t>(ctx.saved_ints[3]);
    const AxisSplit s = split_at(shape, axis);
    xt::xarray<T> g = detail::new_zeros<T>(shape);
    const T* src = grad.data();
    T* dst = g.data();
    for (std::size_t o = 0; o < s.outer; ++o, dst += s.extent * s.inner) {
      for (std::size_t j = 0; j < count; ++j, src += s.inner) {
        std::copy_n(src, s.inner, dst + (start + j * step) * s.inner);
      }
    }
    return gradients(std::move(g));
  }
};

}  // namespace

template <class T>
Tensor<T> slice(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t start, std::int64_t end,
                std::int64_t step) {
  require_defined(a, "slice", "input");
  const std::size_t axis = normalize_axis(dim, a.dim(), "slice");
  XGRAD_CHECK(step >= 1, ValueError, "slice: step must be >= 1, got ", step);
  const auto extent = static_cast<std::int64_t>(a.shape()[axis]);
  auto clamp_index = [extent](std::int64_t i) {
    if (i < 0) i += extent;
    return std::clamp<std::int64_t>(i, 0, extent);
  };
  const std::int64_t first = clamp_index(start), last = clamp_index(end);
  const std::int64_t count = last > first ? (last - first - 1) / step + 1 : 0;
  return as_view_copy(
      SliceFn::apply(a, axis, static_cast<std::size_t>(first), static_cast<std::size_t>(step),
                     static_cast<std::size_t>(count), true),
      a, "slice");
}

template <class T>
Tensor<T> narrow(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t start, std::int64_t length) {
  require_defined(a, "narrow", "input");
  const std::size_t axis = normalize_axis(dim, a.dim(), "narrow");
  const auto extent = static_cast<std::int64_t>(a.shape()[axis]);
  const std::int64_t first = start < 0 ? start + extent : start;
  XGRAD_CHECK(first >= 0 && first <= extent, ValueError, "narrow: start ", start,
              " is out of range for dim ", dim, " of extent ", extent, " (tensor of shape ",
              a.shape(), ")");
  XGRAD_CHECK(length >= 0 && length <= extent - first, ValueError, "narrow: length ", length,
              " from start ", start, " exceeds dim ", dim, " of extent ", extent,
              " (tensor of shape ", a.shape(), ")");
  return as_view_copy(SliceFn::apply(a, axis, static_cast<std::size_t>(first), std::size_t(1),
                                     static_cast<std::size_t>(length), true),
                      a, "narrow");
}

template <class T>
Tensor<T> select(const Tensor<T>& a, std::ptrdiff_t dim, std::int64_t index) {
  require_defined(a, "select", "input");
  const std::size_t axis = normalize_axis(dim, a.dim(), "select");
  const auto extent = static_cast<std::int64_t>(a.shape()[axis]);
  XGRAD_CHECK(index >= -extent && index < extent, ValueError, "select: index ", index,
              " is out of range for dim ", dim, " of extent ", extent, " (tensor of shape ",
              a.shape(), ")");
  const std::int64_t i = index < 0 ? index + extent : index;
  return as_view_copy(
      SliceFn::apply(a, axis, static_cast<std::size_t>(i), std::size_t(1), std::size_t(1), false),
      a, "select");
}

#define XGRAD_INSTANTIATE(T)                                                               \
  template Tensor<T> slice(const Tensor<T>&, std::ptrdiff_t, std::int64_t, std::int64_t,   \
                           std::int64_t);                                                  \
  template Tensor<T> narrow(const Tensor<T>&, std::ptrdiff_t, std::int64_t, std::int64_t); \
  template Tensor<T> select(const Tensor<T>&, std::ptrdiff_t, std::int64_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
