// Labels from and to float tensors, random labels, label equality. argmax
// lives in reduce.cpp beside max (they share one scan).
#include "xgrad/ops/labels.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace xgrad {

template <class T>
Labels to_labels(const Tensor<T>& ids, std::int64_t num_classes) {
  require_defined(ids, "to_labels", "ids");
  XGRAD_CHECK(num_classes >= 0, ValueError,
              "to_labels: num_classes must be >= 0 (0: unbounded), got ", num_classes);
  // Every integer below 2^63 converts to int64 exactly; 2^63 itself does not.
  constexpr double limit = 9223372036854775808.0;
  const xt::xarray<T>& data = ids.data();
  Labels out = Labels::from_shape(data.shape());
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double v = static_cast<double>(data.data()[i]);
    const char* problem = nullptr;
    if (!std::isfinite(v) || v != std::floor(v)) {
      problem = "is not an integer";
    } else if (v < 0) {
      problem = "is negative";
    } else if (v >= limit) {
      problem = "is too large for int64";
    } else if (num_classes > 0 && v >= static_cast<double>(num_classes)) {
      problem = "is not below num_classes";
    }
    XGRAD_CHECK(!problem, ValueError, "to_labels: ids element ", i, " (tensor of shape ",
                data.shape(), ") ", problem, ": ", v,
                num_classes > 0 ? format_message(" (num_classes ", num_classes, ")") : "");
    out.data()[i] = static_cast<std::int64_t>(v);
  }
  return out;
}

template <class T>
Tensor<T> from_labels(const Labels& labels) {
  constexpr std::int64_t exact = std::int64_t{1} << std::numeric_limits<T>::digits;
  xt::xarray<T> out = xt::xarray<T>::from_shape(labels.shape());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::int64_t v = labels.data()[i];
    XGRAD_CHECK(v >= -exact && v <= exact, ValueError, "from_labels: label ", v, " at position ", i,
                " is not exact in this element type (|label| <= ", exact, ")");
    out.data()[i] = static_cast<T>(v);
  }
  return Tensor<T>(std::move(out));
}

Labels randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen) {
  XGRAD_CHECK(low < high, ValueError, "randint: low must be below high, got low=", low,
              " high=", high);
  checked_numel(shape, "randint");
  // The same draws as randint<T> in random.cpp, so both give the same values.
  std::uniform_int_distribution<std::int64_t> dist(low, high - 1);
  Labels out = Labels::from_shape(shape);
  for (auto& v : out) v = dist(gen.engine());
  return out;
}

Mask eq(const Labels& a, const Labels& b) {
  XGRAD_CHECK(a.shape() == b.shape(), ShapeError, "eq: labels of shape ", Shape(a.shape()),
              " and labels of shape ", Shape(b.shape()), " differ");
  Mask out = Mask::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = a.data()[i] == b.data()[i];
  return out;
}

template Labels to_labels(const Tensor<float>&, std::int64_t);
template Labels to_labels(const Tensor<double>&, std::int64_t);
template Tensor<float> from_labels(const Labels&);
template Tensor<double> from_labels(const Labels&);

}  // namespace xgrad
