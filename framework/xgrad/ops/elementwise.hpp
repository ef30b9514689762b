// Elementwise ops with NumPy broadcasting. Gradients are reduced back to each
// input's shape. Tensor-scalar forms take the scalar as T (a double literal
// converts); tensors of different element types never mix.
#pragma once

#include <type_traits>
#include <xtensor/xarray.hpp>

#include "xgrad/tensor.hpp"

namespace xgrad::detail {
template <class T>
struct identity {
  using type = T;
};
}  // namespace xgrad::detail

namespace xgrad {

// A scalar parameter that does not take part in template deduction.
template <class T>
using scalar_t = typename detail::identity<T>::type;

template <class T> Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> add(const Tensor<T>& a, scalar_t<T> s);
template <class T> Tensor<T> sub(const Tensor<T>& a, scalar_t<T> s);
template <class T> Tensor<T> sub(scalar_t<T> s, const Tensor<T>& a);
template <class T> Tensor<T> mul(const Tensor<T>& a, scalar_t<T> s);
template <class T> Tensor<T> div(const Tensor<T>& a, scalar_t<T> s);
template <class T> Tensor<T> div(scalar_t<T> s, const Tensor<T>& a);
template <class T> Tensor<T> neg(const Tensor<T>& a);
// a ** exponent for a scalar exponent.
template <class T> Tensor<T> pow(const Tensor<T>& a, scalar_t<T> exponent);
template <class T> Tensor<T> exp(const Tensor<T>& a);
template <class T> Tensor<T> log(const Tensor<T>& a);
template <class T> Tensor<T> sqrt(const Tensor<T>& a);
template <class T> Tensor<T> abs(const Tensor<T>& a);
// Clamps to [lo, hi]; the gradient passes where lo <= a <= hi (inclusive, as
// in PyTorch). Throws ValueError when lo > hi or either is NaN.
template <class T> Tensor<T> clamp(const Tensor<T>& a, scalar_t<T> lo, scalar_t<T> hi);
template <class T> Tensor<T> clamp_min(const Tensor<T>& a, scalar_t<T> lo);
template <class T> Tensor<T> clamp_max(const Tensor<T>& a, scalar_t<T> hi);
// Elementwise min / max of two tensors; ties send the gradient half to each.
template <class T> Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b);
template <class T> Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b);
// condition ? a : b, broadcasting all three. The condition is an
// xt::xarray<bool> or any xtensor expression convertible to one (x.data() > 0).
namespace detail {
template <class T>
Tensor<T> where(const xt::xarray<bool>& condition, const Tensor<T>& a, const Tensor<T>& b);
}  // namespace detail
// An unqualified call also finds xt::where(E1&&, E2&&, E3&&) through ADL (the
// condition is an xt type), which matches non-const arguments better than
// const references do and then fails to compile. Taking the tensors by value
// (a cheap handle copy) makes this overload the more specialized one always.
template <class T, class C,
          class = std::enable_if_t<std::is_convertible<C, const xt::xarray<bool>&>::value>>
Tensor<T> where(C&& condition, Tensor<T> a, Tensor<T> b) {
  return detail::where<T>(condition, a, b);
}

template <class T> Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) { return add(a, b); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) { return sub(a, b); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) { return mul(a, b); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) { return div(a, b); }
template <class T> Tensor<T> operator+(const Tensor<T>& a, scalar_t<T> s) { return add(a, s); }
template <class T> Tensor<T> operator+(scalar_t<T> s, const Tensor<T>& a) { return add(a, s); }
template <class T> Tensor<T> operator-(const Tensor<T>& a, scalar_t<T> s) { return sub(a, s); }
template <class T> Tensor<T> operator-(scalar_t<T> s, const Tensor<T>& a) { return sub(s, a); }
template <class T> Tensor<T> operator*(const Tensor<T>& a, scalar_t<T> s) { return mul(a, s); }
template <class T> Tensor<T> operator*(scalar_t<T> s, const Tensor<T>& a) { return mul(a, s); }
template <class T> Tensor<T> operator/(const Tensor<T>& a, scalar_t<T> s) { return div(a, s); }
template <class T> Tensor<T> operator/(scalar_t<T> s, const Tensor<T>& a) { return div(s, a); }
template <class T> Tensor<T> operator-(const Tensor<T>& a) { return neg(a); }

}  // namespace xgrad
