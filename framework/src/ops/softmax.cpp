// Softmax and log-softmax along one axis. Each lane (the elements along the
// axis for one position of the other axes) is shifted by its maximum before
// exponentiating, so large inputs never overflow.
#include "xgrad/ops/softmax.hpp"

#include <cmath>
#include <limits>

#include "axis_split.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// The tensor seen as [outer, extent, inner] around the axis (axis_split.hpp);
// a 0-d tensor is one lane of one element (as in PyTorch, axis 0 or -1 is
// accepted for it).
AxisSplit lanes_of(const Shape& shape, std::ptrdiff_t axis, const char* op) {
  const std::size_t ax = normalize_axis(axis, shape.empty() ? 1 : shape.size(), op);
  return shape.empty() ? AxisSplit{} : split_at(shape, ax);
}

// Calls f(first, stride) for every lane; lane element k is at first + k * stride.
// Lanes of an empty axis hold nothing (and the data pointer may be null, where
// even computing first would be UB): no calls. Lanes are independent, so they
// are split over threads (never a lane).
template <class F>
void for_each_lane(const AxisSplit& l, F f) {
  if (l.extent == 0) return;
  detail::parallel_for(l.outer * l.inner, detail::row_grain(l.extent),
                       [&](std::size_t b, std::size_t e) {
                         for (std::size_t lane = b; lane < e; ++lane) {
                           const std::size_t o = lane / l.inner, i = lane % l.inner;
                           f(o * l.extent * l.inner + i, l.inner);
                         }
                       });
}

template <class T>
T lane_max(const T* x, std::size_t n, std::size_t stride) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t k = 0; k < n; ++k) m = x[k * stride] > m ? x[k * stride] : m;
  return m;
}

template <class T>
void save_lanes(Context<T>& ctx, const AxisSplit& l) {
  ctx.saved_ints = {static_cast<std::ptrdiff_t>(l.outer), static_cast<std::ptrdiff_t>(l.extent),
                    static_cast<std::ptrdiff_t>(l.inner)};
}

template <class T>
AxisSplit saved_lanes(const Context<T>& ctx) {
  AxisSplit l;
  l.outer = static_cast<std::size_t>(ctx.saved_ints[0]);
  l.extent = static_cast<std::size_t>(ctx.saved_ints[1]);
  l.inner = static_cast<std::size_t>(ctx.saved_ints[2]);
  return l;
}

// Both ops over each lane, with m the lane's maximum and s = sum exp(x - m):
//   softmax      y = exp(x - m) / s,      dx = y * (g - sum(g * y));
//   log_softmax  y = (x - m) - log(s),    dx = g - exp(y) * sum(g).
template <bool Log>
struct SoftmaxFn : Function<SoftmaxFn<Log>> {
  static constexpr const char* name = Log ? "LogSoftmaxBackward" : "SoftmaxBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, std::ptrdiff_t axis) {
    const AxisSplit l = lanes_of(a.shape(), axis, Log ? "log_softmax" : "softmax");
    auto out = detail::new_array<T>(a.shape());
    const T* x = a.data().data();
    T* y = out.data();
    const std::size_t n = l.extent;
    for_each_lane(l, [&](std::size_t first, std::size_t stride) {
      const T m = lane_max(x + first, n, stride);
      T sum = 0;
      for (std::size_t k = 0, i = first; k < n; ++k, i += stride) {
        const T e = std::exp(x[i] - m);
        sum += e;
        if constexpr (!Log) y[i] = e;
      }
      if constexpr (Log) {
        const T log_sum = std::log(sum);
        for (std::size_t k = 0, i = first; k < n; ++k, i += stride) y[i] = (x[i] - m) - log_sum;
      } else {
        for (std::size_t k = 0, i = first; k < n; ++k, i += stride) y[i] /= sum;
      }
    });
    if (ctx.recording()) {
      save_lanes(ctx, l);
      ctx.save_output();
    }
    return out;
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const AxisSplit l = saved_lanes(ctx);
    const T* y = ctx.output().data();
    const T* pg = g.data();
    auto dx = detail::new_array<T>(g.shape());
    T* d = dx.data();
    const std::size_t n = l.extent;
    for_each_lane(l, [&](std::size_t first, std::size_t stride) {
      T sum = 0;  // sum(g) for log_softmax, sum(g * y) for softmax
      for (std::size_t k = 0, i = first; k < n; ++k, i += stride) sum += Log ? pg[i] : pg[i] * y[i];
      for (std::size_t k = 0, i = first; k < n; ++k, i += stride)
        d[i] = Log ? pg[i] - std::exp(y[i]) * sum : y[i] * (pg[i] - sum);
    });
    return gradients(std::move(dx));
  }
};

}  // namespace

template <class T>
Tensor<T> softmax(const Tensor<T>& a, std::ptrdiff_t axis) {
  return SoftmaxFn<false>::apply(a, axis);
}
template <class T>
Tensor<T> log_softmax(const Tensor<T>& a, std::ptrdiff_t axis) {
  return SoftmaxFn<true>::apply(a, axis);
}

template Tensor<float> softmax(const Tensor<float>&, std::ptrdiff_t);
template Tensor<double> softmax(const Tensor<double>&, std::ptrdiff_t);
template Tensor<float> log_softmax(const Tensor<float>&, std::ptrdiff_t);
template Tensor<double> log_softmax(const Tensor<double>&, std::ptrdiff_t);

}  // namespace xgrad
