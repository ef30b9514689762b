#include "xgrad/nn/fusion.hpp"

#include <cmath>
#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::nn {

template <class T>
std::shared_ptr<Conv2d<T>> fuse_conv_bn(const Conv2d<T>& conv, const BatchNorm2d<T>& bn) {
  const auto out = static_cast<std::size_t>(conv.options().out_channels());
  XGRAD_CHECK(bn.num_features() == out, ShapeError, "fuse_conv_bn: bn has ", bn.num_features(),
              " features, conv has ", out, " output channels");
  XGRAD_CHECK(bn.running_mean.defined(), ValueError,
              "fuse_conv_bn: bn has no running statistics (track_running_stats = false)");
  Generator unused;  // the new layer's random init is overwritten below
  auto fused = std::make_shared<Conv2d<T>>(nn::Conv2dOptions(conv.options()).bias(true), unused);
  const xt::xarray<T>& w = conv.weight.data();
  xt::xarray<T> fw = xt::xarray<T>::from_shape(w.shape());
  xt::xarray<T> fb = xt::xarray<T>::from_shape({out});
  const std::size_t per_channel = w.size() / out;
  for (std::size_t o = 0; o < out; ++o) {
    const double gamma = bn.weight.defined() ? double(bn.weight.data()(o)) : 1.0;
    const double beta = bn.bias.defined() ? double(bn.bias.data()(o)) : 0.0;
    const double s = gamma / std::sqrt(double(bn.running_var.data()(o)) + bn.eps());
    const double b = conv.bias.defined() ? double(conv.bias.data()(o)) : 0.0;
    for (std::size_t i = 0; i < per_channel; ++i) {
      const std::size_t k = o * per_channel + i;
      fw.data()[k] = static_cast<T>(double(w.data()[k]) * s);
    }
    fb(o) = static_cast<T>((b - double(bn.running_mean.data()(o))) * s + beta);
  }
  NoGradGuard no_grad;
  fused->weight.mutable_data() = std::move(fw);
  fused->bias.mutable_data() = std::move(fb);
  return fused;
}

template std::shared_ptr<Conv2d<float>> fuse_conv_bn(const Conv2d<float>&,
                                                     const BatchNorm2d<float>&);
template std::shared_ptr<Conv2d<double>> fuse_conv_bn(const Conv2d<double>&,
                                                      const BatchNorm2d<double>&);

}  // namespace xgrad::nn
