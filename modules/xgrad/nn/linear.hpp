// Linear: y = x W^T + b (libtorch's torch::nn::Linear), forward through the
// engine's fused xgrad::linear.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/random.hpp"

namespace xgrad::nn {

// libtorch's LinearOptions: nn::Linear<float>(nn::LinearOptions(4, 2).bias(false)).
class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  XGRAD_ARG(std::int64_t, in_features);
  XGRAD_ARG(std::int64_t, out_features);
  XGRAD_ARG(bool, bias) = true;
};

template <class T = float>
class Linear : public xgrad::Module<T> {
 public:
  // weight [out, in] ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in),
  // 1/sqrt(in)); bias [out] ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's default),
  // drawn from `gen` in that order. ValueError when a size is 0.
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true,
         Generator& gen = default_generator());
  // The same from options; ValueError when a size is < 1.
  explicit Linear(const LinearOptions& options, Generator& gen = default_generator());

  // [N, in] -> [N, out]. ValueError on an undefined input.
  Tensor<T> forward(const Tensor<T>& input) override;
  // Redraws weight and bias in place (existing handles see the new values).
  void reset_parameters(Generator& gen = default_generator());

  std::size_t in_features() const { return in_features_; }
  std::size_t out_features() const { return out_features_; }

  Tensor<T> weight;
  Tensor<T> bias;  // undefined when constructed with bias = false

 private:
  std::size_t in_features_, out_features_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Linear);

}  // namespace xgrad::nn
