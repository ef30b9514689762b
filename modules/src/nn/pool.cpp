#include "xgrad/nn/pool.hpp"

#include <string>

#include "xgrad/ops/pool.hpp"

namespace xgrad::nn {

namespace {

void check_options(const Pool2dOptions& o, const char* layer) {
  const Size2 k = o.kernel_size(), s = o.stride(), p = o.padding();
  const std::string name(layer);
  XGRAD_CHECK(k.h >= 1 && k.w >= 1, ValueError, name, ": kernel_size must be positive, got ", k);
  XGRAD_CHECK(s.h >= 1 && s.w >= 1, ValueError, name, ": stride must be positive, got ", s);
  XGRAD_CHECK(p.h >= 0 && p.w >= 0 && p.h <= k.h / 2 && p.w <= k.w / 2, ValueError, name,
              ": padding must be non-negative and at most half of kernel_size ", k, ", got ", p);
}

}  // namespace

template <class T>
MaxPool2d<T>::MaxPool2d(const MaxPool2dOptions& options)
    : xgrad::Module<T>("MaxPool2d"), options_(options) {
  check_options(options, "MaxPool2d");
}

template <class T>
Tensor<T> MaxPool2d<T>::forward(const Tensor<T>& input) {
  return max_pool2d(input, options_.kernel_size(), options_.stride(), options_.padding());
}

template <class T>
AvgPool2d<T>::AvgPool2d(const AvgPool2dOptions& options)
    : xgrad::Module<T>("AvgPool2d"), options_(options) {
  check_options(options, "AvgPool2d");
}

template <class T>
Tensor<T> AvgPool2d<T>::forward(const Tensor<T>& input) {
  return avg_pool2d(input, options_.kernel_size(), options_.stride(), options_.padding());
}

template <class T>
AdaptiveAvgPool2d<T>::AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options)
    : xgrad::Module<T>("AdaptiveAvgPool2d"), options_(options) {
  const Size2 s = options.output_size();
  XGRAD_CHECK(s.h >= 1 && s.w >= 1, ValueError,
              "AdaptiveAvgPool2d: output_size must be positive, got ", s);
}

template <class T>
Tensor<T> AdaptiveAvgPool2d<T>::forward(const Tensor<T>& input) {
  return adaptive_avg_pool2d(input, options_.output_size());
}

XGRAD_INSTANTIATE_CLASS(MaxPool2d);
XGRAD_INSTANTIATE_CLASS(AvgPool2d);
XGRAD_INSTANTIATE_CLASS(AdaptiveAvgPool2d);

}  // namespace xgrad::nn
