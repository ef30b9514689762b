// ProcessGroup: the processes of one data-parallel job and the collectives a
// training loop needs (broadcast, all_reduce, barrier, all_gather), named like
// PyTorch's torch.distributed / c10d::ProcessGroup.
//
// Backends. Built with MPI (meson option `mpi`, on when Open MPI is found),
// the group is every process of the job mpirun started (a private duplicate
// of MPI_COMM_WORLD). Without MPI a stub backend keeps the same API with one
// process: rank 0, size 1, collectives that leave their input as it is
// (flashlight's distributed stub), so training code is the same either way.
//
// Note [Reduction order]. all_reduce does not use MPI_Allreduce, whose order
// of additions depends on the algorithm Open MPI picks for the message size
// and job size. The buffer is cut into size() chunks; rank r gathers chunk r
// from every rank (MPI_Alltoall), adds them in rank order,
//   ((x_0 + x_1) + x_2) + ... + x_{W-1}      (then / W for AVG),
// and every rank gathers the reduced chunks (MPI_Allgather). Each element is
// therefore summed once, in that fixed order, and copied to all ranks: all
// ranks hold bit-identical results and a rerun repeats them bit for bit. The
// traffic is that of a ring all-reduce, 2 (W - 1) / W of the buffer per rank.
// With two ranks every algorithm makes the one addition x_0 + x_1, which is
// commutative in floating point, so MPI_Allreduce gives the same bits and is
// used instead.
//
// Note [Non-blocking collectives]. all_reduce_buffer_async starts the
// reduction of Note [Reduction order] without waiting for it and returns a
// Work. It is made of point-to-point messages on a communicator of the
// group's own: phase 1 sends chunk r of the buffer to rank r, and each rank
// sums the copies of its chunk in rank order; phase 2 sends every rank the
// reduced chunks. So the additions are those of all_reduce_buffer, in its
// order (the same bits; with two ranks it does not use MPI_Allreduce, whose
// non-blocking form reduces in place on one rank and then broadcasts), and
// the buffer needs no padding copy. Every rank must start its non-blocking
// all-reduces in the same order among themselves (their sequence numbers make
// the message tags), in any order relative to the blocking collectives, so
// one started during backward on one rank and after it on another is fine.
// Open MPI moves messages on only inside MPI calls (it has no progress
// thread: ompi_info says "OMPI progress: no"), so a caller computing
// meanwhile calls Work::is_completed() now and then (DistributedDataParallel
// does in its gradient hooks).
//
// Note [Mismatches]. The checked collectives (on tensors) first all-gather a
// small signature (the operation, root, element type and shape) so that a
// rank passing another shape gets a ShapeError on EVERY rank instead of a hang
// or a wrong answer. The flat-buffer collectives skip that check: callers
// (DistributedDataParallel) verify their layout once.
//
// Note [Failures]. A rank that throws while the others wait in a collective
// would leave them waiting forever. run_or_abort() (for main) and abort()
// print the message and call MPI_Abort, which ends every process of the job;
// the destructor also aborts, instead of finalizing, when it runs during
// stack unwinding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad::distributed {

// torch.distributed.ReduceOp: SUM, or AVG (the sum divided by size()).
enum class ReduceOp { SUM, AVG };

// What the collectives of a group have done since construction (or
// reset_stats()): for benchmarks and tests.
struct CommStats {
  std::uint64_t calls = 0;  // collectives run (a checked one is two: signature, operation)
  std::uint64_t bytes = 0;  // payload bytes passed in by this rank
  double seconds = 0;       // wall time spent inside the collectives (and Work calls)
};

class ProcessGroup;

// A non-blocking collective (c10d's Work): see Note [Non-blocking
// collectives]. Until it has completed, the buffer it was given must stay
// alive and untouched. A default-constructed Work has nothing to do.
// Movable, not copyable, and not to be used after its group is destroyed;
// dropping one does not cancel or finish its collective (the group still
// moves it on, and finishes it before finalizing MPI), but then nothing tells
// when the buffer is free again.
class Work {
 public:
  Work() = default;
  ~Work();
  Work(Work&&) noexcept;
  Work& operator=(Work&&) noexcept;
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  // Whether it has completed. Never blocks; moves on every non-blocking
  // collective of the group (MPI_Testall).
  bool is_completed();
  // Blocks until it has completed (MPI_Waitall).
  void wait();

  struct State;  // backend specific

 private:
  friend class ProcessGroup;
  Work(ProcessGroup* group, std::shared_ptr<State> state);
  ProcessGroup* group_ = nullptr;
  std::shared_ptr<State> state_;
};

class ProcessGroup {
 public:
  // Joins the job: initializes MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only
  // the thread that made the group calls MPI) unless the program already has.
  // StateError when MPI was finalized already or cannot be initialized.
  ProcessGroup();
  // Finalizes MPI if this group initialized it; during stack unwinding it
  // calls MPI_Abort instead (see Note [Failures]).
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // "mpi" or "stub".
  static const char* backend();

  // ---- checked collectives ----
  // Every rank must call them, in the same order.

  // Overwrites `tensor` on every rank with src's values. ValueError when src
  // is not a rank; ShapeError on every rank when the shapes, element types or
  // src differ across ranks. Not recorded by autograd. Empty tensors are fine.
  template <class T>
  void broadcast(Tensor<T>& tensor, int src = 0);
  // Replaces `tensor` on every rank by the elementwise sum (or mean) over the
  // ranks, in the order of Note [Reduction order]. ShapeError on every rank
  // when shapes, element types or ops differ. Not recorded by autograd.
  template <class T>
  void all_reduce(Tensor<T>& tensor, ReduceOp op = ReduceOp::SUM);
  void barrier();
  // Every rank's `values`, indexed by rank (lengths may differ by rank).
  std::vector<std::vector<std::int64_t>> all_gather(const std::vector<std::int64_t>& values);

  // ---- flat buffers, unchecked ----
  // Every rank must pass the same n and src.

  template <class T>
  void broadcast_buffer(T* data, std::size_t n, int src);
  template <class T>
  void all_reduce_buffer(T* data, std::size_t n, ReduceOp op);
  // The same reduction, bit for bit, without waiting for it: see Note
  // [Non-blocking collectives]. Every rank must start its non-blocking ones
  // in the same order, with the same n and op. The stub backend returns a
  // completed Work.
  template <class T>
  Work all_reduce_buffer_async(T* data, std::size_t n, ReduceOp op);

  // ---- failures ----
  // See Note [Failures].

  // Prints "xgrad rank <r>/<W>: <message>" to stderr and ends every process of
  // the job with exit code `code` (MPI_Abort; the stub exits this process).
  [[noreturn]] void abort(const std::string& message, int code = 1);

  const CommStats& stats() const { return stats_; }
  void reset_stats() { stats_ = CommStats{}; }

 private:
  struct Impl;  // the communicator and scratch buffers (backend specific)
  // ShapeError on every rank unless all ranks pass the same signature.
  void check_same(const char* op, const std::vector<std::int64_t>& signature);
  // Ends every process of the job (MPI_Abort) or, in the stub, this one.
  [[noreturn]] void end_job(int code);
  // Work's backend: moves every non-blocking collective of the group on and,
  // with `block`, waits until `state` has completed. True when it has.
  friend class Work;
  bool progress(const Work::State* state, bool block);
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
  int size_ = 1;
  CommStats stats_;
};

// Runs `body` (the program) and returns its result. When it throws, the
// message goes to stderr and group.abort() ends the whole job, so no rank is
// left waiting in a collective for one that failed:
//   int main() { ProcessGroup group; return run_or_abort(group, [&] { return run(group); }); }
int run_or_abort(ProcessGroup& group, const std::function<int()>& body);

}  // namespace xgrad::distributed
