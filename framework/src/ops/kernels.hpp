// Loop kernels shared by the elementwise, activation and loss ops (private to
// src/ops). Plain loops over contiguous row-major data: on the tiny tensors
// where per-op overhead dominates they beat xtensor's expression machinery,
// and on large ones the compiler vectorizes them just as well. Large tensors
// are split over threads by element ranges (detail::parallel_for), small ones
// run on the calling thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/shape.hpp"

namespace xgrad::kernels {

// f(a[i]) for every element.
template <class T, class F>
xt::xarray<T> map(const xt::xarray<T>& a, F f) {
  auto out = detail::new_array<T>(a.shape());
  const T* pa = a.data();
  T* po = out.data();
  detail::parallel_for(a.size(), detail::kElementGrain, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) po[i] = f(pa[i]);
  });
  return out;
}

// Row-major strides of `s` right-aligned into `ndim` axes, 0 on broadcast axes.
inline Shape broadcast_strides(const Shape& s, std::size_t ndim) {
  Shape strides(ndim, 0);
  std::size_t stride = 1;
  for (std::size_t k = s.size(); k-- > 0;) {
    strides[ndim - s.size() + k] = s[k] == 1 ? 0 : stride;
    stride *= s[k];
  }
  return strides;
}

// f(a, b) over `out_shape`, which both a and b must broadcast to (the caller
// checked with broadcast_shapes). Equal sizes and one-element operands take
// flat loops; the general case walks the output with an odometer.
template <class T, class B, class F>
xt::xarray<T> zip(const xt::xarray<T>& a, const xt::xarray<B>& b, const Shape& out_shape, F f) {
  auto out = detail::new_array<T>(out_shape);
  const std::size_t n = out.size();
  const T* pa = a.data();
  const B* pb = b.data();
  T* po = out.data();
  // Broadcast-compatible with as many elements as the output means the same
  // flat layout (only leading or size-1 axes differ).
  const bool a_full = a.size() == n, b_full = b.size() == n;
  if (a_full && b_full) {
    detail::parallel_for(n, detail::kElementGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) po[i] = f(pa[i], pb[i]);
    });
  } else if (a_full && b.size() == 1) {
    const B s = pb[0];
    detail::parallel_for(n, detail::kElementGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) po[i] = f(pa[i], s);
    });
  } else if (b_full && a.size() == 1) {
    const T s = pa[0];
    detail::parallel_for(n, detail::kElementGrain, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) po[i] = f(s, pb[i]);
    });
  } else if (n > 0) {
    // Rows of the last axis, split over threads; each range starts its
    // odometer at its first row.
    const std::size_t nd = out_shape.size();  // >= 1 here
    const Shape sa = broadcast_strides(a.shape(), nd), sb = broadcast_strides(b.shape(), nd);
    const std::size_t inner = out_shape[nd - 1], step_a = sa[nd - 1], step_b = sb[nd - 1];
    const std::size_t rows = inner ? n / inner : 0;
    detail::parallel_for(rows, detail::row_grain(inner), [&](std::size_t first, std::size_t last) {
      Shape index(nd, 0);
      std::size_t ia = 0, ib = 0;
      for (std::size_t d = nd - 1, r = first; d-- > 0; r /= out_shape[d]) {
        index[d] = r % out_shape[d];
        ia += index[d] * sa[d];
        ib += index[d] * sb[d];
      }
      for (std::size_t o = first * inner; o < last * inner; o += inner) {
        for (std::size_t k = 0; k < inner; ++k)
          po[o + k] = f(pa[ia + k * step_a], pb[ib + k * step_b]);
        for (std::size_t d = nd - 1; d-- > 0;) {  // advance the outer axes
          ia += sa[d];
          ib += sb[d];
          if (++index[d] < out_shape[d]) break;
          ia -= sa[d] * out_shape[d];
          ib -= sb[d] * out_shape[d];
          index[d] = 0;
        }
      }
    });
  }
  return out;
}

// Elements per chunk of a long sum.
constexpr std::size_t kSumChunk = std::size_t(1) << 14;

// Sum of p[0, n) in double. Up to kSumChunk elements one plain loop; beyond,
// the partial sums of fixed kSumChunk-element chunks (computed in parallel)
// are added in chunk order, so the result does not depend on the thread count.
template <class T>
double flat_sum(const T* p, std::size_t n) {
  const auto sum = [](const T* q, std::size_t m) {
    double acc = 0;
    for (std::size_t i = 0; i < m; ++i) acc += q[i];
    return acc;
  };
  if (n <= kSumChunk) return sum(p, n);
  const std::size_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> partial(chunks);
  detail::parallel_for(chunks, detail::row_grain(kSumChunk), [&](std::size_t b, std::size_t e) {
    for (std::size_t c = b; c < e; ++c) {
      const std::size_t first = c * kSumChunk;
      partial[c] = sum(p + first, std::min(kSumChunk, n - first));
    }
  });
  double acc = 0;
  for (const double v : partial) acc += v;
  return acc;
}

// The shape of a binary op's result: a's shape when the shapes match (the
// common case, no work), else the broadcast shape or a ShapeError naming `op`.
inline Shape result_shape(const Shape& a, const Shape& b, const char* op) {
  return a == b ? a : broadcast_shapes(a, b, op);
}

}  // namespace xgrad::kernels
