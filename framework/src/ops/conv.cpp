// conv2d as im2col + gemm (float goes to conv_onednn.cpp first, when built
// with oneDNN, and comes here only when it declines), per sample and group: the columns of one
// sample's channel block [C/groups kh kw, OH OW] live in one buffer that is reused for every sample
// and freed on return (forward and backward each allocate their own), so memory beyond input,
// weight and output is bounded by one sample per thread: samples are split over threads, each range
// with its own buffer, wherever they are independent (forward and dx; dW, a sum over samples, see
// weight_grad). A 1x1 kernel with stride 1 and no padding skips im2col: the input already is its
// column matrix.
#include "xgrad/ops/conv.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "blas.hpp"
#include "conv_onednn.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/im2col.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// What backward needs besides the saved input and weight.
using Conv2dParams = detail::Conv2dPlan;

// An uninitialized scratch buffer (im2col writes every element).
template <class T>
std::unique_ptr<T[]> scratch(std::size_t n) {
  return std::unique_ptr<T[]>(new T[n]);
}

// dW [O, K] = sum over samples n of G_n cols_n^T, in an order that does not
// depend on the thread count. Usually in fixed chunks of samples (at most
// kWeightChunks, set by the batch alone): each chunk's sum on one thread into
// its own partial dW, then the partials added in chunk order. A large dW
// (partials would cost too much memory), or a few samples with a large
// product each (too few chunks to share), runs one sample at a time instead,
// in sample order, each split over threads inside (im2col by channel, gemm
// by rows of dW).
constexpr std::size_t kWeightChunks = 8;
// A sample's product worth splitting over threads by itself, in multiply-adds.
constexpr std::size_t kLargeSampleProduct = std::size_t(1) << 21;
// The largest dW kept in kWeightChunks - 1 partial copies, in elements.
constexpr std::size_t kMaxPartialWeights = std::size_t(1) << 18;

template <class T>
void weight_grad(const Conv2dParams& p, const T* xs, const T* gs, T* dw) {
  const ConvGeometry& g = p.geom;
  const std::size_t K = g.rows(), L = g.cols(), og = p.out_per_group;
  const std::size_t in_block = g.channels * g.height * g.width;
  const std::size_t w_size = p.out_channels() * K;
  const bool pointwise = p.pointwise();
  // Adds samples [first, last) into out (the first one overwrites it).
  const auto add_samples = [&](std::size_t first, std::size_t last, T* out, T* col,
                               bool split_im2col) {
    for (std::size_t n = first; n < last; ++n) {
      for (std::size_t gi = 0; gi < p.groups; ++gi) {
        const std::size_t block = n * p.groups + gi;
        const T* cols = xs + block * in_block;
        if (!pointwise) {
          if (split_im2col) {
            detail::parallel_for(
                g.channels, detail::row_grain(g.kh * g.kw * L),
                [&](std::size_t c0, std::size_t c1) { im2col(cols, g, col, c0, c1); });
          } else {
            im2col(cols, g, col);
          }
          cols = col;
        }
        blas::gemm(false, true, og, K, L, gs + block * og * L, cols, n == first ? T(0) : T(1),
                   out + gi * og * K);
      }
    }
  };
  const std::size_t sample_cost = p.groups * og * K * L;  // multiply-adds
  if (p.batch == 0) {
    std::fill(dw, dw + w_size, T(0));
  } else if (w_size > kMaxPartialWeights ||
             (p.batch < kWeightChunks && sample_cost >= kLargeSampleProduct)) {
    auto col = pointwise ? nullptr : scratch<T>(K * L);
    add_samples(0, p.batch, dw, col.get(), true);
  } else {
    const std::size_t chunks = std::min(p.batch, kWeightChunks);
    std::vector<T> partial((chunks - 1) * w_size);  // chunk 0 writes dw itself
    const std::size_t chunk_cost = sample_cost * (p.batch / chunks);
    detail::parallel_for(chunks, std::max<std::size_t>(1, blas::kGemmGrain / chunk_cost),
                         [&](std::size_t c0, std::size_t c1) {
                           auto col = pointwise ? nullptr : scratch<T>(K * L);
                           for (std::size_t c = c0; c < c1; ++c) {
                             add_samples(p.batch * c / chunks, p.batch * (c + 1) / chunks,
                                         c == 0 ? dw : partial.data() + (c - 1) * w_size, col.get(),
                                         false);
                           }
                         });
    for (std::size_t c = 1; c < chunks; ++c) {
      const T* part = partial.data() + (c - 1) * w_size;
      for (std::size_t i = 0; i < w_size; ++i) dw[i] += part[i];
    }
  }
}

struct Conv2dFn : Function<Conv2dFn> {
  static constexpr const char* name = "Conv2dBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                               const Conv2dParams& p) {
    return convolve(ctx, x, weight, static_cast<const T*>(nullptr), p);
  }
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                               const Tensor<T>& bias, const Conv2dParams& p) {
    return convolve(ctx, x, weight, bias.data().data(), p);
  }

  template <class T>
  static xt::xarray<T> convolve(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                                const T* bias, const Conv2dParams& p) {
    const ConvGeometry& g = p.geom;
    const std::size_t K = g.rows(), L = g.cols(), og = p.out_per_group;
    const std::size_t in_block = g.channels * g.height * g.width;  // one group of one sample
    auto out = detail::new_array<T>({p.batch, p.out_channels(), g.oh, g.ow});
    const bool pointwise = p.pointwise();
    const T* xs = x.data().data();
    const T* ws = weight.data().data();
    if (ctx.recording()) {
      ctx.save_for_backward({x, weight});
      ctx.save_params(p);
    }
    if constexpr (std::is_same_v<T, float>) {
      if (detail::onednn::forward(p, xs, ws, bias, out.data())) return out;
    }
    // Samples are independent: split over threads, one column buffer each.
    detail::parallel_for(
        p.batch, detail::row_grain(p.groups * K * L), [&](std::size_t first, std::size_t last) {
          auto col = pointwise ? nullptr : scratch<T>(K * L);
          for (std::size_t n = first; n < last; ++n) {
            for (std::size_t gi = 0; gi < p.groups; ++gi) {
              const T* xg = xs + (n * p.groups + gi) * in_block;
              if (!pointwise) im2col(xg, g, col.get());
              T* yg = out.data() + (n * p.groups + gi) * og * L;
              if (bias) {  // every output row starts as its bias; gemm adds (beta = 1)
                for (std::size_t o = 0; o < og; ++o) std::fill_n(yg + o * L, L, bias[gi * og + o]);
              }
              blas::gemm(false, false, og, L, K, ws + gi * og * K, pointwise ? xg : col.get(),
                         bias ? T(1) : T(0), yg);
            }
          }
        });
    return out;
  }

  // Per sample and group, with the output gradient G [O/groups, OH OW]:
  // dW += G cols^T, dcols = W^T G then col2im into dx, dbias = sums of G.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Conv2dParams& p = ctx.template params<Conv2dParams>();
    const ConvGeometry& g = p.geom;
    const std::size_t K = g.rows(), L = g.cols(), og = p.out_per_group;
    const std::size_t in_block = g.channels * g.height * g.width;
    const bool pointwise = p.pointwise();
    const bool need_x = ctx.needs_input_grad(0), need_w = ctx.needs_input_grad(1);
    std::vector<xt::xarray<T>> grads(ctx.num_inputs());
    const T* gs = grad.data();
    if (need_x || need_w) {
      const T* xs = ctx.saved(0).data();
      const T* ws = ctx.saved(1).data();
      T* dx = nullptr;
      T* dw = nullptr;
      if (need_x) {
        grads[0] = detail::new_array<T>(ctx.input_shape(0));
        dx = grads[0].data();
      }
      if (need_w) {
        grads[1] = detail::new_array<T>(ctx.input_shape(1));
        dw = grads[1].data();
      }
      bool w_done = false, x_done = false;
      if constexpr (std::is_same_v<T, float>) {
        w_done = need_w && detail::onednn::backward_weights(p, xs, gs, dw);
        x_done = need_x && detail::onednn::backward_data(p, ws, gs, dx);
      }
      if (need_w && !w_done) weight_grad(p, xs, gs, dw);
      // dx of each sample is its own: samples split over threads.
      if (need_x && !x_done) {
        detail::parallel_for(
            p.batch, detail::row_grain(p.groups * K * L), [&](std::size_t first, std::size_t last) {
              auto col = pointwise ? nullptr : scratch<T>(K * L);
              for (std::size_t n = first; n < last; ++n) {
                for (std::size_t gi = 0; gi < p.groups; ++gi) {
                  const std::size_t block = n * p.groups + gi;
                  const T* gg = gs + block * og * L;
                  if (pointwise) {
                    blas::gemm(true, false, K, L, og, ws + gi * og * K, gg, T(0),
                               dx + block * in_block);
                  } else {
                    blas::gemm(true, false, K, L, og, ws + gi * og * K, gg, T(0), col.get());
                    std::fill_n(dx + block * in_block, in_block, T(0));  // col2im accumulates
                    col2im(col.get(), g, dx + block * in_block);
                  }
                }
              }
            });
      }
    }
    if (grads.size() == 3 && ctx.needs_input_grad(2)) {
      const std::size_t oc = p.out_channels();
      std::vector<T> per_sample(p.batch * oc);
      blas::row_sums(gs, p.batch * oc, L, per_sample.data());
      grads[2] = detail::new_zeros<T>({oc});
      for (std::size_t n = 0; n < p.batch; ++n) {
        for (std::size_t o = 0; o < oc; ++o) grads[2](o) += per_sample[n * oc + o];
      }
    }
    return grads;
  }
};

std::string args_of(const Shape& sx, const Shape& sw) {
  return "input " + to_string(sx) + ", weight " + to_string(sw);
}

}  // namespace

namespace detail {

Conv2dPlan plan_conv2d(const Shape& sx, const Shape& sw, const Shape* bias, Size2 stride,
                       Size2 padding, Size2 dilation, std::int64_t groups) {
  XGRAD_CHECK(sx.size() == 4, ShapeError, "conv2d: input must be 4-D [N, C, H, W], got ", sx);
  XGRAD_CHECK(sw.size() == 4, ShapeError,
              "conv2d: weight must be 4-D [out_channels, in_channels / groups, kh, kw], got ", sw);
  XGRAD_CHECK(sx[1] != 0 && sx[2] != 0 && sx[3] != 0, ShapeError, "conv2d: input ", sx,
              " has a zero channel or spatial extent");
  XGRAD_CHECK(sw[0] != 0 && sw[1] != 0 && sw[2] != 0 && sw[3] != 0, ShapeError, "conv2d: weight ",
              sw, " has a zero extent");
  // Bounded so that the extent arithmetic below cannot overflow.
  const auto in_range = [](const Size2& v, std::int64_t lo) {
    return v.h >= lo && v.w >= lo && v.h <= INT_MAX && v.w <= INT_MAX;
  };
  XGRAD_CHECK(in_range(stride, 1), ValueError, "conv2d: stride must be in [1, INT_MAX], got ",
              stride);
  XGRAD_CHECK(in_range(dilation, 1), ValueError, "conv2d: dilation must be in [1, INT_MAX], got ",
              dilation);
  XGRAD_CHECK(in_range(padding, 0), ValueError, "conv2d: padding must be in [0, INT_MAX], got ",
              padding);
  XGRAD_CHECK(groups >= 1, ValueError, "conv2d: groups must be positive, got ", groups);
  const auto ug = static_cast<std::size_t>(groups);
  XGRAD_CHECK(sx[1] % ug == 0, ValueError, "conv2d: groups ", groups, " does not divide the ",
              sx[1], " input channels of input ", sx);
  XGRAD_CHECK(sw[0] % ug == 0, ValueError, "conv2d: groups ", groups, " does not divide the ",
              sw[0], " output channels of weight ", sw);
  XGRAD_CHECK(sw[1] * ug == sx[1], ShapeError, "conv2d: ", args_of(sx, sw), ", groups ", groups,
              ": the input has ", sx[1], " channels, the weight expects ", sw[1] * ug);
  XGRAD_CHECK(!bias || (bias->size() == 1 && (*bias)[0] == sw[0]), ShapeError,
              "conv2d: bias must be [", sw[0], "] for weight ", sw, ", got ", *bias);
  // Output extent of one axis; <= 0 when the dilated kernel exceeds the padded input.
  const auto out_extent = [](std::size_t in, std::size_t k, std::int64_t s, std::int64_t p,
                             std::int64_t d) {
    const std::int64_t span = d * (static_cast<std::int64_t>(k) - 1) + 1;
    const std::int64_t padded = static_cast<std::int64_t>(in) + 2 * p;
    return padded < span ? std::int64_t(0) : (padded - span) / s + 1;
  };
  const std::int64_t oh = out_extent(sx[2], sw[2], stride.h, padding.h, dilation.h);
  const std::int64_t ow = out_extent(sx[3], sw[3], stride.w, padding.w, dilation.w);
  XGRAD_CHECK(oh >= 1 && ow >= 1, ShapeError, "conv2d: kernel [", sw[2], ", ", sw[3],
              "] with dilation ", dilation, " is larger than the padded input [",
              sx[2] + 2 * padding.h, ", ", sx[3] + 2 * padding.w, "] of input ", sx, " (padding ",
              padding, "): output size would be 0");
  Conv2dPlan p;
  p.geom.channels = sw[1];
  p.geom.height = sx[2];
  p.geom.width = sx[3];
  p.geom.kh = sw[2];
  p.geom.kw = sw[3];
  p.geom.sh = stride.h;
  p.geom.sw = stride.w;
  p.geom.ph = padding.h;
  p.geom.pw = padding.w;
  p.geom.dh = dilation.h;
  p.geom.dw = dilation.w;
  p.geom.oh = static_cast<std::size_t>(oh);
  p.geom.ow = static_cast<std::size_t>(ow);
  p.batch = sx[0];
  p.groups = ug;
  p.out_per_group = sw[0] / ug;
  blas::check_extent(p.geom.rows(), "conv2d", "column rows (C / groups * kh * kw)");
  blas::check_extent(p.geom.cols(), "conv2d", "output plane (OH * OW)");
  blas::check_extent(p.out_per_group, "conv2d", "output channels per group");
  blas::check_extent(p.batch * p.out_channels(), "conv2d", "N * out_channels");
  return p;
}

}  // namespace detail

template <class T>
Tensor<T> conv2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                 Size2 stride, Size2 padding, Size2 dilation, std::int64_t groups) {
  require_defined(input, "conv2d", "input");
  require_defined(weight, "conv2d", "weight");
  const Conv2dParams p =
      detail::plan_conv2d(input.shape(), weight.shape(), bias.defined() ? &bias.shape() : nullptr,
                          stride, padding, dilation, groups);
  return bias.defined() ? Conv2dFn::apply(input, weight, bias, p)
                        : Conv2dFn::apply(input, weight, p);
}

#define XGRAD_INSTANTIATE_CONV(T)                                                               \
  template Tensor<T> conv2d(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&, Size2, Size2, \
                            Size2, std::int64_t);
XGRAD_INSTANTIATE_CONV(float)
XGRAD_INSTANTIATE_CONV(double)
#undef XGRAD_INSTANTIATE_CONV

}  // namespace xgrad
