#include "xgrad/factory.hpp"

#include <algorithm>
#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad {

template <class T>
Tensor<T> from_blob(const T* data, std::size_t size, const Shape& shape, bool requires_grad) {
  const std::size_t n = checked_numel(shape, "from_blob");
  XGRAD_CHECK(size == n, ShapeError, "from_blob: ", size, " elements do not fill shape ", shape,
              " (", n, " elements)");
  XGRAD_CHECK(data != nullptr || n == 0, ValueError, "from_blob: data is null");
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  std::copy_n(data, n, a.data());
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> from_vector(const std::vector<T>& values, const Shape& shape, bool requires_grad) {
  const std::size_t n = checked_numel(shape, "from_vector");
  XGRAD_CHECK(values.size() == n, ShapeError, "from_vector: ", values.size(),
              " values do not fill shape ", shape, " (", n, " elements)");
  return from_blob(values.data(), n, shape, requires_grad);
}

template <class U, class T>
Tensor<U> to(const Tensor<T>& t) {
  XGRAD_CHECK(t.defined(), ValueError, "to: input is undefined");
  XGRAD_CHECK(!(t.requires_grad() && GradMode::is_enabled()), StateError,
              "to: the input requires grad and autograd does not cross element types; convert "
              "t.detach() (or under NoGradGuard) to drop the history knowingly");
  const xt::xarray<T>& src = t.data();
  xt::xarray<U> a = xt::xarray<U>::from_shape(src.shape());
  std::transform(src.begin(), src.end(), a.begin(), [](T v) { return static_cast<U>(v); });
  return Tensor<U>(std::move(a));
}

#define XGRAD_INSTANTIATE(T)                                                 \
  template Tensor<T> from_blob(const T*, std::size_t, const Shape&, bool);   \
  template Tensor<T> from_vector(const std::vector<T>&, const Shape&, bool); \
  template Tensor<float> to<float, T>(const Tensor<T>&);                     \
  template Tensor<double> to<double, T>(const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
