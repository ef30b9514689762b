// Pooling: every op walks precomputed windows, one [begin, end) range of
// input rows per output row and of input columns per output column, already
// clipped to the input (padding positions are never read). Max pooling saves
// the winner of each window; average pooling (fixed or adaptive windows) saves
// only the geometry.
#include "xgrad/ops/pool.hpp"

#include <climits>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// Input ranges [begin[i], end[i]) of output index i along one axis.
struct Windows {
  std::vector<std::size_t> begin, end;
  std::size_t size() const { return begin.size(); }
  bool all_of_size(std::size_t n) const {
    for (std::size_t i = 0; i < size(); ++i) {
      if (end[i] - begin[i] != n) return false;
    }
    return true;
  }
};

// Windows of a strided kernel over zero padding, clipped to [0, in).
Windows strided_windows(std::size_t in, std::int64_t k, std::int64_t s, std::int64_t p,
                        std::size_t out) {
  Windows w;
  w.begin.resize(out);
  w.end.resize(out);
  const auto n = static_cast<std::int64_t>(in);
  for (std::size_t i = 0; i < out; ++i) {
    const std::int64_t start = static_cast<std::int64_t>(i) * s - p;
    w.begin[i] = static_cast<std::size_t>(std::max<std::int64_t>(start, 0));
    w.end[i] = static_cast<std::size_t>(std::min(start + k, n));
  }
  return w;
}

// PyTorch's adaptive windows: floor(i in / out) .. ceil((i + 1) in / out).
Windows adaptive_windows(std::size_t in, std::size_t out) {
  Windows w;
  w.begin.resize(out);
  w.end.resize(out);
  for (std::size_t i = 0; i < out; ++i) {
    w.begin[i] = i * in / out;
    w.end[i] = ((i + 1) * in + out - 1) / out;
  }
  return w;
}

struct PoolParams {
  std::size_t planes, height, width;  // N * C planes of H x W
  Windows rows, cols;
  // Average pooling: divide every window by this, or by its own clipped size
  // when 0 (adaptive pooling).
  std::size_t divisor = 0;

  Shape output_shape(const Shape& input) const {
    return {input[0], input[1], rows.size(), cols.size()};
  }
};

// Max pooling of one plane whose windows are all 2 x 2, as the general loop
// of MaxPool2dFn::forward computes it (the first maximum in row-major window
// order); false, having written only whole rows before it, when a window
// holds a NaN: the general loop then redoes the plane with PyTorch's NaN rule.
// Branch-free (random data would mispredict compare-and-branch code about
// half the time): the maximum by selects, then the winner as the first of the
// four equal to it (every earlier value is strictly smaller than the winner,
// so equal to it means the winner, -0 and +0 included).
template <class T>
bool max_2x2(const T* xp, const PoolParams& p, T* ys, std::ptrdiff_t* arg) {
  const std::size_t oh = p.rows.size(), ow = p.cols.size(), w = p.width;
  for (std::size_t i = 0; i < oh; ++i) {
    const std::size_t r = p.rows.begin[i];
    const T* a = xp + r * w;
    const T* b = a + w;
    unsigned nan = 0;
    for (std::size_t j = 0; j < ow; ++j) {
      const std::size_t q = p.cols.begin[j];
      const T v0 = a[q], v1 = a[q + 1], v2 = b[q], v3 = b[q + 1];
      nan |= unsigned(v0 != v0) | unsigned(v1 != v1) | unsigned(v2 != v2) | unsigned(v3 != v3);
      T best = v0;
      best = v1 > best ? v1 : best;
      best = v2 > best ? v2 : best;
      best = v3 > best ? v3 : best;
      ys[i * ow + j] = best;
      if (arg) {
        const std::size_t n0 = v0 != best, n1 = v1 != best, n2 = v2 != best;
        const std::size_t k = n0 * (1 + n1 * (1 + n2));  // index of the winner, 0..3
        arg[i * ow + j] = static_cast<std::ptrdiff_t>((r + (k >> 1)) * w + q + (k & 1));
      }
    }
    if (nan) return false;
  }
  return true;
}

struct MaxPool2dFn : Function<MaxPool2dFn> {
  static constexpr const char* name = "MaxPool2dBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const PoolParams& p) {
    auto out = detail::new_array<T>(p.output_shape(x.shape()));
    const std::size_t oh = p.rows.size(), ow = p.cols.size(), plane = p.height * p.width;
    const bool record = ctx.recording();
    std::vector<std::ptrdiff_t> arg(record ? out.size() : 0);
    const T* xs = x.data().data();
    T* ys = out.data();
    // Every window 2 x 2 (LeNet's pools: kernel 2, stride 2, nothing
    // clipped): four reads and selects per output, no window loops.
    const bool two_by_two = p.rows.all_of_size(2) && p.cols.all_of_size(2);
    // Planes are independent: split over threads.
    detail::parallel_for(
        p.planes, detail::row_grain(plane), [&](std::size_t first, std::size_t last) {
          for (std::size_t c = first; c < last; ++c) {
            const T* xp = xs + c * plane;
            if (two_by_two &&
                max_2x2(xp, p, ys + c * oh * ow, record ? arg.data() + c * oh * ow : nullptr)) {
              continue;
            }
            for (std::size_t i = 0; i < oh; ++i) {
              const std::size_t r0 = p.rows.begin[i], r1 = p.rows.end[i];
              for (std::size_t j = 0; j < ow; ++j) {
                const std::size_t c0 = p.cols.begin[j], c1 = p.cols.end[j];
                T best = -std::numeric_limits<T>::infinity();
                std::size_t at = r0 * p.width + c0;
                bool nan = false;
                for (std::size_t r = r0; r < r1; ++r) {
                  for (std::size_t q = c0; q < c1; ++q) {
                    // Strict: the first maximum stays. Selects, not branches, which
                    // random data would mispredict half the time; NaN is only noted.
                    const T v = xp[r * p.width + q];
                    const bool take = v > best;
                    nan |= v != v;
                    at = take ? r * p.width + q : at;
                    best = take ? v : best;
                  }
                }
                if (nan) {  // PyTorch's rule: a NaN wins, and a later NaN replaces it
                  for (std::size_t r = r0; r < r1; ++r) {
                    for (std::size_t q = c0; q < c1; ++q) {
                      const T v = xp[r * p.width + q];
                      if (v != v) {
                        best = v;
                        at = r * p.width + q;
                      }
                    }
                  }
                }
                const std::size_t o = (c * oh + i) * ow + j;
                ys[o] = best;
                if (record) arg[o] = static_cast<std::ptrdiff_t>(at);
              }
            }
          }
        });
    if (record) {
      ctx.saved_ints = std::move(arg);
      ctx.save_params(p);
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const PoolParams& p = ctx.template params<PoolParams>();
    xt::xarray<T> dx = detail::new_zeros<T>(ctx.input_shape(0));
    const std::size_t per_plane = p.rows.size() * p.cols.size(), plane = p.height * p.width;
    // Planes are independent: split over threads.
    detail::parallel_for(p.planes, detail::row_grain(plane),
                         [&](std::size_t first, std::size_t last) {
                           for (std::size_t c = first; c < last; ++c) {
                             T* dp = dx.data() + c * plane;
                             for (std::size_t k = c * per_plane; k < (c + 1) * per_plane; ++k) {
                               dp[ctx.saved_ints[k]] += grad.data()[k];
                             }
                           }
                         });
    return gradients(std::move(dx));
  }
};

struct AvgPool2dFn : Function<AvgPool2dFn> {
  static constexpr const char* name = "AvgPool2dBackward";

  template <class T>
  static T divisor(const PoolParams& p, std::size_t i, std::size_t j) {
    return static_cast<T>(p.divisor != 0 ? p.divisor
                                         : (p.rows.end[i] - p.rows.begin[i]) *
                                               (p.cols.end[j] - p.cols.begin[j]));
  }

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const PoolParams& p) {
    auto out = detail::new_array<T>(p.output_shape(x.shape()));
    const std::size_t oh = p.rows.size(), ow = p.cols.size(), plane = p.height * p.width;
    const T* xs = x.data().data();
    T* ys = out.data();
    // Planes are independent: split over threads.
    detail::parallel_for(p.planes, detail::row_grain(plane),
                         [&](std::size_t first, std::size_t last) {
                           for (std::size_t c = first; c < last; ++c) {
                             const T* xp = xs + c * plane;
                             for (std::size_t i = 0; i < oh; ++i) {
                               for (std::size_t j = 0; j < ow; ++j) {
                                 T s = T(0);
                                 for (std::size_t r = p.rows.begin[i]; r < p.rows.end[i]; ++r) {
                                   for (std::size_t q = p.cols.begin[j]; q < p.cols.end[j]; ++q)
                                     s += xp[r * p.width + q];
                                 }
                                 ys[(c * oh + i) * ow + j] = s / divisor<T>(p, i, j);
                               }
                             }
                           }
                         });
    if (ctx.recording()) ctx.save_params(p);
    return out;
  }

  // Each input in a window gets the window's gradient / divisor.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const PoolParams& p = ctx.template params<PoolParams>();
    xt::xarray<T> dx = detail::new_zeros<T>(ctx.input_shape(0));
    const std::size_t oh = p.rows.size(), ow = p.cols.size(), plane = p.height * p.width;
    // Planes are independent: split over threads.
    detail::parallel_for(
        p.planes, detail::row_grain(plane), [&](std::size_t first, std::size_t last) {
          for (std::size_t c = first; c < last; ++c) {
            T* dp = dx.data() + c * plane;
            for (std::size_t i = 0; i < oh; ++i) {
              for (std::size_t j = 0; j < ow; ++j) {
                const T share = grad.data()[(c * oh + i) * ow + j] / divisor<T>(p, i, j);
                for (std::size_t r = p.rows.begin[i]; r < p.rows.end[i]; ++r) {
                  for (std::size_t q = p.cols.begin[j]; q < p.cols.end[j]; ++q)
                    dp[r * p.width + q] += share;
                }
              }
            }
          }
        });
    return gradients(std::move(dx));
  }
};

// The checks every pooling op makes on its input.
template <class T>
void check_input(const Tensor<T>& input, const char* op) {
  require_defined(input, op, "input");
  const Shape& s = input.shape();
  XGRAD_CHECK(s.size() == 4, ShapeError, op, ": input must be 4-D [N, C, H, W], got ", s);
  XGRAD_CHECK(s[1] != 0 && s[2] != 0 && s[3] != 0, ShapeError, op, ": input ", s,
              " has a zero channel or spatial extent");
}

// Validates kernel, stride and padding for `input`; the windows of both axes.
template <class T>
PoolParams strided_params(const Tensor<T>& input, Size2 kernel, Size2 stride, Size2 padding,
                          const char* op) {
  check_input(input, op);
  const std::string o(op);
  const auto within = [](const Size2& v, std::int64_t lo) {
    return v.h >= lo && v.w >= lo && v.h <= INT_MAX && v.w <= INT_MAX;
  };
  XGRAD_CHECK(within(kernel, 1), ValueError, o, ": kernel_size must be in [1, INT_MAX], got ",
              kernel);
  XGRAD_CHECK(within(stride, 1), ValueError, o, ": stride must be in [1, INT_MAX], got ", stride);
  XGRAD_CHECK(within(padding, 0) && padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2,
              ValueError, o, ": padding must be non-negative and at most half of kernel_size ",
              kernel, ", got ", padding);
  const Shape& s = input.shape();
  const auto h = static_cast<std::int64_t>(s[2]) + 2 * padding.h;
  const auto w = static_cast<std::int64_t>(s[3]) + 2 * padding.w;
  XGRAD_CHECK(h >= kernel.h && w >= kernel.w, ShapeError, o, ": kernel_size ", kernel,
              " is larger than the padded input [", h, ", ", w, "] of input ", s, " (padding ",
              padding, "): output size would be 0");
  const auto oh = static_cast<std::size_t>((h - kernel.h) / stride.h + 1);
  const auto ow = static_cast<std::size_t>((w - kernel.w) / stride.w + 1);
  PoolParams p;
  p.planes = s[0] * s[1];
  p.height = s[2];
  p.width = s[3];
  p.rows = strided_windows(s[2], kernel.h, stride.h, padding.h, oh);
  p.cols = strided_windows(s[3], kernel.w, stride.w, padding.w, ow);
  p.divisor = static_cast<std::size_t>(kernel.h * kernel.w);
  return p;
}

}  // namespace

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  return MaxPool2dFn::apply(input,
                            strided_params(input, kernel_size, stride, padding, "max_pool2d"));
}

template <class T>
Tensor<T> max_pool2d(const Tensor<T>& input, Size2 kernel_size) {
  return max_pool2d(input, kernel_size, kernel_size, 0);
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& input, Size2 kernel_size, Size2 stride, Size2 padding) {
  return AvgPool2dFn::apply(input,
                            strided_params(input, kernel_size, stride, padding, "avg_pool2d"));
}

template <class T>
Tensor<T> avg_pool2d(const Tensor<T>& input, Size2 kernel_size) {
  return avg_pool2d(input, kernel_size, kernel_size, 0);
}

template <class T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& input, Size2 output_size) {
  check_input(input, "adaptive_avg_pool2d");
  XGRAD_CHECK(output_size.h >= 1 && output_size.w >= 1 && output_size.h <= INT_MAX &&
                  output_size.w <= INT_MAX,
              ValueError, "adaptive_avg_pool2d: output_size must be in [1, INT_MAX], got ",
              output_size);
  const Shape& s = input.shape();
  PoolParams p;
  p.planes = s[0] * s[1];
  p.height = s[2];
  p.width = s[3];
  p.rows = adaptive_windows(s[2], static_cast<std::size_t>(output_size.h));
  p.cols = adaptive_windows(s[3], static_cast<std::size_t>(output_size.w));
  return AvgPool2dFn::apply(input, p);
}

#define XGRAD_INSTANTIATE_POOL(T)                                       \
  template Tensor<T> max_pool2d(const Tensor<T>&, Size2, Size2, Size2); \
  template Tensor<T> max_pool2d(const Tensor<T>&, Size2);               \
  template Tensor<T> avg_pool2d(const Tensor<T>&, Size2, Size2, Size2); \
  template Tensor<T> avg_pool2d(const Tensor<T>&, Size2);               \
  template Tensor<T> adaptive_avg_pool2d(const Tensor<T>&, Size2);
XGRAD_INSTANTIATE_POOL(float)
XGRAD_INSTANTIATE_POOL(double)
#undef XGRAD_INSTANTIATE_POOL

}  // namespace xgrad
