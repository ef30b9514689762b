#include "xgrad/quant/quantized/conv2d.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "integer_path.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/im2col.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::quant::quantized {

namespace {

// The weight shape nn::Conv2d gives these options (which it validates).
Shape conv_weight_shape(const nn::Conv2dOptions& o) {
  Generator unused;
  return nn::Conv2d<float>(o, unused).weight.shape();
}

// The integer path (integer_path.hpp) as an implicit GEMM: each sample's
// codes copied into an image padded with the code of 0 (and 3 bytes of slack
// a row for the last quad's zero weights); column (oy, ox) starts at
// (oy sh, ox sw) of it, quad (c, ky, j) at (c, ky, 4 j) from there. False
// when x holds NaN.
//
// The epilogue (per sample, while its outputs are in cache): the transpose
// to NCHW, ReLU'd when `relu` (x < 0 ? 0 : x, as relu), and each plane's max
// pool into `pooled` when `pool` (max_pool2d's rule: in row-major window
// order, strictly greater wins; ReLU'd sums hold no NaN).
struct EpiloguePool {
  std::size_t kh, kw, sh, sw, ph, pw, oh, ow;
};

void pool_plane(const float* y, std::size_t h, std::size_t w, const EpiloguePool& q, float* out) {
  for (std::size_t i = 0; i < q.oh; ++i) {
    const std::size_t r0 = i * q.sh > q.ph ? i * q.sh - q.ph : 0;
    const std::size_t r1 = std::min(h, i * q.sh + q.kh - q.ph);
    for (std::size_t j = 0; j < q.ow; ++j) {
      const std::size_t c0 = j * q.sw > q.pw ? j * q.sw - q.pw : 0;
      const std::size_t c1 = std::min(w, j * q.sw + q.kw - q.pw);
      float best = -std::numeric_limits<float>::infinity();
      for (std::size_t r = r0; r < r1; ++r)
        for (std::size_t c = c0; c < c1; ++c) {
          const float v = y[r * w + c];
          best = v > best ? v : best;
        }
      out[i * q.ow + j] = best;
    }
  }
}

bool integer_conv(const IntegerPlan& plan, const detail::Conv2dPlan& p, const float* x, float* y,
                  bool relu, const EpiloguePool* pool, float* pooled) {
  const ConvGeometry& g = p.geom;
  const std::size_t C = g.channels, H = g.height, W = g.width;
  const std::size_t ph = std::size_t(g.ph), pw = std::size_t(g.pw);
  const std::size_t Hp = H + 2 * ph, Wp = W + 2 * pw + 3, plane = Hp * Wp;
  const std::size_t L = g.cols(), O = p.out_channels();
  const IntegerWeights& w = *plan.weights;
  thread_local std::vector<std::uint8_t> codes;
  thread_local std::vector<std::size_t> quad, col;
  codes.resize(p.batch * C * H * W);
  if (!plan.input->steps->apply_codes(x, codes.size(), plan.input->code_of_step.data(),
                                      codes.data()))
    return false;
  quad.resize(w.kq);
  for (std::size_t c = 0, q = 0; c < C; ++c)
    for (std::size_t ky = 0; ky < g.kh; ++ky)
      for (std::size_t j = 0; j < w.quads_per_line; ++j) quad[q++] = c * plane + ky * Wp + 4 * j;
  col.resize(L);
  for (std::size_t oy = 0; oy < g.oh; ++oy)
    for (std::size_t ox = 0; ox < g.ow; ++ox)
      col[oy * g.ow + ox] = oy * std::size_t(g.sh) * Wp + ox * std::size_t(g.sw);
  const std::uint8_t zp = std::uint8_t(plan.input->zero_point);
  const std::uint8_t* cs = codes.data();
  const std::size_t *qs = quad.data(), *ls = col.data();
  xgrad::detail::parallel_for(
      p.batch, xgrad::detail::row_grain(C * plane + L * w.kq * 4 * w.blocks),
      [&](std::size_t first, std::size_t last) {
        thread_local std::vector<std::uint8_t> img;
        thread_local std::vector<float> out;  // [L][O]: a column's outputs
        img.assign(C * plane, zp);
        out.resize(L * O);
        for (std::size_t n = first; n < last; ++n) {
          const std::uint8_t* src = cs + n * C * H * W;
          for (std::size_t c = 0; c < C; ++c)
            for (std::size_t iy = 0; iy < H; ++iy)
              std::copy(src + (c * H + iy) * W, src + (c * H + iy + 1) * W,
                        img.begin() + std::ptrdiff_t(c * plane + (iy + ph) * Wp + pw));
          plan.run(img.data(), qs, ls, L, out.data(), O);
          float* yn = y + n * O * L;
          for (std::size_t o = 0; o < O; ++o) {
            float* yo = yn + o * L;
            if (relu) {
              for (std::size_t l = 0; l < L; ++l) {
                const float v = out[l * O + o];
                yo[l] = v < 0.0f ? 0.0f : v;
              }
            } else {
              for (std::size_t l = 0; l < L; ++l) yo[l] = out[l * O + o];
            }
            if (pool) pool_plane(yo, g.oh, g.ow, *pool, pooled + (n * O + o) * pool->oh * pool->ow);
          }
        }
      });
  return true;
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(qat::Conv2d<T>& layer)
    : QuantizedLayer<T>("quantized::Conv2d", layer, std::size_t(layer.options().groups())),
      options_(layer.options()) {}

template <class T>
Conv2d<T>::Conv2d(const nn::Conv2dOptions& options, const QConfig<T>& qconfig)
    : QuantizedLayer<T>("quantized::Conv2d", conv_weight_shape(options), options.bias(), qconfig,
                        std::size_t(options.groups())),
      options_(options) {}

template <class T>
std::shared_ptr<Conv2d<T>> Conv2d<T>::from_qat(qat::Conv2d<T>& layer) {
  return std::shared_ptr<Conv2d<T>>(new Conv2d<T>(layer));
}

template <class T>
Tensor<T> Conv2d<T>::forward_dequantized(const Tensor<T>& input) {
  return conv2d(this->quantized_input(input), this->dequantized_weight(), this->bias,
                options_.stride(), options_.padding(), options_.dilation(), options_.groups());
}

template <class T>
bool Conv2d<T>::integer_geometry() const {
  return options_.dilation() == Size2(1);
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Tensor<T>& input) {
  require_defined(input, "conv2d", "input");
  if constexpr (std::is_same<T, float>::value) {
    if (!(GradMode::is_enabled() && input.requires_grad())) {
      if (const auto plan = this->integer_plan()) {
        const Shape bias_shape{this->weight_shape()[0]};
        const detail::Conv2dPlan p = detail::plan_conv2d(
            input.shape(), this->weight_shape(), this->bias.defined() ? &bias_shape : nullptr,
            options_.stride(), options_.padding(), options_.dilation(), options_.groups());
        xt::xarray<T> y =
            xgrad::detail::new_array<T>({p.batch, p.out_channels(), p.geom.oh, p.geom.ow});
        // The fused max pool: only when it has outputs (else the pool
        // module's op raises its error).
        std::optional<EpiloguePool> pool;
        xt::xarray<T> pooled;
        if (const auto& f = this->pool_fused()) {
          const auto out_size = [](std::size_t n, std::int64_t k, std::int64_t s,
                                   std::int64_t pad) {
            const std::int64_t span = std::int64_t(n) + 2 * pad - k;
            return span < 0 ? std::size_t(0) : std::size_t(span / s + 1);
          };
          const std::size_t oh = out_size(p.geom.oh, f->kernel.h, f->stride.h, f->padding.h);
          const std::size_t ow = out_size(p.geom.ow, f->kernel.w, f->stride.w, f->padding.w);
          if (oh > 0 && ow > 0) {
            pool = EpiloguePool{std::size_t(f->kernel.h),
                                std::size_t(f->kernel.w),
                                std::size_t(f->stride.h),
                                std::size_t(f->stride.w),
                                std::size_t(f->padding.h),
                                std::size_t(f->padding.w),
                                oh,
                                ow};
            pooled = xgrad::detail::new_array<T>({p.batch, p.out_channels(), oh, ow});
          }
        }
        const bool relu = this->relu_fused();
        if (p.batch == 0 || integer_conv(*plan, p, input.data().data(), y.data(), relu,
                                         pool ? &*pool : nullptr, pooled.data())) {
          Tensor<T> out(std::move(y));
          if (relu)
            this->record_fused_output(out, pool ? Tensor<T>(std::move(pooled)) : Tensor<T>());
          else
            this->record_fused_output(Tensor<T>(), Tensor<T>());
          return out;
        }
      }
    }
  }
  this->record_fused_output(Tensor<T>(), Tensor<T>());  // not fused below
  const Tensor<T> x = this->quantized_input(input);
  const auto kernels = this->lut_kernels();
  if ((GradMode::is_enabled() && x.requires_grad()) || !kernels) return forward_dequantized(input);
  const Shape bias_shape{this->weight_shape()[0]};
  const detail::Conv2dPlan p = detail::plan_conv2d(
      x.shape(), this->weight_shape(), this->bias.defined() ? &bias_shape : nullptr,
      options_.stride(), options_.padding(), options_.dilation(), options_.groups());
  const ConvGeometry& g = p.geom;
  const std::size_t K = g.rows(), L = g.cols(), og = p.out_per_group;
  const std::size_t in_block = g.channels * g.height * g.width;
  // From the array cache, as the float conv's output: no fresh pages per call.
  xt::xarray<T> y = xgrad::detail::new_array<T>({p.batch, p.out_channels(), g.oh, g.ow});
  // Each sample's columns [K, L] feed the kernel as L samples of K (one per
  // column), which writes the output plane [og, L] in place. Samples are
  // independent: split over the threads (each output's sum is the same on
  // any thread), one column buffer each. A sample's cost: its im2col, and
  // its products at 16 per element (lut_tiling.hpp).
  const T* xs = x.data().data();
  T* ys = y.data();
  xgrad::detail::parallel_for(p.batch,
                              xgrad::detail::row_grain(p.groups * (K * L + K * L * og / 16)),
                              [&](std::size_t first, std::size_t last) {
                                thread_local std::vector<T> col;
                                if (!p.pointwise() && col.size() < K * L) col.resize(K * L);
                                for (std::size_t n = first; n < last; ++n) {
                                  for (std::size_t gi = 0; gi < p.groups; ++gi) {
                                    const std::size_t block = n * p.groups + gi;
                                    const T* cols = xs + block * in_block;
                                    if (!p.pointwise()) {
                                      im2col(cols, g, col.data());
                                      cols = col.data();
                                    }
                                    kernels.forward(gi, cols, L, ys + block * og * L, true);
                                  }
                                }
                              });
  return Tensor<T>(std::move(y));
}

XGRAD_INSTANTIATE_CLASS(Conv2d);

}  // namespace xgrad::quant::quantized
