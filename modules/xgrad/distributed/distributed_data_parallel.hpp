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
//   model->all_reduce_gradients();   // PyTorch's backward waits for this itself
//   opt.step();
//
// With per-rank batches of B / W rows, the averaged gradient of a mean loss is
// the gradient of the mean loss over the B rows (up to rounding): W processes
// train like one process with batch B.
//
// Overlap. The gradients are packed into buckets, PyTorch's way: parameters in
// reverse order (the last layers' gradients are ready first), the first
// bucket up to 1 MiB, the others up to bucket_cap_bytes. A gradient hook on
// each parameter (Tensor::register_hook) packs its gradient as soon as
// backward has completed it, and a bucket's non-blocking all-reduce starts as
// soon as all its gradients are in and every bucket before it has started
// (so that all ranks start them in the same order). all_reduce_gradients()
// packs what no hook did (gradients a rank does not have, or got outside a
// hook), starts the remaining buckets, waits for all of them and writes the
// means.
//
// In place. A parameter of at least kInPlaceBytes with a bucket of its own
// (typically the first layer's weight, whose gradient backward computes
// last) is not packed: its all-reduce runs on its own buffer, grad() itself,
// started by all_reduce_gradients() (PyTorch's gradient_as_bucket_view),
// which saves a copy in and a copy out of the largest gradient. When, in the
// previous step, gradients of at least an eighth of its size still came
// after it (backward had work left to overlap), its hook packs and starts it
// as above instead.
// Whether such a parameter has a gradient on some rank goes in one small
// all-reduce of flags after the buckets'.
//
// Differences from PyTorch: the wait is the explicit all_reduce_gradients()
// call, not the end of backward; a parameter without a gradient on some ranks
// is averaged with zeros there (no find_unused_parameters needed), one without
// a gradient anywhere keeps none; buckets are not rebuilt from the order
// gradients arrive in; there is no no_sync().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/distributed/process_group.hpp"
#include "xgrad/module.hpp"

namespace xgrad::distributed {

template <class T>
class DistributedDataParallel : public Module<T> {
 public:
  // PyTorch's default bucket_cap_mb, and its cap of the first bucket.
  static constexpr std::size_t kDefaultBucketCapBytes = 25u << 20;
  static constexpr std::size_t kFirstBucketCapBytes = 1u << 20;
  // A parameter this large, alone in its bucket, is reduced in place.
  static constexpr std::size_t kInPlaceBytes = 256u << 10;

  // What the buckets cost this rank since construction (for benchmarks and
  // tests): bytes of gradients copied into buckets and out of them, and
  // bytes reduced in place on grad().
  struct CopyStats {
    std::uint64_t packed_bytes = 0, unpacked_bytes = 0, in_place_bytes = 0;
  };
  const CopyStats& copy_stats() const { return copy_stats_; }

  // Wraps `module` (registered as the child "module", so state-dict keys read
  // "module.<name>" as in PyTorch). Collective: every rank must construct it.
  // First the ranks compare the number, order and shapes of the module's
  // parameters and buffers: when they differ, every rank throws ShapeError
  // naming the first difference (no rank hangs). Then every parameter and
  // buffer is overwritten with rank 0's values (one fused broadcast).
  // ValueError on a null module or bucket_cap_bytes 0.
  // With more than one rank, registers a gradient hook on every parameter
  // that requires grad; the hooks call MPI, so backward() must run on the
  // thread that made the group (MPI_THREAD_FUNNELED), as all_reduce_gradients
  // does. The group must outlive this object; the module's parameters must
  // not be added, removed or resized afterwards.
  DistributedDataParallel(std::shared_ptr<Module<T>> module, ProcessGroup& group,
                          std::size_t bucket_cap_bytes = kDefaultBucketCapBytes);
  // Removes the hooks and waits for the all-reduces in flight (when an
  // exception is propagating it leaves them, and their buffers, to the job's
  // end instead: see Note [Failures] in process_group.hpp).
  ~DistributedDataParallel() override;

  Tensor<T> forward(const Tensor<T>& input) override { return module_->forward(input); }

  // Collective, after backward on every rank, before the optimizer step:
  // each parameter's gradient becomes the mean over the ranks,
  // g = (((g_0 + g_1) + g_2) + ... ) / W in rank order (Note [Reduction
  // order] in process_group.hpp), bit-identical on all ranks and to reducing
  // after backward. One all-reduce per bucket, most of them started by
  // backward. A rank without a gradient for a parameter contributes zeros; a
  // parameter without a gradient on any rank keeps none. With one rank it
  // does nothing.
  //
  // The hooks start collectives, so every rank must run the same backward()
  // calls through the parameters between two all_reduce_gradients() (as a
  // data-parallel loop does; PyTorch has the same rule). A second gradient
  // for a parameter before all_reduce_gradients() (gradient accumulation over
  // several backward calls) is fine: the reductions in flight are finished
  // and dropped, and the accumulated gradients are reduced here. StateError,
  // after finishing this step's collectives, when a gradient a hook packed is
  // not what grad() holds now: its backward threw afterwards, or grad() was
  // changed or zeroed since (change gradients after this call, as PyTorch's
  // backward has reduced them before any user code runs).
  void all_reduce_gradients();

  const std::shared_ptr<Module<T>>& module() const { return module_; }
  ProcessGroup& process_group() const { return group_; }
  // Buckets in the order their all-reduces start, as parameter index ranges
  // [begin, end) into parameters(): filled from the last parameter backwards,
  // the first up to min(kFirstBucketCapBytes, bucket_cap_bytes) of
  // gradients, the others up to bucket_cap_bytes; a parameter larger than
  // the cap gets a bucket of its own.
  const std::vector<std::pair<std::size_t, std::size_t>>& buckets() const { return ranges_; }

 private:
  struct Bucket {
    std::size_t begin = 0, end = 0;  // parameters [begin, end)
    // Their gradients, then one flag per parameter; an in-place bucket has
    // no flag here (in_place_flags_) and uses flat only when its hook packs
    // it or this rank has no gradient.
    std::vector<T> flat;
    std::size_t packed = 0;  // parameters packed in this step
    bool started = false;
    bool in_place = false;
    std::size_t flag = 0;  // in-place: its position in in_place_flags_
    T* reduced = nullptr;  // where its all-reduce runs (flat or grad())
    // In-place: whether its hook leaves it to all_reduce_gradients, and the
    // elements of gradient hooked up to and including its own in this step.
    bool leave = true;
    std::size_t arrived_at = 0;
    bool hooked = false;
    Work work;
  };
  // A parameter's place in its bucket, its hook, and what a hook packed.
  struct Slot {
    std::size_t bucket = 0, offset = 0, numel = 0;
    bool has_hook = false;
    unsigned hook = 0;
    bool packed = false;
    // Set when a hook packed grad() + this backward's gradient: grad() before
    // the commit, so that all_reduce_gradients can tell the commit happened
    // and nothing changed grad() since.
    bool from_hook = false;
    bool had_grad = false;
    std::weak_ptr<Storage<T>> grad_before;
    std::uint64_t version_before = 0;
  };

  void on_gradient(std::size_t i, const Tensor<T>& grad);
  // Writes parameter i's gradient to its bucket: grad() + `fresh` (this
  // backward's gradient, from a hook), or grad() as it is when `fresh` is
  // null (zeros and flag 0 when undefined). False when grad() and `fresh`
  // do not fit the layout (left to the shape checks of backward and
  // all_reduce_gradients).
  bool pack(std::size_t i, const xt::xarray<T>* fresh);
  // Starts the buckets that are full, in order.
  void start_full_buckets();
  void start(Bucket& bucket);
  // Finishes the reductions in flight and forgets what was packed.
  void discard();
  void reset();
  // The first parameter whose hook-packed gradient grad() no longer holds.
  std::string stale_parameter() const;

  std::shared_ptr<Module<T>> module_;
  ProcessGroup& group_;
  std::vector<std::string> names_;
  std::vector<Tensor<T>> params_;
  std::vector<std::pair<std::size_t, std::size_t>> ranges_;
  std::vector<Bucket> buckets_;    // in starting order
  std::vector<Slot> slots_;        // one per parameter
  std::size_t next_start_ = 0;     // the first bucket not started
  std::vector<T> in_place_flags_;  // one per in-place bucket: 1 where this rank has a gradient
  Work flags_work_;
  std::size_t arrived_ = 0;  // elements of gradient hooked in this step
  CopyStats copy_stats_;
};

extern template class DistributedDataParallel<float>;
extern template class DistributedDataParallel<double>;

}  // namespace xgrad::distributed
