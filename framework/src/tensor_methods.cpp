// Tensor's method forms: each forwards to the free function of the same name
// (qualified: inside the class the member would hide it).
#include "xgrad/factory.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/ops/labels.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/ops/slicing.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

template <class T>
Tensor<T> Tensor<T>::sum() const {
  return xgrad::sum(*this);
}
template <class T>
Tensor<T> Tensor<T>::sum(const std::vector<std::ptrdiff_t>& dims, bool keepdim) const {
  return xgrad::sum(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::mean() const {
  return xgrad::mean(*this);
}
template <class T>
Tensor<T> Tensor<T>::mean(const std::vector<std::ptrdiff_t>& dims, bool keepdim) const {
  return xgrad::mean(*this, dims, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::max(std::ptrdiff_t dim, bool keepdim) const {
  return xgrad::max(*this, dim, keepdim);
}
template <class T>
xt::xarray<std::int64_t> Tensor<T>::argmax(std::ptrdiff_t dim, bool keepdim) const {
  return xgrad::argmax(*this, dim, keepdim);
}
template <class T>
Tensor<T> Tensor<T>::matmul(const Tensor& other) const {
  return xgrad::matmul(*this, other);
}
template <class T>
Tensor<T> Tensor<T>::reshape(const std::vector<std::ptrdiff_t>& shape) const {
  return xgrad::reshape(*this, shape);
}
template <class T>
Tensor<T> Tensor<T>::t() const {
  return xgrad::transpose(*this);
}
template <class T>
Tensor<T> Tensor<T>::permute(const std::vector<std::size_t>& dims) const {
  return xgrad::transpose(*this, dims);
}
template <class T>
Tensor<T> Tensor<T>::transpose(std::ptrdiff_t dim0, std::ptrdiff_t dim1) const {
  return xgrad::transpose(*this, dim0, dim1);
}
template <class T>
Tensor<T> Tensor<T>::slice(std::ptrdiff_t dim, std::int64_t start, std::int64_t end,
                           std::int64_t step) const {
  return xgrad::slice(*this, dim, start, end, step);
}
template <class T>
Tensor<T> Tensor<T>::narrow(std::ptrdiff_t dim, std::int64_t start, std::int64_t length) const {
  return xgrad::narrow(*this, dim, start, length);
}
template <class T>
Tensor<T> Tensor<T>::select(std::ptrdiff_t dim, std::int64_t index) const {
  return xgrad::select(*this, dim, index);
}
template <class T>
Tensor<T> Tensor<T>::index_select(std::ptrdiff_t dim, const std::vector<std::size_t>& index) const {
  return xgrad::index_select(*this, dim, index);
}
template <class T>
Tensor<T> Tensor<T>::operator[](std::int64_t i) const {
  return as_view_copy(xgrad::select(*this, 0, i), *this, "t[i]");
}
template <class T>
Tensor<T> Tensor<T>::index(const std::vector<indexing::TensorIndex>& indices) const {
  return xgrad::index(*this, indices);
}
template <class T>
Tensor<T>& Tensor<T>::index_put_(const std::vector<indexing::TensorIndex>& indices, T value) {
  return xgrad::index_put_(*this, indices, value);
}
template <class T>
Tensor<T>& Tensor<T>::index_put_(const std::vector<indexing::TensorIndex>& indices,
                                 const Tensor& value) {
  return xgrad::index_put_(*this, indices, value);
}
template <class T>
Tensor<T> Tensor<T>::view(const std::vector<std::ptrdiff_t>& shape) const {
  return as_view_copy(xgrad::reshape(*this, shape), *this, "view");
}
template <class T>
Tensor<T> Tensor<T>::unsqueeze(std::ptrdiff_t dim) const {
  return xgrad::unsqueeze(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::squeeze() const {
  return xgrad::squeeze(*this);
}
template <class T>
Tensor<T> Tensor<T>::squeeze(std::ptrdiff_t dim) const {
  return xgrad::squeeze(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::flatten(std::ptrdiff_t start_dim, std::ptrdiff_t end_dim) const {
  return xgrad::flatten(*this, start_dim, end_dim);
}
template <class T>
Tensor<T> Tensor<T>::unflatten(std::ptrdiff_t dim, const std::vector<std::ptrdiff_t>& sizes) const {
  return xgrad::unflatten(*this, dim, sizes);
}
template <class T>
Tensor<T> Tensor<T>::relu() const {
  return xgrad::relu(*this);
}
template <class T>
Tensor<T> Tensor<T>::sigmoid() const {
  return xgrad::sigmoid(*this);
}
template <class T>
Tensor<T> Tensor<T>::tanh() const {
  return xgrad::tanh(*this);
}
template <class T>
Tensor<T> Tensor<T>::softmax(std::ptrdiff_t dim) const {
  return xgrad::softmax(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::log_softmax(std::ptrdiff_t dim) const {
  return xgrad::log_softmax(*this, dim);
}
template <class T>
Tensor<T> Tensor<T>::exp() const {
  return xgrad::exp(*this);
}
template <class T>
Tensor<T> Tensor<T>::log() const {
  return xgrad::log(*this);
}
template <class T>
Tensor<T> Tensor<T>::sqrt() const {
  return xgrad::sqrt(*this);
}
template <class T>
Tensor<T> Tensor<T>::abs() const {
  return xgrad::abs(*this);
}
template <class T>
Tensor<T> Tensor<T>::neg() const {
  return xgrad::neg(*this);
}
template <class T>
Tensor<T> Tensor<T>::pow(T exponent) const {
  return xgrad::pow(*this, exponent);
}
template <class T>
Tensor<T> Tensor<T>::clamp(T min, T max) const {
  return xgrad::clamp(*this, min, max);
}
template <class T>
template <class U>
Tensor<U> Tensor<T>::to() const {
  return xgrad::to<U>(*this);
}

// Members defined here are instantiated here, one by one (tensor.cpp holds
// the class's explicit instantiation).
#define XGRAD_INSTANTIATE(T)                                                                    \
  template Tensor<T> Tensor<T>::sum() const;                                                    \
  template Tensor<T> Tensor<T>::sum(const std::vector<std::ptrdiff_t>&, bool) const;            \
  template Tensor<T> Tensor<T>::mean() const;                                                   \
  template Tensor<T> Tensor<T>::mean(const std::vector<std::ptrdiff_t>&, bool) const;           \
  template Tensor<T> Tensor<T>::max(std::ptrdiff_t, bool) const;                                \
  template xt::xarray<std::int64_t> Tensor<T>::argmax(std::ptrdiff_t, bool) const;              \
  template Tensor<T> Tensor<T>::matmul(const Tensor<T>&) const;                                 \
  template Tensor<T> Tensor<T>::reshape(const std::vector<std::ptrdiff_t>&) const;              \
  template Tensor<T> Tensor<T>::t() const;                                                      \
  template Tensor<T> Tensor<T>::permute(const std::vector<std::size_t>&) const;                 \
  template Tensor<T> Tensor<T>::transpose(std::ptrdiff_t, std::ptrdiff_t) const;                \
  template Tensor<T> Tensor<T>::slice(std::ptrdiff_t, std::int64_t, std::int64_t, std::int64_t) \
      const;                                                                                    \
  template Tensor<T> Tensor<T>::narrow(std::ptrdiff_t, std::int64_t, std::int64_t) const;       \
  template Tensor<T> Tensor<T>::select(std::ptrdiff_t, std::int64_t) const;                     \
  template Tensor<T> Tensor<T>::index_select(std::ptrdiff_t, const std::vector<std::size_t>&)   \
      const;                                                                                    \
  template Tensor<T> Tensor<T>::operator[](std::int64_t) const;                                 \
  template Tensor<T> Tensor<T>::index(const std::vector<indexing::TensorIndex>&) const;         \
  template Tensor<T>& Tensor<T>::index_put_(const std::vector<indexing::TensorIndex>&, T);      \
  template Tensor<T>& Tensor<T>::index_put_(const std::vector<indexing::TensorIndex>&,          \
                                            const Tensor<T>&);                                  \
  template Tensor<T> Tensor<T>::view(const std::vector<std::ptrdiff_t>&) const;                 \
  template Tensor<T> Tensor<T>::unsqueeze(std::ptrdiff_t) const;                                \
  template Tensor<T> Tensor<T>::squeeze() const;                                                \
  template Tensor<T> Tensor<T>::squeeze(std::ptrdiff_t) const;                                  \
  template Tensor<T> Tensor<T>::flatten(std::ptrdiff_t, std::ptrdiff_t) const;                  \
  template Tensor<T> Tensor<T>::unflatten(std::ptrdiff_t, const std::vector<std::ptrdiff_t>&)   \
      const;                                                                                    \
  template Tensor<T> Tensor<T>::relu() const;                                                   \
  template Tensor<T> Tensor<T>::sigmoid() const;                                                \
  template Tensor<T> Tensor<T>::tanh() const;                                                   \
  template Tensor<T> Tensor<T>::softmax(std::ptrdiff_t) const;                                  \
  template Tensor<T> Tensor<T>::log_softmax(std::ptrdiff_t) const;                              \
  template Tensor<T> Tensor<T>::exp() const;                                                    \
  template Tensor<T> Tensor<T>::log() const;                                                    \
  template Tensor<T> Tensor<T>::sqrt() const;                                                   \
  template Tensor<T> Tensor<T>::abs() const;                                                    \
  template Tensor<T> Tensor<T>::neg() const;                                                    \
  template Tensor<T> Tensor<T>::pow(T) const;                                                   \
  template Tensor<T> Tensor<T>::clamp(T, T) const;                                              \
  template Tensor<float> Tensor<T>::to<float>() const;                                          \
  template Tensor<double> Tensor<T>::to<double>() const;
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
