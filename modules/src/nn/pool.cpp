#include "xgrad/nn/pool.hpp"

#include <string>

#include "xgrad/ops/pool.hpp"

namespace xgrad::nn {

template <class T>
Pool2dBase<T>::Pool2dBase(const char* type_name, Op op, const Pool2dOptions& options)
    : xgrad::Module<T>(type_name), op_(op), options_(options) {
  const Size2 k = options.kernel_size(), s = options.stride(), p = options.padding();
  XGRAD_CHECK(k.h >= 1 && k.w >= 1, ValueError, type_name, ": kernel_size must be positive, got ",
              k);
  XGRAD_CHECK(s.h >= 1 && s.w >= 1, ValueError, type_name, ": stride must be positive, got ", s);
  XGRAD_CHECK(p.h >= 0 && p.w >= 0 && p.h <= k.h / 2 && p.w <= k.w / 2, ValueError, type_name,
              ": padding must be non-negative and at most half of kernel_size ", k, ", got ", p);
}

template <class T>
Tensor<T> Pool2dBase<T>::forward(const Tensor<T>& input) {
  return op_(input, options_.kernel_size(), options_.stride(), options_.padding());
}

template <class T>
MaxPool2d<T>::MaxPool2d(const MaxPool2dOptions& options)
    : Pool2dBase<T>("MaxPool2d", &max_pool2d<T>, options) {}

template <class T>
AvgPool2d<T>::AvgPool2d(const AvgPool2dOptions& options)
    : Pool2dBase<T>("AvgPool2d", &avg_pool2d<T>, options) {}

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

XGRAD_INSTANTIATE_CLASS(Pool2dBase);
XGRAD_INSTANTIATE_CLASS(MaxPool2d);
XGRAD_INSTANTIATE_CLASS(AvgPool2d);
XGRAD_INSTANTIATE_CLASS(AdaptiveAvgPool2d);

}  // namespace xgrad::nn
