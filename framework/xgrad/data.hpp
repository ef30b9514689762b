// In-memory datasets for small experiments: features [N, ...] (one sample per
// row: [N, F] vectors, [N, C, H, W] images) with integer class labels [N],
// seeded shuffling and splitting, mini-batches, and seeded synthetic tasks
// (interleaved spirals, oriented bars in images) so that examples and tests
// need no download. Everything random takes a Generator: same seed, same data.
//
// Labels are xt::xarray<std::int64_t> (ops/labels.hpp): labels(i) reads one,
// subset / random_split take rows of features and labels together, and
// eq(a, b) compares two label arrays elementwise (their == is xtensor's
// whole-array comparison, one bool).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ops/loss.hpp"  // Labels
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::data {

template <class T>
struct Dataset {
  Tensor<T> features;                       // [N, ...]
  Labels labels = Labels::from_shape({0});  // [N]
  std::size_t size() const { return labels.size(); }
};

// Throws ShapeError unless features is [N, ...] (at least 1-D) and labels is
// [N]; ValueError for undefined features (`what` names the caller).
template <class T>
void check_dataset(const Dataset<T>& dataset, const char* what);

// The rows at `indices`, in that order (features by index_select).
// ValueError on an index out of range.
template <class T>
Dataset<T> subset(const Dataset<T>& dataset, const std::vector<std::size_t>& indices);

// A seeded shuffle, then the first round(N * test_fraction) rows as the test
// set and the rest as the training set: returns {train, test}. ValueError
// unless 0 < test_fraction < 1 and both parts are non-empty.
template <class T>
std::pair<Dataset<T>, Dataset<T>> train_test_split(const Dataset<T>& dataset, double test_fraction,
                                                   Generator& gen);

// PyTorch's random_split with counts: a seeded shuffle cut into parts of
// `lengths` rows, in that order (random_split(all, {800, 200}, gen)).
// ValueError unless the lengths add up to N (a length may be 0).
template <class T>
std::vector<Dataset<T>> random_split(const Dataset<T>& dataset,
                                     const std::vector<std::size_t>& lengths, Generator& gen);

// `num_classes` interleaved spiral arms in the plane (F = 2), points_per_class
// each, class-major order (class 0's rows first). Point j of arm c lies at
// radius r = (j + 1) / points_per_class and angle 2 pi (c / num_classes +
// turns * r), plus Gaussian noise of standard deviation `noise` on each
// coordinate. ValueError on points_per_class < 1, num_classes < 2, noise < 0,
// turns <= 0 or a row count that overflows size_t.
template <class T>
Dataset<T> make_spirals(std::size_t points_per_class, std::size_t num_classes, T noise,
                        Generator& gen, T turns = T(1));

// Images of one bar each, four classes by its orientation: 0 horizontal,
// 1 vertical, 2 diagonal (top left to bottom right), 3 anti-diagonal;
// images_per_class each, class-major order. Features [N, 1, size, size]: the
// bar's size / 2 pixels are 1 and the rest 0, plus Gaussian noise of standard
// deviation `noise` on every pixel. Where the bar lies is drawn uniformly
// among the places it fits wholly inside the image (a horizontal bar on any
// row, a vertical one in any column). A seeded task for convolutional
// networks: the class does not depend on where the bar is. ValueError on images_per_class
// < 1, size < 4, noise < 0 or an element count that overflows.
template <class T>
Dataset<T> make_bars(std::size_t images_per_class, std::size_t size, T noise, Generator& gen);

// Fraction of rows of logits [N, C] whose largest entry (the first, on ties;
// a NaN counts as largest, as in argmax) is at the label (0 for no rows). ShapeError on mismatched
// shapes, ValueError on undefined logits.
template <class T>
double accuracy(const Tensor<T>& logits, const Labels& labels);

// The row order of one pass, asked for at the start of each pass (e.g.
// distributed::DistributedSampler::indices()).
using Sampler = std::function<std::vector<std::size_t>()>;

// Mini-batches of batch_size rows (samples of any shape: [B, F], [B, C, H,
// W]): `for (const Dataset<T>& batch : loader)`.
// With shuffle, each pass (each begin()) draws a new permutation from the
// loader's own generator, seeded at construction, so runs are reproducible.
// The last batch is smaller unless drop_last. The loader keeps a copy of the
// dataset handle (Tensor copies alias; labels are copied).
template <class T>
class DataLoader {
 public:
  // ValueError on batch_size 0; ShapeError on a malformed dataset.
  DataLoader(Dataset<T> dataset, std::size_t batch_size, bool shuffle, std::uint64_t seed = 0,
             bool drop_last = false);
  // Batches in the order `sampler` returns, called at construction and at
  // each begin() (indices may repeat or leave rows out). Also ValueError on a
  // null sampler or an index out of range (then the loader is unchanged).
  DataLoader(Dataset<T> dataset, std::size_t batch_size, Sampler sampler, bool drop_last = false);
  // The same for any callable: without it a lambda without captures, which
  // also converts to bool, would make the call ambiguous.
  template <class F, std::enable_if_t<std::is_invocable_r_v<std::vector<std::size_t>, F&> &&
                                          !std::is_same_v<F, Sampler>,
                                      int> = 0>
  DataLoader(Dataset<T> dataset, std::size_t batch_size, F sampler, bool drop_last = false)
      : DataLoader(std::move(dataset), batch_size, Sampler(std::move(sampler)), drop_last) {}

  class Iterator {
   public:
    Dataset<T> operator*() const { return loader_->batch(index_); }
    Iterator& operator++() { return ++index_, *this; }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::size_t index) : loader_(loader), index_(index) {}
    const DataLoader* loader_;
    std::size_t index_;
  };

  // Starts a pass (reshuffling if enabled, asking the sampler if any).
  Iterator begin();
  Iterator end() const { return Iterator(this, num_batches()); }
  std::size_t num_batches() const;
  const Dataset<T>& dataset() const { return dataset_; }
  // The i-th batch of the current pass.
  Dataset<T> batch(std::size_t i) const;

 private:
  // The sampler's order, checked against the dataset size.
  std::vector<std::size_t> sampled_order() const;

  Dataset<T> dataset_;
  std::size_t batch_size_;
  bool shuffle_;
  bool drop_last_;
  Generator gen_;
  Sampler sampler_;
  std::vector<std::size_t> order_;
};

extern template class DataLoader<float>;
extern template class DataLoader<double>;

}  // namespace xgrad::data
