// Numerical gradient check: compares the engine's backward with central finite
// differences, element by element, in double precision.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

struct GradcheckResult {
  bool passed = true;
  // The worst element (largest |numeric - analytic| - atol - rtol*|numeric|).
  std::size_t input = 0;         // which input tensor
  std::size_t index = 0;         // flat index in that input
  std::size_t output_index = 0;  // flat index in the output
  double numeric = 0;
  double analytic = 0;
  std::string message;  // human-readable summary of the worst element
  explicit operator bool() const { return passed; }
};

using GradcheckFn = std::function<Tensor<double>(const std::vector<Tensor<double>>&)>;

// For every output element and every element of every input that requires
// grad: numeric = (f(x + eps) - f(x - eps)) / (2 eps), analytic from backward.
// Passes when |numeric - analytic| <= atol + rtol * |numeric| everywhere; a NaN
// on either side fails, an infinity passes only against the same infinity.
// Inputs are restored afterwards. Throws ValueError on eps <= 0 or not finite,
// negative tolerances, an undefined input, when no input requires grad or when
// the function's output shape changes between calls.
GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor<double>>& inputs,
                          double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3);

}  // namespace xgrad
