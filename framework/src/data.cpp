#include "xgrad/data.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/ops/labels.hpp"

namespace xgrad::data {

template <class T>
void check_dataset(const Dataset<T>& dataset, const char* what) {
  XGRAD_CHECK(dataset.features.defined(), ValueError, what,
              ": the dataset's features are undefined");
  const Shape& f = dataset.features.shape();
  XGRAD_CHECK(f.size() >= 1 && dataset.labels.dimension() == 1 && f[0] == dataset.labels.size(),
              ShapeError, what, ": expected features [N, ...] and labels [N], got ", f, " and ",
              dataset.labels.shape());
}

template <class T>
Dataset<T> subset(const Dataset<T>& dataset, const std::vector<std::size_t>& indices) {
  check_dataset(dataset, "subset");
  Dataset<T> out;
  out.features = index_select(dataset.features, 0, indices);  // validates the indices
  out.labels = Labels::from_shape({indices.size()});
  for (std::size_t k = 0; k < indices.size(); ++k) out.labels(k) = dataset.labels(indices[k]);
  return out;
}

template <class T>
std::pair<Dataset<T>, Dataset<T>> train_test_split(const Dataset<T>& dataset, double test_fraction,
                                                   Generator& gen) {
  check_dataset(dataset, "train_test_split");
  XGRAD_CHECK(test_fraction > 0 && test_fraction < 1, ValueError,
              "train_test_split: test_fraction must be in (0, 1), got ", test_fraction);
  const std::size_t n = dataset.size();
  const auto n_test =
      static_cast<std::size_t>(std::llround(static_cast<double>(n) * test_fraction));
  XGRAD_CHECK(n_test != 0 && n_test != n, ValueError, "train_test_split: ", n,
              " rows with test_fraction ", test_fraction, " leave one part empty");
  const std::vector<std::size_t> order = randperm(n, gen);
  const std::vector<std::size_t> test(order.begin(),
                                      order.begin() + static_cast<std::ptrdiff_t>(n_test));
  const std::vector<std::size_t> train(order.begin() + static_cast<std::ptrdiff_t>(n_test),
                                       order.end());
  return {subset(dataset, train), subset(dataset, test)};
}

template <class T>
std::vector<Dataset<T>> random_split(const Dataset<T>& dataset,
                                     const std::vector<std::size_t>& lengths, Generator& gen) {
  check_dataset(dataset, "random_split");
  std::size_t total = 0;
  bool overflow = false;
  for (std::size_t n : lengths) overflow = __builtin_add_overflow(total, n, &total) || overflow;
  XGRAD_CHECK(!overflow && total == dataset.size(), ValueError, "random_split: lengths ", lengths,
              " must add up to the dataset's ", dataset.size(), " rows");
  const std::vector<std::size_t> order = randperm(dataset.size(), gen);
  std::vector<Dataset<T>> parts;
  auto first = order.begin();
  for (std::size_t n : lengths) {
    const auto last = first + static_cast<std::ptrdiff_t>(n);
    parts.push_back(subset(dataset, std::vector<std::size_t>(first, last)));
    first = last;
  }
  return parts;
}

template <class T>
Dataset<T> make_bars(std::size_t images_per_class, std::size_t size, T noise, Generator& gen) {
  XGRAD_CHECK(images_per_class >= 1, ValueError, "make_bars: images_per_class must be >= 1, got 0");
  XGRAD_CHECK(size >= 4, ValueError, "make_bars: size must be >= 4, got ", size);
  XGRAD_CHECK(noise >= 0 && std::isfinite(noise), ValueError, "make_bars: noise must be >= 0, got ",
              noise);
  constexpr std::size_t kClasses = 4;
  XGRAD_CHECK(images_per_class <= kMaxElements / kClasses / size / size, ValueError,
              "make_bars: ", images_per_class, " images per class of ", size, "x", size,
              " pixels are too many elements");
  const std::size_t n = images_per_class * kClasses, length = size / 2;
  // Per image, uniform draws: where the bar starts along each axis (among the
  // positions where it fits), and the line a straight bar lies on (any).
  const Labels start = randint(0, static_cast<std::int64_t>(size - length + 1), {n, 2}, gen);
  const Labels line = randint(0, static_cast<std::int64_t>(size), {n}, gen);
  xt::xarray<T> images = randn<T>({n, 1, size, size}, gen, T(0), T(1)).data();
  images *= noise;
  Labels labels = Labels::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i / images_per_class;
    labels(i) = static_cast<std::int64_t>(c);
    const auto r = static_cast<std::size_t>(start(i, 0));
    const auto q = static_cast<std::size_t>(start(i, 1));
    const auto at = static_cast<std::size_t>(line(i));
    for (std::size_t k = 0; k < length; ++k) {
      const std::size_t row = c == 0 ? at : r + k;
      const std::size_t col = c == 0 ? q + k : c == 1 ? at : c == 2 ? q + k : q + length - 1 - k;
      images(i, 0, row, col) += T(1);
    }
  }
  return Dataset<T>{Tensor<T>(std::move(images)), std::move(labels)};
}

template <class T>
Dataset<T> make_spirals(std::size_t points_per_class, std::size_t num_classes, T noise,
                        Generator& gen, T turns) {
  XGRAD_CHECK(points_per_class >= 1, ValueError,
              "make_spirals: points_per_class must be >= 1, got 0");
  XGRAD_CHECK(num_classes >= 2, ValueError, "make_spirals: num_classes must be >= 2, got ",
              num_classes);
  XGRAD_CHECK(noise >= 0 && std::isfinite(noise), ValueError,
              "make_spirals: noise must be >= 0, got ", noise);
  XGRAD_CHECK(turns > 0 && std::isfinite(turns), ValueError,
              "make_spirals: turns must be > 0, got ", turns);
  XGRAD_CHECK(points_per_class <= std::numeric_limits<std::size_t>::max() / num_classes, ValueError,
              "make_spirals: points_per_class ", points_per_class, " times num_classes ",
              num_classes, " overflows");
  const std::size_t n = points_per_class * num_classes;
  const double two_pi = 2 * std::acos(-1.0);
  const xt::xarray<T> jitter = randn<T>({n, 2}, gen, T(0), T(1)).data();
  xt::xarray<T> features = xt::xarray<T>::from_shape({n, 2});
  Labels labels = Labels::from_shape({n});
  for (std::size_t c = 0; c < num_classes; ++c) {
    for (std::size_t j = 0; j < points_per_class; ++j) {
      const std::size_t row = c * points_per_class + j;
      const double r = static_cast<double>(j + 1) / static_cast<double>(points_per_class);
      const double angle = two_pi * (static_cast<double>(c) / static_cast<double>(num_classes) +
                                     static_cast<double>(turns) * r);
      features(row, 0) = static_cast<T>(r * std::cos(angle)) + noise * jitter(row, 0);
      features(row, 1) = static_cast<T>(r * std::sin(angle)) + noise * jitter(row, 1);
      labels(row) = static_cast<std::int64_t>(c);
    }
  }
  return Dataset<T>{Tensor<T>(std::move(features)), std::move(labels)};
}

template <class T>
double accuracy(const Tensor<T>& logits, const Labels& labels) {
  XGRAD_CHECK(logits.defined(), ValueError, "accuracy: logits are undefined");
  XGRAD_CHECK(logits.dim() == 2 && labels.dimension() == 1 && logits.shape()[0] == labels.size() &&
                  logits.shape()[1] != 0,
              ShapeError, "accuracy: expected logits [N, C] with C > 0 and labels [N], got ",
              logits.shape(), " and ", labels.shape());
  const std::size_t n = labels.size();
  if (n == 0) return 0.0;
  // The one-line accuracy of ops/labels.hpp (a NaN logit wins, as in argmax).
  return static_cast<double>(count_nonzero(eq(argmax(logits, 1), labels))) / static_cast<double>(n);
}

template <class T>
DataLoader<T>::DataLoader(Dataset<T> dataset, std::size_t batch_size, bool shuffle,
                          std::uint64_t seed, bool drop_last)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      gen_(seed) {
  check_dataset(dataset_, "DataLoader");
  XGRAD_CHECK(batch_size >= 1, ValueError, "DataLoader: batch_size must be >= 1, got 0");
  order_.resize(dataset_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = i;
}

template <class T>
DataLoader<T>::DataLoader(Dataset<T> dataset, std::size_t batch_size, Sampler sampler,
                          bool drop_last)
    : DataLoader(std::move(dataset), batch_size, false, 0, drop_last) {
  XGRAD_CHECK(sampler, ValueError, "DataLoader: sampler is null");
  sampler_ = std::move(sampler);
  order_ = sampled_order();
}

template <class T>
std::vector<std::size_t> DataLoader<T>::sampled_order() const {
  std::vector<std::size_t> order = sampler_();
  for (std::size_t i : order) {
    XGRAD_CHECK(i < dataset_.size(), ValueError, "DataLoader: the sampler returned index ", i,
                " for a dataset of ", dataset_.size(), " rows");
  }
  return order;
}

template <class T>
typename DataLoader<T>::Iterator DataLoader<T>::begin() {
  if (sampler_) {
    order_ = sampled_order();
  } else if (shuffle_) {
    order_ = randperm(dataset_.size(), gen_);
  }
  return Iterator(this, 0);
}

template <class T>
std::size_t DataLoader<T>::num_batches() const {
  const std::size_t n = order_.size();
  // Not (n + batch_size - 1) / batch_size: that wraps for a huge batch_size.
  const std::size_t full = n / batch_size_;
  return drop_last_ || n % batch_size_ == 0 ? full : full + 1;
}

template <class T>
Dataset<T> DataLoader<T>::batch(std::size_t i) const {
  XGRAD_CHECK(i < num_batches(), ValueError, "DataLoader::batch: index ", i, " out of range (",
              num_batches(), " batches)");
  const std::size_t first = i * batch_size_;
  const std::size_t last = std::min(first + batch_size_, order_.size());
  const std::vector<std::size_t> rows(order_.begin() + static_cast<std::ptrdiff_t>(first),
                                      order_.begin() + static_cast<std::ptrdiff_t>(last));
  return subset(dataset_, rows);
}

#define XGRAD_INSTANTIATE(T)                                                                     \
  template void check_dataset<T>(const Dataset<T>&, const char*);                                \
  template Dataset<T> subset<T>(const Dataset<T>&, const std::vector<std::size_t>&);             \
  template std::pair<Dataset<T>, Dataset<T>> train_test_split<T>(const Dataset<T>&, double,      \
                                                                 Generator&);                    \
  template std::vector<Dataset<T>> random_split<T>(const Dataset<T>&,                            \
                                                   const std::vector<std::size_t>&, Generator&); \
  template Dataset<T> make_bars<T>(std::size_t, std::size_t, T, Generator&);                     \
  template Dataset<T> make_spirals<T>(std::size_t, std::size_t, T, Generator&, T);               \
  template double accuracy<T>(const Tensor<T>&, const Labels&);                                  \
  template class DataLoader<T>;
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::data
