// Seedable random tensors. A Generator is a self-contained stream: two
// generators with the same seed give bit-identical tensors. Functions without a
// generator argument use default_generator(), reseeded by manual_seed().
#pragma once

#include <cstdint>
#include <random>

#include "xgrad/tensor.hpp"

namespace xgrad {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
  void seed(std::uint64_t seed) { engine_.seed(seed); }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

Generator& default_generator();
void manual_seed(std::uint64_t seed);

// Uniform in [low, high); throws ValueError unless low < high and high - low
// is finite. The element type defaults to float, as libtorch's: rand({2, 3}).
template <class T = float>
Tensor<T> rand(const Shape& shape, Generator& gen, T low = T(0), T high = T(1),
               bool requires_grad = false);
template <class T = float>
Tensor<T> rand(const Shape& shape, T low = T(0), T high = T(1), bool requires_grad = false) {
  return rand<T>(shape, default_generator(), low, high, requires_grad);
}
// Normal with the given mean and standard deviation; throws ValueError unless
// mean is finite and stddev finite and positive. Float by default: randn({2, 3}).
template <class T = float>
Tensor<T> randn(const Shape& shape, Generator& gen, T mean = T(0), T stddev = T(1),
                bool requires_grad = false);
template <class T = float>
Tensor<T> randn(const Shape& shape, T mean = T(0), T stddev = T(1), bool requires_grad = false) {
  return randn<T>(shape, default_generator(), mean, stddev, requires_grad);
}
// Integers in [low, high), stored as T (labels, indices). Throws ValueError if
// low >= high or either lies beyond +-2^digits of T (2^24 for float), where T
// no longer holds every integer exactly.
template <class T>
Tensor<T> randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen);
template <class T>
Tensor<T> randint(std::int64_t low, std::int64_t high, const Shape& shape) {
  return randint<T>(low, high, shape, default_generator());
}
// A random permutation of 0..n-1 (for shuffling).
std::vector<std::size_t> randperm(std::size_t n, Generator& gen);

}  // namespace xgrad
