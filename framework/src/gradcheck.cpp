#include "xgrad/gradcheck.hpp"

#include <cmath>
#include <limits>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad {

namespace {

// How far `analytic` lies outside the tolerance around `numeric` (> 0 fails).
// A NaN on either side always fails (it would otherwise compare false against
// every bound and pass), and an infinity only matches the same infinity.
double excess_of(double numeric, double analytic, double atol, double rtol) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(numeric) || std::isnan(analytic)) return inf;
  if (std::isinf(numeric) || std::isinf(analytic)) return numeric == analytic ? -atol : inf;
  return std::abs(numeric - analytic) - atol - rtol * std::abs(numeric);
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor<double>>& inputs,
                          double eps, double atol, double rtol) {
  XGRAD_CHECK(eps > 0 && std::isfinite(eps), ValueError,
              "gradcheck: eps must be positive and finite, got ", eps);
  XGRAD_CHECK(atol >= 0 && rtol >= 0, ValueError,
              "gradcheck: tolerances must be non-negative, got atol=", atol, " rtol=", rtol);
  bool any = false;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    XGRAD_CHECK(inputs[i].defined(), ValueError, "gradcheck: input ", i, " is undefined");
    any = any || inputs[i].requires_grad();
  }
  XGRAD_CHECK(any, ValueError, "gradcheck: no input requires grad");

  // Fresh leaves that share nothing with the caller's tensors, so the caller's
  // data and gradients stay untouched.
  std::vector<Tensor<double>> xs;
  for (const auto& x : inputs) xs.emplace_back(x.data(), x.requires_grad());

  const auto evaluate = [&]() {
    NoGradGuard no_grad;
    return xt::xarray<double>(fn(xs).data());
  };
  const xt::xarray<double> y0 = evaluate();
  const std::size_t n_out = y0.size();
  // Every later call is indexed by y0's elements.
  const auto check_shape = [&](const Shape& shape) {
    XGRAD_CHECK(shape == y0.shape(), ValueError, "gradcheck: the function returned shape ",
                y0.shape(), " and then ", shape, " for inputs of the same shapes");
  };

  // Numeric Jacobian, one input element at a time.
  std::vector<xt::xarray<double>> numeric(xs.size());  // [n_in_elems, n_out] per input
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].requires_grad()) continue;
    const std::size_t n_in = xs[i].numel();
    numeric[i] = xt::xarray<double>::from_shape({n_in, n_out});
    for (std::size_t e = 0; e < n_in; ++e) {
      const double orig = xs[i].data().data()[e];
      xs[i].mutable_data().data()[e] = orig + eps;
      const xt::xarray<double> plus = evaluate();
      xs[i].mutable_data().data()[e] = orig - eps;
      const xt::xarray<double> minus = evaluate();
      xs[i].mutable_data().data()[e] = orig;
      check_shape(plus.shape());
      check_shape(minus.shape());
      for (std::size_t o = 0; o < n_out; ++o) {
        numeric[i](e, o) = (plus.data()[o] - minus.data()[o]) / (2 * eps);
      }
    }
  }

  // Analytic Jacobian, one output element at a time.
  GradcheckResult result;
  double worst = -std::numeric_limits<double>::infinity();
  for (std::size_t o = 0; o < n_out; ++o) {
    for (auto& x : xs) x.zero_grad();
    Tensor<double> y = fn(xs);
    XGRAD_CHECK(y.requires_grad(), ValueError,
                "gradcheck: the function's output does not require grad (no graph was recorded)");
    check_shape(y.shape());
    xt::xarray<double> seed = xt::zeros<double>(y.shape());
    seed.data()[o] = 1;
    y.backward(seed);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!xs[i].requires_grad()) continue;
      const Tensor<double> g = xs[i].grad();
      for (std::size_t e = 0; e < xs[i].numel(); ++e) {
        const double a = g.defined() ? g.data().data()[e] : 0.0;
        const double num = numeric[i](e, o);
        const double excess = excess_of(num, a, atol, rtol);
        if (excess > worst) {
          worst = excess;
          result.input = i;
          result.index = e;
          result.output_index = o;
          result.numeric = num;
          result.analytic = a;
        }
      }
    }
  }
  result.passed = worst <= 0;
  result.message = format_message(
      "gradcheck ", result.passed ? "passed" : "failed", ": worst element is input ", result.input,
      " index ", result.index, " (output ", result.output_index, "): numeric ", result.numeric,
      ", analytic ", result.analytic, " (atol ", atol, ", rtol ", rtol, ")");
  return result;
}

}  // namespace xgrad
