// Comparisons: masks through xtensor's broadcasting comparison expressions
// (never on a hot path; the shapes are checked first for our error message).
#include "xgrad/ops/compare.hpp"

#include <xtensor/xoperation.hpp>

#include "xgrad/detail/array_cache.hpp"

namespace xgrad {

namespace {

template <class T>
void check_pair(const Tensor<T>& a, const Tensor<T>& b, const char* op) {
  require_defined(a, op, "input");
  require_defined(b, op, "other");
  broadcast_shapes(a.shape(), b.shape(), op);
}

}  // namespace

#define XGRAD_COMPARISON(NAME, EXPR)                                \
  template <class T>                                                \
  Mask NAME(const Tensor<T>& a, const Tensor<T>& b) {               \
    check_pair(a, b, #NAME);                                        \
    const auto& x = a.data();                                       \
    const auto& y = b.data();                                       \
    return Mask(EXPR);                                              \
  }                                                                 \
  template <class T>                                                \
  Mask NAME(const Tensor<T>& a, scalar_t<T> s) {                    \
    require_defined(a, #NAME, "input");                             \
    const auto& x = a.data();                                       \
    const T y = s;                                                  \
    return Mask(EXPR);                                              \
  }                                                                 \
  template Mask NAME(const Tensor<float>&, const Tensor<float>&);   \
  template Mask NAME(const Tensor<double>&, const Tensor<double>&); \
  template Mask NAME(const Tensor<float>&, scalar_t<float>);        \
  template Mask NAME(const Tensor<double>&, scalar_t<double>);

XGRAD_COMPARISON(eq, xt::equal(x, y))
XGRAD_COMPARISON(ne, xt::not_equal(x, y))
XGRAD_COMPARISON(lt, x < y)
XGRAD_COMPARISON(le, x <= y)
XGRAD_COMPARISON(gt, x > y)
XGRAD_COMPARISON(ge, x >= y)
#undef XGRAD_COMPARISON

std::int64_t count_nonzero(Mask mask) {
  std::int64_t n = 0;
  for (bool b : mask) n += b ? 1 : 0;
  return n;
}

template <class T>
Tensor<T> tensor_from_mask(const Mask& mask) {
  xt::xarray<T> out = detail::new_array<T>(mask.shape());
  std::transform(mask.begin(), mask.end(), out.begin(), [](bool b) { return b ? T(1) : T(0); });
  return Tensor<T>(std::move(out));
}
template Tensor<float> tensor_from_mask(const Mask&);
template Tensor<double> tensor_from_mask(const Mask&);

}  // namespace xgrad
