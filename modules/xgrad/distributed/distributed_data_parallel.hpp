// DistributedDataParallel: data-parallel training of a Module over the ranks
// of a ProcessGroup (PyTorch's torch.nn.parallel.DistributedDataParallel).
// Every rank holds the whole model and runs the same loop on its own shard of
// the data (DistributedSampler); after backward, all_reduce_gradients()
// replaces every gradient by its mean over the ranks, so the optimizers on all
// ranks take identical steps:
//
//   ProcessGroup group;
//   auto model = std::make_shared<DistributedDataParallel<float>>(make_model(), group);
//   optim::SGD<float> opt(model->parameters(), optim::SGDOptions(0.1));
//   ...
//   opt.zero_grad();
//   cross_entropy(model->forward(batch.features), batch.labels).backward();
//   model->all_reduce_gradients();   // PyTorch does this in backward's hooks
//   opt.step();
//
// With per-rank batches of B / W rows, the averaged gradient of a mean loss is
// the gradient of the mean loss over the B rows (up to rounding): W processes
// train like one process with batch B.
//
// Differences from PyTorch: gradients are reduced by an explicit call after
// backward (xgrad's engine has no hooks), not overlapped with backward; buckets
// follow parameters() order (PyTorch: reversed); a parameter without a gradient
// on some ranks is reduced with zeros there (PyTorch needs
// find_unused_parameters=True for that), and one without a gradient on every
// rank keeps no gradient.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "xgrad/distributed/process_group.hpp"
#include "xgrad/module.hpp"

namespace xgrad::distributed {

template <class T>
class DistributedDataParallel : public Module<T> {
 public:
  // PyTorch's default bucket_cap_mb.
  static constexpr std::size_t kDefaultBucketCapBytes = 25u << 20;

  // Wraps `module` (registered as the child "module", so state-dict keys read
  // "module.<name>" as in PyTorch). Collective: every rank must construct it.
  // First the ranks compare the number, order and shapes of the module's
  // parameters and buffers: when they differ, every rank throws ShapeError
  // naming the first difference (no rank hangs). Then every parameter and
  // buffer is overwritten with rank 0's values (one fused broadcast).
  // ValueError on a null module or bucket_cap_bytes 0.
  // The group must outlive this object; the module's parameters must not be
  // added or removed afterwards.
  DistributedDataParallel(std::shared_ptr<Module<T>> module, ProcessGroup& group,
                          std::size_t bucket_cap_bytes = kDefaultBucketCapBytes);

  Tensor<T> forward(const Tensor<T>& input) override { return module_->forward(input); }

  // Collective, after backward on every rank: each parameter's gradient
  // becomes the mean over the ranks, g = (((g_0 + g_1) + g_2) + ... ) / W in
  // rank order (Note [Reduction order] in process_group.hpp), bit-identical on
  // all ranks. One all-reduce per bucket. A rank without a gradient for a
  // parameter contributes zeros; a parameter without a gradient on any rank
  // keeps none.
  void all_reduce_gradients();

  const std::shared_ptr<Module<T>>& module() const { return module_; }
  ProcessGroup& process_group() const { return group_; }
  // Buckets as parameter index ranges [begin, end) into parameters(): filled
  // greedily in order up to bucket_cap_bytes of gradients; a parameter larger
  // than the cap gets a bucket of its own.
  const std::vector<std::pair<std::size_t, std::size_t>>& buckets() const { return buckets_; }

 private:
  std::shared_ptr<Module<T>> module_;
  ProcessGroup& group_;
  std::vector<Tensor<T>> params_;
  std::vector<std::pair<std::size_t, std::size_t>> buckets_;
  std::vector<T> flat_;  // one bucket's gradients, then one flag per parameter
};

extern template class DistributedDataParallel<float>;
extern template class DistributedDataParallel<double>;

}  // namespace xgrad::distributed
