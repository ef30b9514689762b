#include "xgrad/quant/quantized/conv2d.hpp"

#include <memory>
#include <vector>

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
Tensor<T> Conv2d<T>::forward(const Tensor<T>& input) {
  require_defined(input, "conv2d", "input");
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
