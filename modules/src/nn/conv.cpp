#include "xgrad/nn/conv.hpp"

#include <cmath>
#include <string>

#include "xgrad/nn/init.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad::nn {

namespace {

void check_options(const Conv2dOptions& o) {
  XGRAD_CHECK(o.in_channels() >= 1 && o.out_channels() >= 1, ValueError,
              "Conv2d: in_channels and out_channels must be positive, got ", o.in_channels(),
              " and ", o.out_channels());
  const Size2 k = o.kernel_size(), s = o.stride(), p = o.padding(), d = o.dilation();
  XGRAD_CHECK(k.h >= 1 && k.w >= 1, ValueError, "Conv2d: kernel_size must be positive, got ", k);
  XGRAD_CHECK(s.h >= 1 && s.w >= 1, ValueError, "Conv2d: stride must be positive, got ", s);
  XGRAD_CHECK(p.h >= 0 && p.w >= 0, ValueError, "Conv2d: padding must be non-negative, got ", p);
  XGRAD_CHECK(d.h >= 1 && d.w >= 1, ValueError, "Conv2d: dilation must be positive, got ", d);
  XGRAD_CHECK(
      o.groups() >= 1 && o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0,
      ValueError, "Conv2d: groups must be positive and divide in_channels ", o.in_channels(),
      " and out_channels ", o.out_channels(), ", got ", o.groups());
}

}  // namespace

template <class T>
Conv2d<T>::Conv2d(const Conv2dOptions& options, Generator& gen)
    : xgrad::Module<T>("Conv2d"), options_(options) {
  check_options(options);
  const auto out = static_cast<std::size_t>(options.out_channels());
  const auto in_per_group = static_cast<std::size_t>(options.in_channels() / options.groups());
  const Size2 k = options.kernel_size();
  weight = this->register_parameter(
      "weight",
      zeros<T>({out, in_per_group, static_cast<std::size_t>(k.h), static_cast<std::size_t>(k.w)}));
  if (options.bias()) bias = this->register_parameter("bias", zeros<T>({out}));
  reset_parameters(gen);
}

template <class T>
void Conv2d<T>::reset_parameters(Generator& gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias.defined()) {
    const double fan_in = static_cast<double>(init::calculate_fan_in(weight.shape()));
    init::uniform_(bias, -1.0 / std::sqrt(fan_in), 1.0 / std::sqrt(fan_in), gen);
  }
}

template <class T>
Tensor<T> Conv2d<T>::forward(const Tensor<T>& input) {
  return conv2d(input, weight, bias, options_.stride(), options_.padding(), options_.dilation(),
                options_.groups());
}

XGRAD_INSTANTIATE_CLASS(Conv2d);

}  // namespace xgrad::nn
