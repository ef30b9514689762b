// Activations: one Function per op. sigmoid and tanh are stable for any
// input and, like relu, compute their gradient from their own output.
#include "xgrad/ops/activation.hpp"

#include <cmath>

#include "kernels.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

using kernels::map;
using kernels::zip;

// max(a, 0); NaN stays NaN. The gradient passes where the output is positive.
struct ReluFn : Function<ReluFn> {
  static constexpr const char* name = "ReluBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    ctx.save_output();
    // x < 0 ? 0 : x keeps NaN and compiles to a branch-free select.
    return map(a.data(), [](T x) { return x < T(0) ? T(0) : x; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(
        zip(g, ctx.output(), g.shape(), [](T gi, T y) { return y > T(0) ? gi : T(0); }));
  }
};

// 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below, so that exp never
// overflows: sigmoid(+-1000) is exactly 1 and 0.
struct SigmoidFn : Function<SigmoidFn> {
  static constexpr const char* name = "SigmoidBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    ctx.save_output();
    return map(a.data(), [](T x) {
      if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
      const T e = std::exp(x);
      return e / (T(1) + e);
    });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(
        zip(g, ctx.output(), g.shape(), [](T gi, T y) { return gi * (y * (T(1) - y)); }));
  }
};

// std::tanh saturates to exactly +-1 without overflow.
struct TanhFn : Function<TanhFn> {
  static constexpr const char* name = "TanhBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    ctx.save_output();
    return map(a.data(), [](T x) { return std::tanh(x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(
        zip(g, ctx.output(), g.shape(), [](T gi, T y) { return gi * (T(1) - y * y); }));
  }
};

}  // namespace

template <class T>
Tensor<T> relu(const Tensor<T>& a) {
  return ReluFn::apply(a);
}
template <class T>
Tensor<T> sigmoid(const Tensor<T>& a) {
  return SigmoidFn::apply(a);
}
template <class T>
Tensor<T> tanh(const Tensor<T>& a) {
  return TanhFn::apply(a);
}

template Tensor<float> relu(const Tensor<float>&);
template Tensor<double> relu(const Tensor<double>&);
template Tensor<float> sigmoid(const Tensor<float>&);
template Tensor<double> sigmoid(const Tensor<double>&);
template Tensor<float> tanh(const Tensor<float>&);
template Tensor<double> tanh(const Tensor<double>&);

}  // namespace xgrad
