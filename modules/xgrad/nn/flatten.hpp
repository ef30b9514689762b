// Flatten: merges the axes start_dim..end_dim (inclusive, negative counts from
// the end) into one, like torch::nn::Flatten; by default [N, ...] -> [N, prod].
#pragma once

#include <cstddef>

#include "xgrad/module.hpp"

namespace xgrad::nn {

template <class T = float>
class Flatten : public Module<T> {
 public:
  explicit Flatten(std::ptrdiff_t start_dim = 1, std::ptrdiff_t end_dim = -1)
      : Module<T>("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  // ShapeError when an axis is out of range for the input, ValueError when
  // start_dim comes after end_dim or the input is undefined.
  Tensor<T> forward(const Tensor<T>& input) override;
  std::ptrdiff_t start_dim() const { return start_dim_; }
  std::ptrdiff_t end_dim() const { return end_dim_; }

 private:
  std::ptrdiff_t start_dim_, end_dim_;
};

extern template class Flatten<float>;
extern template class Flatten<double>;

}  // namespace xgrad::nn
