#include "xgrad/ops/batch_norm.hpp"

#include <cmath>
#include <string>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// Element (n, c, l) of a contiguous [N, C, L] array, where L is the product of
// the trailing axes (1 for [N, C], H W for [N, C, H, W]).
struct Layout {
  std::size_t n, c, l;
  std::size_t at(std::size_t i, std::size_t ch, std::size_t j) const {
    return (i * c + ch) * l + j;
  }
};

Layout layout_of(const Shape& s) {
  std::size_t l = 1;
  for (std::size_t k = 2; k < s.size(); ++k) l *= s[k];
  return {s[0], s[1], l};
}

// The statistics (mean, invstd per channel) are computed by the caller and
// passed in; `batch_stats` says whether they depend on x (training), which
// adds their terms to dx.
struct BatchNormFn : Function<BatchNormFn> {
  static constexpr const char* name = "BatchNormBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                               const Tensor<T>& bias, const xt::xarray<T>& mean,
                               const xt::xarray<T>& invstd, bool batch_stats) {
    const Layout d = layout_of(x.shape());
    xt::xarray<T> xhat = detail::new_array<T>(x.shape());
    xt::xarray<T> out = detail::new_array<T>(x.shape());
    const T* xs = x.data().data();
    const T* w = weight.data().data();
    const T* b = bias.data().data();
    for (std::size_t i = 0; i < d.n; ++i) {
      for (std::size_t c = 0; c < d.c; ++c) {
        for (std::size_t j = 0; j < d.l; ++j) {
          const std::size_t k = d.at(i, c, j);
          const T h = (xs[k] - mean(c)) * invstd(c);
          xhat.data()[k] = h;
          out.data()[k] = h * w[c] + b[c];
        }
      }
    }
    if (ctx.recording()) {
      ctx.save_for_backward({weight});
      ctx.saved_arrays.push_back(std::move(xhat));
      ctx.saved_arrays.push_back(invstd);
      ctx.saved_ints = {batch_stats ? 1 : 0};
    }
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const xt::xarray<T>& w = ctx.saved(0);
    const xt::xarray<T>& xhat = ctx.saved_arrays.at(0);
    const xt::xarray<T>& invstd = ctx.saved_arrays.at(1);
    const bool batch_stats = ctx.saved_ints.at(0) != 0;
    const Layout d = layout_of(grad.shape());
    const double m = static_cast<double>(d.n * d.l);
    const T* g = grad.data();
    const T* h = xhat.data();
    // Per channel: sum(g) and sum(g * xhat), accumulated in double.
    xt::xarray<T> dw = detail::new_array<T>({d.c});
    xt::xarray<T> db = detail::new_array<T>({d.c});
    for (std::size_t c = 0; c < d.c; ++c) {
      double sg = 0, sgh = 0;
      for (std::size_t i = 0; i < d.n; ++i) {
        for (std::size_t j = 0; j < d.l; ++j) {
          const std::size_t k = d.at(i, c, j);
          sg += g[k];
          sgh += static_cast<double>(g[k]) * h[k];
        }
      }
      db(c) = static_cast<T>(sg);
      dw(c) = static_cast<T>(sgh);
    }
    xt::xarray<T> dx;
    if (ctx.needs_input_grad(0)) {
      dx = detail::new_array<T>(grad.shape());
      for (std::size_t c = 0; c < d.c; ++c) {
        const T scale = w(c) * invstd(c);
        // With batch statistics, mean and variance depend on x too:
        // dx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)).
        const T mg = batch_stats ? static_cast<T>(db(c) / m) : T(0);
        const T mgh = batch_stats ? static_cast<T>(dw(c) / m) : T(0);
        for (std::size_t i = 0; i < d.n; ++i) {
          for (std::size_t j = 0; j < d.l; ++j) {
            const std::size_t k = d.at(i, c, j);
            dx.data()[k] = scale * (g[k] - mg - h[k] * mgh);
          }
        }
      }
    }
    return gradients(std::move(dx), std::move(dw), std::move(db));
  }
};

template <class T>
void check_channels(const Tensor<T>& t, std::size_t c, const char* what) {
  XGRAD_CHECK(!t.defined() || (t.dim() == 1 && t.shape()[0] == c), ShapeError, "batch_norm: ", what,
              " must have shape [", c, "], got ", t.shape());
}

}  // namespace

template <class T>
Tensor<T> batch_norm(const Tensor<T>& input, const Tensor<T>& running_mean,
                     const Tensor<T>& running_var, const Tensor<T>& weight, const Tensor<T>& bias,
                     bool training, double momentum, double eps) {
  require_defined(input, "batch_norm", "input");
  XGRAD_CHECK(input.dim() >= 2 && input.dim() <= 4, ShapeError,
              "batch_norm: input must be [N, C], [N, C, L] or [N, C, H, W], got ", input.shape());
  const Layout d = layout_of(input.shape());
  check_channels(running_mean, d.c, "running_mean");
  check_channels(running_var, d.c, "running_var");
  check_channels(weight, d.c, "weight");
  check_channels(bias, d.c, "bias");
  XGRAD_CHECK(momentum >= 0.0 && momentum <= 1.0, ValueError,
              "batch_norm: momentum must be in [0, 1], got ", momentum);
  XGRAD_CHECK(eps > 0.0 && std::isfinite(eps), ValueError, "batch_norm: eps must be positive, got ",
              eps);
  XGRAD_CHECK(running_mean.defined() == running_var.defined(), ValueError,
              "batch_norm: running_mean and running_var must both be given or both be undefined");
  XGRAD_CHECK(training || running_mean.defined(), ValueError,
              "batch_norm: running_mean and running_var are required when not training");
  const std::size_t count = d.n * d.l;
  XGRAD_CHECK(!training || count > 1, ValueError,
              "batch_norm: expected more than 1 value per channel when training, got input ",
              input.shape());

  xt::xarray<T> mean = detail::new_array<T>({d.c});
  xt::xarray<T> var = detail::new_array<T>({d.c});  // biased
  if (training) {
    const T* xs = input.data().data();
    for (std::size_t c = 0; c < d.c; ++c) {
      // Two passes in double: exact enough for float inputs with large means.
      double s = 0;
      for (std::size_t i = 0; i < d.n; ++i)
        for (std::size_t j = 0; j < d.l; ++j) s += xs[d.at(i, c, j)];
      const double mu = s / static_cast<double>(count);
      double ss = 0;
      for (std::size_t i = 0; i < d.n; ++i)
        for (std::size_t j = 0; j < d.l; ++j) {
          const double e = xs[d.at(i, c, j)] - mu;
          ss += e * e;
        }
      mean(c) = static_cast<T>(mu);
      var(c) = static_cast<T>(ss / static_cast<double>(count));
    }
  } else {
    mean = running_mean.data();
    var = running_var.data();
  }
  xt::xarray<T> invstd = detail::new_array<T>({d.c});
  for (std::size_t c = 0; c < d.c; ++c) {
    invstd(c) = static_cast<T>(1.0 / std::sqrt(static_cast<double>(var(c)) + eps));
  }

  const Tensor<T> w = weight.defined() ? weight : ones<T>({d.c});
  const Tensor<T> b = bias.defined() ? bias : zeros<T>({d.c});
  Tensor<T> out = BatchNormFn::apply(input, w, b, mean, invstd, training);

  if (training && running_mean.defined()) {
    // Last, so that nothing is updated when anything above throws.
    const T keep = static_cast<T>(1.0 - momentum), take = static_cast<T>(momentum);
    const T unbias = static_cast<T>(static_cast<double>(count) / static_cast<double>(count - 1));
    Tensor<T> rmean = running_mean, rvar = running_var;  // handles: same storage
    xt::xarray<T>& rm = rmean.mutable_data();
    xt::xarray<T>& rv = rvar.mutable_data();
    for (std::size_t c = 0; c < d.c; ++c) {
      rm(c) = keep * rm(c) + take * mean(c);
      rv(c) = keep * rv(c) + take * var(c) * unbias;
    }
  }
  return out;
}

template Tensor<float> batch_norm<float>(const Tensor<float>&, const Tensor<float>&,
                                         const Tensor<float>&, const Tensor<float>&,
                                         const Tensor<float>&, bool, double, double);
template Tensor<double> batch_norm<double>(const Tensor<double>&, const Tensor<double>&,
                                           const Tensor<double>&, const Tensor<double>&,
                                           const Tensor<double>&, bool, double, double);

}  // namespace xgrad
