// Dropout: xgrad::dropout in training mode, the identity in eval mode.
#pragma once

#include <cstdint>
#include <memory>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/random.hpp"

namespace xgrad::nn {

template <class T = float>
class Dropout : public xgrad::Module<T> {
 public:
  // Draws masks from default_generator(). ValueError unless 0 <= p < 1.
  explicit Dropout(double p = 0.5);
  // Draws masks from its own generator seeded with `seed`: reproducible
  // whatever else uses the default generator.
  Dropout(double p, std::uint64_t seed);

  Tensor<T> forward(const Tensor<T>& input) override;
  double p() const { return p_; }

 private:
  double p_;
  std::shared_ptr<Generator> generator_;  // null: default_generator()
};

XGRAD_EXTERN_TEMPLATE_CLASS(Dropout);

}  // namespace xgrad::nn
