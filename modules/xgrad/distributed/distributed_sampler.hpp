// DistributedSampler: which rows of a dataset each rank trains on in an epoch,
// with PyTorch's rules (torch.utils.data.distributed.DistributedSampler).
//
// Each epoch, the indices 0..N-1 are permuted by a Generator seeded with
// seed + epoch (the same on every rank, so no communication is needed), or
// left in order without shuffle. Then:
//   - drop_last = false (default): the list is padded to a multiple of
//     num_replicas by repeating its first entries, so every rank gets
//     ceil(N / num_replicas) indices. Every row is used at least once per
//     epoch, exactly once when num_replicas divides N; otherwise
//     num_replicas * ceil(N / num_replicas) - N rows (< num_replicas) are used
//     twice.
//   - drop_last = true: the list is cut to a multiple of num_replicas, so
//     every rank gets floor(N / num_replicas) indices: no row twice, and
//     N mod num_replicas rows (different ones each epoch when shuffling) unused.
// Rank r takes entries r, r + num_replicas, r + 2 num_replicas, ...: the
// shards are disjoint and, together, the padded (or cut) list. Equal shard
// sizes matter: ranks with different numbers of batches would wait for each
// other in the gradient all-reduce.
//
// Plug it into a DataLoader, which asks for the order at the start of each
// pass; call set_epoch before each epoch to reshuffle:
//   DistributedSampler sampler(train.size(), group.size(), group.rank(), true, seed);
//   data::DataLoader<float> loader(train, 64, [&] { return sampler.indices(); });
//   for (epoch ...) { sampler.set_epoch(epoch); for (const auto& batch : loader) ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xgrad::distributed {

class DistributedSampler {
 public:
  // ValueError unless num_replicas >= 1 and rank < num_replicas.
  DistributedSampler(std::size_t dataset_size, std::size_t num_replicas, std::size_t rank,
                     bool shuffle = true, std::uint64_t seed = 0, bool drop_last = false);

  // The epoch whose permutation indices() returns (0 at construction).
  void set_epoch(std::uint64_t epoch) { epoch_ = epoch; }
  std::uint64_t epoch() const { return epoch_; }

  // This rank's indices for the current epoch, num_samples() of them.
  std::vector<std::size_t> indices() const;
  // Indices per rank, and over all ranks (num_samples() * num_replicas).
  std::size_t num_samples() const { return num_samples_; }
  std::size_t total_size() const { return num_samples_ * num_replicas_; }

 private:
  std::size_t dataset_size_, num_replicas_, rank_;
  bool shuffle_;
  std::uint64_t seed_;
  std::uint64_t epoch_ = 0;
  std::size_t num_samples_;
};

}  // namespace xgrad::distributed
