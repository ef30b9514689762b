#include "xgrad/nn/dropout.hpp"

#include <string>

#include "xgrad/ops/dropout.hpp"

namespace xgrad::nn {

namespace {
double checked_p(double p) {
  XGRAD_CHECK(p >= 0.0 && p < 1.0, ValueError, "Dropout: p must be in [0, 1), got ", p);
  return p;
}
}  // namespace

template <class T>
Dropout<T>::Dropout(double p) : xgrad::Module<T>("Dropout"), p_(checked_p(p)) {}

template <class T>
Dropout<T>::Dropout(double p, std::uint64_t seed)
    : xgrad::Module<T>("Dropout"),
      p_(checked_p(p)),
      generator_(std::make_shared<Generator>(seed)) {}

template <class T>
Tensor<T> Dropout<T>::forward(const Tensor<T>& input) {
  return dropout(input, p_, this->is_training(), generator_ ? *generator_ : default_generator());
}

XGRAD_INSTANTIATE_CLASS(Dropout);

}  // namespace xgrad::nn
