#include "xgrad/random.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "allocate.hpp"

namespace xgrad {

Generator& default_generator() {
  static Generator gen(0);
  return gen;
}

void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

// The standard distributions are used directly (not xt::random's lazy
// generators) so that a tensor is drawn element by element in a fixed order.
template <class T>
Tensor<T> rand(const Shape& shape, Generator& gen, T low, T high, bool requires_grad) {
  // high - low must be finite too, or the draws are inf / NaN.
  XGRAD_CHECK(low < high && std::isfinite(high - low), ValueError,
              "rand: low must be below high with a finite difference, got low=", low,
              " high=", high);
  std::uniform_real_distribution<T> dist(low, high);
  // low + (high - low) * u can round up to high itself (float, u near 1).
  const T below_high = std::nextafter(high, low);
  xt::xarray<T> a = allocate_array<T>(shape, "rand");
  for (auto& v : a) v = std::min(dist(gen.engine()), below_high);
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> randn(const Shape& shape, Generator& gen, T mean, T stddev, bool requires_grad) {
  XGRAD_CHECK(stddev > T(0) && std::isfinite(stddev) && std::isfinite(mean), ValueError,
              "randn: mean must be finite and stddev finite and positive, got mean=", mean,
              " stddev=", stddev);
  std::normal_distribution<T> dist(mean, stddev);
  xt::xarray<T> a = allocate_array<T>(shape, "randn");
  for (auto& v : a) v = dist(gen.engine());
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen) {
  XGRAD_CHECK(low < high, ValueError, "randint: low must be below high, got low=", low,
              " high=", high);
  // Beyond 2^digits, T rounds integers, and the largest draw could round up
  // to high.
  constexpr std::int64_t exact = std::int64_t{1} << std::numeric_limits<T>::digits;
  XGRAD_CHECK(low >= -exact && high <= exact, ValueError, "randint: low and high must lie in [-",
              exact, ", ", exact, "] to be exact in this element type, got low=", low,
              " high=", high);
  std::uniform_int_distribution<std::int64_t> dist(low, high - 1);
  xt::xarray<T> a = allocate_array<T>(shape, "randint");
  for (auto& v : a) v = static_cast<T>(dist(gen.engine()));
  return Tensor<T>(std::move(a));
}

std::vector<std::size_t> randperm(std::size_t n, Generator& gen) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  // Fisher-Yates with our own draws: std::shuffle's algorithm is unspecified.
  for (std::size_t i = n; i > 1; --i) {
    std::uniform_int_distribution<std::size_t> dist(0, i - 1);
    std::swap(p[i - 1], p[dist(gen.engine())]);
  }
  return p;
}

#define XGRAD_INSTANTIATE(T)                                         \
  template Tensor<T> rand<T>(const Shape&, Generator&, T, T, bool);  \
  template Tensor<T> randn<T>(const Shape&, Generator&, T, T, bool); \
  template Tensor<T> randint<T>(std::int64_t, std::int64_t, const Shape&, Generator&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
