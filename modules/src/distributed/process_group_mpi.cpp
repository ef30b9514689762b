// The MPI backend of ProcessGroup (compiled when meson finds MPI; the stub is
// process_group_stub.cpp). MPI's default error handler, MPI_ERRORS_ARE_FATAL,
// is kept: an MPI failure ends the whole job rather than one rank.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <string>

#include "xgrad/distributed/process_group.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::distributed {

struct ProcessGroup::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  bool owns_mpi = false;  // this group initialized MPI, so it finalizes it
  // Reused between calls so that a training step allocates nothing here.
  std::vector<float> scratch_float;
  std::vector<double> scratch_double;
  std::vector<float>& scratch(float*) { return scratch_float; }
  std::vector<double>& scratch(double*) { return scratch_double; }
};

namespace {

MPI_Datatype mpi_type(const float*) { return MPI_FLOAT; }
MPI_Datatype mpi_type(const double*) { return MPI_DOUBLE; }

// Adds the wall time of its scope, one call and `bytes` to the stats.
class Timed {
 public:
  Timed(CommStats& stats, std::size_t bytes)
      : stats_(stats), start_(std::chrono::steady_clock::now()) {
    ++stats_.calls;
    stats_.bytes += bytes;
  }
  ~Timed() {
    stats_.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  Timed(const Timed&) = delete;
  Timed& operator=(const Timed&) = delete;

 private:
  CommStats& stats_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  XGRAD_CHECK(!finalized, StateError,
              "ProcessGroup: MPI is finalized already (a process joins one MPI job once)");
  if (!initialized) {
    int provided = 0;
    const int code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    XGRAD_CHECK(code == MPI_SUCCESS, StateError, "ProcessGroup: MPI_Init_thread failed");
    impl_->owns_mpi = true;
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm);
  MPI_Comm_rank(impl_->comm, &rank_);
  MPI_Comm_size(impl_->comm, &size_);
}

ProcessGroup::~ProcessGroup() {
  // MPI_Finalize waits for the other ranks, which may be waiting in a
  // collective for this one: finalizing here could hang the job.
  if (std::uncaught_exceptions() > 0) {
    abort("an exception is propagating past the ProcessGroup (run_or_abort prints its message)");
  }
  MPI_Comm_free(&impl_->comm);
  if (impl_->owns_mpi) MPI_Finalize();
}

const char* ProcessGroup::backend() { return "mpi"; }

void ProcessGroup::barrier() {
  Timed timed(stats_, 0);
  MPI_Barrier(impl_->comm);
}

std::vector<std::vector<std::int64_t>> ProcessGroup::all_gather(
    const std::vector<std::int64_t>& values) {
  XGRAD_CHECK(values.size() <= static_cast<std::size_t>(INT_MAX), ValueError,
              "all_gather: at most ", INT_MAX, " values, got ", values.size());
  Timed timed(stats_, values.size() * sizeof(std::int64_t));
  const int count = static_cast<int>(values.size());
  std::vector<int> counts(static_cast<std::size_t>(size_));
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, impl_->comm);
  std::vector<int> offsets(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    XGRAD_CHECK(total <= static_cast<std::size_t>(INT_MAX), ValueError, "all_gather: more than ",
                INT_MAX, " values in all");
    offsets[r] = static_cast<int>(total);
    total += static_cast<std::size_t>(counts[r]);
  }
  std::vector<std::int64_t> flat(total);
  MPI_Allgatherv(values.data(), count, MPI_INT64_T, flat.data(), counts.data(), offsets.data(),
                 MPI_INT64_T, impl_->comm);
  std::vector<std::vector<std::int64_t>> out(counts.size());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    out[r].assign(flat.begin() + offsets[r], flat.begin() + offsets[r] + counts[r]);
  }
  return out;
}

template <class T>
void ProcessGroup::broadcast_buffer(T* data, std::size_t n, int src) {
  Timed timed(stats_, n * sizeof(T));
  // MPI counts are int: pieces of at most INT_MAX elements.
  for (std::size_t offset = 0; offset < n; offset += static_cast<std::size_t>(INT_MAX)) {
    const std::size_t piece = std::min(n - offset, static_cast<std::size_t>(INT_MAX));
    MPI_Bcast(data + offset, static_cast<int>(piece), mpi_type(data), src, impl_->comm);
  }
}

// Note [Reduction order] in process_group.hpp.
template <class T>
void ProcessGroup::all_reduce_buffer(T* data, std::size_t n, ReduceOp op) {
  Timed timed(stats_, n * sizeof(T));
  const auto w = static_cast<std::size_t>(size_);
  if (n == 0 || w == 1) return;  // AVG over one rank divides by 1
  if (w == 2) {
    // One addition per element, x_0 + x_1 = x_1 + x_0 exactly, whichever
    // algorithm MPI picks: its all-reduce gives the documented result, with
    // one synchronization instead of two.
    for (std::size_t offset = 0; offset < n; offset += static_cast<std::size_t>(INT_MAX)) {
      const std::size_t piece = std::min(n - offset, static_cast<std::size_t>(INT_MAX));
      MPI_Allreduce(MPI_IN_PLACE, data + offset, static_cast<int>(piece), mpi_type(data), MPI_SUM,
                    impl_->comm);
    }
    if (op == ReduceOp::AVG) {
      for (std::size_t i = 0; i < n; ++i) data[i] /= T(2);
    }
    return;
  }
  const std::size_t chunk = n / w + (n % w != 0);
  XGRAD_CHECK(chunk <= static_cast<std::size_t>(INT_MAX), ValueError, "all_reduce: ", n,
              " elements exceed ", INT_MAX, " per rank");
  const std::size_t padded = chunk * w;
  std::vector<T>& scratch = impl_->scratch(data);
  // [0, padded): what each rank receives; [padded, 2 padded): the input
  // padded with zeros when n is not a multiple of the size.
  scratch.resize(padded == n ? padded : 2 * padded);
  T* received = scratch.data();
  T* send = data;
  if (padded != n) {
    send = scratch.data() + padded;
    std::copy(data, data + n, send);
    std::fill(send + n, send + padded, T(0));
  }
  const int count = static_cast<int>(chunk);
  MPI_Alltoall(send, count, mpi_type(data), received, count, mpi_type(data), impl_->comm);
  // received[r * chunk + i] is element i of this rank's chunk on rank r.
  T* own = received;
  for (std::size_t r = 1; r < w; ++r) {
    const T* other = received + r * chunk;
    for (std::size_t i = 0; i < chunk; ++i) own[i] += other[i];
  }
  if (op == ReduceOp::AVG) {
    const T divisor = static_cast<T>(w);
    for (std::size_t i = 0; i < chunk; ++i) own[i] /= divisor;
  }
  MPI_Allgather(own, count, mpi_type(data), send, count, mpi_type(data), impl_->comm);
  if (send != data) std::copy(send, send + n, data);
}

void ProcessGroup::end_job(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#define XGRAD_INSTANTIATE(T)                                             \
  template void ProcessGroup::broadcast_buffer<T>(T*, std::size_t, int); \
  template void ProcessGroup::all_reduce_buffer<T>(T*, std::size_t, ReduceOp);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::distributed
