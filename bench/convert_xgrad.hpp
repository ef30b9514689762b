// Benchmark data (row-major doubles from bench_data.hpp) as an xgrad tensor.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "xgrad/tensor.hpp"

namespace bench {

template <class T>
xgrad::Tensor<T> to_xgrad(const std::vector<double>& v, const xgrad::Shape& shape,
                          bool requires_grad = false) {
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  std::copy(v.begin(), v.end(), a.begin());
  return xgrad::Tensor<T>(std::move(a), requires_grad);
}

}  // namespace bench
