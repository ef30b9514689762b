#include "xgrad/distributed/distributed_sampler.hpp"

#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/random.hpp"

namespace xgrad::distributed {

DistributedSampler::DistributedSampler(std::size_t dataset_size, std::size_t num_replicas,
                                       std::size_t rank, bool shuffle, std::uint64_t seed,
                                       bool drop_last)
    : dataset_size_(dataset_size),
      num_replicas_(num_replicas),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed) {
  XGRAD_CHECK(num_replicas >= 1, ValueError,
              "DistributedSampler: num_replicas must be >= 1, got 0");
  XGRAD_CHECK(rank < num_replicas, ValueError, "DistributedSampler: rank must be in [0, ",
              num_replicas, "), got ", rank);
  // Not (n + w - 1) / w: that wraps for a huge dataset_size.
  num_samples_ =
      dataset_size / num_replicas + (!drop_last && dataset_size % num_replicas != 0 ? 1 : 0);
}

std::vector<std::size_t> DistributedSampler::indices() const {
  std::vector<std::size_t> order;
  if (shuffle_) {
    Generator gen(seed_ + epoch_);
    order = randperm(dataset_size_, gen);
  } else {
    order.resize(dataset_size_);
    for (std::size_t i = 0; i < dataset_size_; ++i) order[i] = i;
  }
  // Entry k of the padded (or cut) list is order[k mod N]; this rank's are
  // k = rank, rank + num_replicas, ...
  std::vector<std::size_t> mine(num_samples_);
  for (std::size_t j = 0; j < num_samples_; ++j) {
    mine[j] = order[(rank_ + j * num_replicas_) % dataset_size_];
  }
  return mine;
}

}  // namespace xgrad::distributed
