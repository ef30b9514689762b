#include "xgrad/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad {

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor<double>>& inputs,
                          double eps, double atol, double rtol) {
  if (!(eps > 0)) throw ValueError("gradcheck: eps must be positive, got " + std::to_string(eps));
  if (!(atol >= 0) || !(rtol >= 0)) {
    throw ValueError("gradcheck: tolerances must be non-negative, got atol=" +
                     std::to_string(atol) + " rtol=" + std::to_string(rtol));
  }
  bool any = false;
  for (const auto& x : inputs) any = any || (x.defined() && x.requires_grad());
  if (!any) throw ValueError("gradcheck: no input requires grad");

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
      for (std::size_t o = 0; o < n_out; ++o) {
        numeric[i](e, o) = (plus.data()[o] - minus.data()[o]) / (2 * eps);
      }
    }
  }

  // Analytic Jacobian, one output element at a time.
  GradcheckResult result;
  double worst = -1;
  for (std::size_t o = 0; o < n_out; ++o) {
    for (auto& x : xs) x.zero_grad();
    Tensor<double> y = fn(xs);
    if (!y.requires_grad()) {
      throw ValueError("gradcheck: the function's output does not require grad (no graph was "
                       "recorded)");
    }
    xt::xarray<double> seed = xt::zeros<double>(y.shape());
    seed.data()[o] = 1;
    y.backward(seed);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!xs[i].requires_grad()) continue;
      const Tensor<double> g = xs[i].grad();
      for (std::size_t e = 0; e < xs[i].numel(); ++e) {
        const double a = g.defined() ? g.data().data()[e] : 0.0;
        const double num = numeric[i](e, o);
        const double excess = std::abs(num - a) - atol - rtol * std::abs(num);
        if (excess > worst || std::isnan(a) != std::isnan(num)) {
          worst = std::isnan(excess) ? 1e300 : excess;
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
  std::ostringstream msg;
  msg << "gradcheck " << (result.passed ? "passed" : "failed") << ": worst element is input "
      << result.input << " index " << result.index << " (output " << result.output_index
      << "): numeric " << result.numeric << ", analytic " << result.analytic << " (atol " << atol
      << ", rtol " << rtol << ")";
  result.message = msg.str();
  return result;
}

}  // namespace xgrad
