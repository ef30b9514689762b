#include "xgrad/nn/linear.hpp"

#include <cmath>
#include <string>

#include "xgrad/nn/init.hpp"
#include "xgrad/ops/linalg.hpp"

namespace xgrad::nn {

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool with_bias, Generator& gen)
    : xgrad::Module<T>("Linear"), in_features_(in_features), out_features_(out_features) {
  XGRAD_CHECK(in_features > 0 && out_features > 0, ValueError,
              "Linear: in_features and out_features must be positive, got ", in_features, " and ",
              out_features);
  weight = this->register_parameter("weight", zeros<T>({out_features, in_features}));
  if (with_bias) bias = this->register_parameter("bias", zeros<T>({out_features}));
  reset_parameters(gen);
}

namespace {
std::size_t checked_features(std::int64_t n, const char* name) {
  XGRAD_CHECK(n > 0, ValueError, "Linear: ", name, " must be positive, got ", n);
  return static_cast<std::size_t>(n);
}
}  // namespace

template <class T>
Linear<T>::Linear(const LinearOptions& options, Generator& gen)
    : Linear(checked_features(options.in_features(), "in_features"),
             checked_features(options.out_features(), "out_features"), options.bias(), gen) {}

template <class T>
void Linear<T>::reset_parameters(Generator& gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features_));
    init::uniform_(bias, -bound, bound, gen);
  }
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& input) {
  require_defined(input, "Linear", "input");
  return linear(input, weight, bias);
}

XGRAD_INSTANTIATE_CLASS(Linear);

}  // namespace xgrad::nn
