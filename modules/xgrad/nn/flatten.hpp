// Flatten: merges the axes start_dim..end_dim (inclusive, negative counts from
// the end) into one, like torch::nn::Flatten; by default [N, ...] -> [N, prod].
// Unflatten: the inverse, splits one axis (torch::nn::Unflatten).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"

namespace xgrad::nn {

template <class T = float>
class Flatten : public xgrad::Module<T> {
 public:
  explicit Flatten(std::ptrdiff_t start_dim = 1, std::ptrdiff_t end_dim = -1)
      : xgrad::Module<T>("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  // ShapeError when an axis is out of range for the input, ValueError when
  // start_dim comes after end_dim or the input is undefined.
  Tensor<T> forward(const Tensor<T>& input) override;
  std::ptrdiff_t start_dim() const { return start_dim_; }
  std::ptrdiff_t end_dim() const { return end_dim_; }

 private:
  std::ptrdiff_t start_dim_, end_dim_;
};

// libtorch's UnflattenOptions(dim, sizes).
class UnflattenOptions {
 public:
  UnflattenOptions(std::int64_t dim, std::vector<std::int64_t> sizes)
      : dim_(dim), sizes_(std::move(sizes)) {}
  XGRAD_ARG(std::int64_t, dim);
  XGRAD_ARG(std::vector<std::int64_t>, sizes);
};

// Splits axis `dim` of its input into `sizes` (one may be -1):
// nn::Unflatten<float>(1, {16, 5, 5}) maps [N, 400] to [N, 16, 5, 5].
// forward: unflatten's errors (ops/shape_ops.hpp). ValueError at construction
// for empty sizes, a size < -1 or 0, or more than one -1.
template <class T = float>
class Unflatten : public xgrad::Module<T> {
 public:
  explicit Unflatten(const UnflattenOptions& options);
  Unflatten(std::int64_t dim, std::vector<std::int64_t> sizes)
      : Unflatten(UnflattenOptions(dim, std::move(sizes))) {}
  Tensor<T> forward(const Tensor<T>& input) override;
  const UnflattenOptions& options() const { return options_; }

 private:
  UnflattenOptions options_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Flatten);
XGRAD_EXTERN_TEMPLATE_CLASS(Unflatten);

}  // namespace xgrad::nn
