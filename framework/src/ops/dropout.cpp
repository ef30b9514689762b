#include "xgrad/ops/dropout.hpp"

#include <cmath>
#include <string>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// The mask (0 or 1/(1-p) per element) is drawn by the caller and passed in,
// so forward and backward multiply by the same array.
struct DropoutFn : Function<DropoutFn> {
  static constexpr const char* name = "DropoutBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const xt::xarray<T>& mask) {
    xt::xarray<T> out = detail::new_array<T>(a.shape());
    const T* x = a.data().data();
    const T* m = mask.data();
    T* y = out.data();
    for (std::size_t i = 0, n = out.size(); i < n; ++i) y[i] = x[i] * m[i];
    if (ctx.recording()) ctx.saved_arrays.push_back(mask);
    return out;
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const xt::xarray<T>& mask = ctx.saved_arrays.at(0);
    xt::xarray<T> dx = detail::new_array<T>(grad.shape());
    for (std::size_t i = 0, n = dx.size(); i < n; ++i)
      dx.data()[i] = grad.data()[i] * mask.data()[i];
    return gradients(std::move(dx));
  }
};

}  // namespace

template <class T>
Tensor<T> dropout(const Tensor<T>& a, double p, bool training, Generator& gen) {
  XGRAD_CHECK(p >= 0.0 && p < 1.0, ValueError, "dropout: p must be in [0, 1), got ", p);
  require_defined(a, "dropout", "input");
  if (!training || p == 0.0) return a;
  const T scale = static_cast<T>(1.0 / (1.0 - p));
  xt::xarray<T> mask = detail::new_array<T>(a.shape());
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (auto& m : mask) m = uniform(gen.engine()) < p ? T(0) : scale;
  return DropoutFn::apply(a, mask);
}

template Tensor<float> dropout<float>(const Tensor<float>&, double, bool, Generator&);
template Tensor<double> dropout<double>(const Tensor<double>&, double, bool, Generator&);

}  // namespace xgrad
