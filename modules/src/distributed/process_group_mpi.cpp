// The MPI backend of ProcessGroup (compiled when meson finds MPI; the stub is
// process_group_stub.cpp). MPI's default error handler, MPI_ERRORS_ARE_FATAL,
// is kept: an MPI failure ends the whole job rather than one rank.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <deque>
#include <exception>
#include <string>

#include "xgrad/distributed/process_group.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::distributed {

// One non-blocking all-reduce (Note [Non-blocking collectives]).
struct Work::State {
  virtual ~State() = default;
  std::vector<MPI_Request> requests;  // the current phase's
  int phase = 1;
  bool done = false;
  // Called when the current phase's requests have completed: starts phase 2,
  // or finishes.
  virtual void advance() = 0;
};

struct ProcessGroup::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  // The non-blocking all-reduces' messages, and how many were started: the
  // sequence number makes their tags.
  MPI_Comm async_comm = MPI_COMM_NULL;
  std::uint64_t async_started = 0;
  bool owns_mpi = false;  // this group initialized MPI, so it finalizes it
  // Reused between calls so that a training step allocates nothing here.
  std::vector<float> scratch_float;
  std::vector<double> scratch_double;
  std::vector<float>& scratch(float*) { return scratch_float; }
  std::vector<double>& scratch(double*) { return scratch_double; }
  // The non-blocking all-reduces not completed yet, oldest first, and spare
  // scratch buffers for them.
  std::deque<std::shared_ptr<Work::State>> in_flight;
  std::vector<std::vector<float>> spare_float;
  std::vector<std::vector<double>> spare_double;
  std::vector<std::vector<float>>& spare(float*) { return spare_float; }
  std::vector<std::vector<double>>& spare(double*) { return spare_double; }
};

namespace {

MPI_Datatype mpi_type(const float*) { return MPI_FLOAT; }
MPI_Datatype mpi_type(const double*) { return MPI_DOUBLE; }

// Adds the wall time of its scope, `calls` calls and `bytes` to the stats.
class Timed {
 public:
  Timed(CommStats& stats, std::size_t bytes, int calls = 1)
      : stats_(stats), start_(std::chrono::steady_clock::now()) {
    stats_.calls += static_cast<std::uint64_t>(calls);
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
  MPI_Comm_dup(MPI_COMM_WORLD, &impl_->async_comm);
  MPI_Comm_rank(impl_->comm, &rank_);
  MPI_Comm_size(impl_->comm, &size_);
}

ProcessGroup::~ProcessGroup() {
  // MPI_Finalize waits for the other ranks, which may be waiting in a
  // collective for this one: finalizing here could hang the job.
  if (std::uncaught_exceptions() > 0) {
    abort("an exception is propagating past the ProcessGroup (run_or_abort prints its message)");
  }
  // Finalizing with requests pending is erroneous: finish them (every rank
  // started the same ones, so they complete).
  while (!impl_->in_flight.empty()) progress(impl_->in_flight.front().get(), true);
  MPI_Comm_free(&impl_->comm);
  MPI_Comm_free(&impl_->async_comm);
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

namespace {

// Tags: two per reduction (one per phase), from its sequence number. MPI
// guarantees tags up to 32767; at most kTagSlots reductions are in flight.
constexpr std::uint64_t kTagSlots = 16383;

// Note [Reduction order] without blocking, as point-to-point messages on the
// group's own communicator: phase 1 sends chunk q of the input to rank q and
// receives every other rank's copy of this rank's chunk; this rank sums its
// chunk in rank order ((x_0 + x_1) + x_2) + ... (and divides for AVG): the
// additions of all_reduce_buffer, in its order, so the same bits. Phase 2
// sends the reduced chunk to every rank and receives theirs. Chunks differ in
// size by at most one element, so nothing is padded or copied.
template <class T>
struct AllReduceState : Work::State {
  T* data = nullptr;
  std::size_t n = 0, w = 0, me = 0;
  ReduceOp op = ReduceOp::SUM;
  MPI_Comm comm = MPI_COMM_NULL;
  int tag = 0;
  std::vector<T> received;  // the other ranks' copies of this rank's chunk, in rank order
  std::vector<std::vector<T>>* spare = nullptr;

  std::size_t begin(std::size_t r) const { return r * (n / w) + std::min(r, n % w); }
  std::size_t size(std::size_t r) const { return n / w + (r < n % w ? 1 : 0); }
  int peer(std::size_t r) const { return static_cast<int>(r); }

  void start() {
    const std::size_t mine = size(me);
    received.resize((w - 1) * mine);
    T* slot = received.data();
    for (std::size_t r = 0; r < w; ++r) {
      if (r == me) continue;
      if (mine > 0) {
        requests.emplace_back();
        MPI_Irecv(slot, static_cast<int>(mine), mpi_type(data), peer(r), tag, comm,
                  &requests.back());
      }
      slot += mine;
      if (size(r) > 0) {
        requests.emplace_back();
        MPI_Isend(data + begin(r), static_cast<int>(size(r)), mpi_type(data), peer(r), tag, comm,
                  &requests.back());
      }
    }
  }

  void advance() override {
    requests.clear();
    const std::size_t mine = size(me);
    T* own = data + begin(me);
    if (phase == 1) {
      // x_r is this rank's own chunk for r == me, else received (slot r,
      // or r - 1 after this rank's). The sum accumulates in place: in the
      // own chunk on rank 0, else in rank 0's slot, and the last addition
      // (with the division for AVG) writes the own chunk.
      auto x = [&](std::size_t r) -> T* {
        return r == me ? own : received.data() + (r < me ? r : r - 1) * mine;
      };
      T* acc = x(0);
      const T divisor = op == ReduceOp::AVG ? static_cast<T>(w) : T(1);
      for (std::size_t r = 1; r < w; ++r) {
        const T* add = x(r);
        if (r + 1 < w) {
          for (std::size_t i = 0; i < mine; ++i) acc[i] += add[i];
        } else if (op == ReduceOp::AVG) {
          for (std::size_t i = 0; i < mine; ++i) own[i] = (acc[i] + add[i]) / divisor;
        } else {
          for (std::size_t i = 0; i < mine; ++i) own[i] = acc[i] + add[i];
        }
      }
      for (std::size_t r = 0; r < w; ++r) {
        if (r == me) continue;
        if (mine > 0) {
          requests.emplace_back();
          MPI_Isend(own, static_cast<int>(mine), mpi_type(data), peer(r), tag + 1, comm,
                    &requests.back());
        }
        if (size(r) > 0) {
          requests.emplace_back();
          MPI_Irecv(data + begin(r), static_cast<int>(size(r)), mpi_type(data), peer(r), tag + 1,
                    comm, &requests.back());
        }
      }
      phase = 2;
      return;
    }
    spare->push_back(std::move(received));
    done = true;
  }
};

}  // namespace

template <class T>
Work ProcessGroup::all_reduce_buffer_async(T* data, std::size_t n, ReduceOp op) {
  Timed timed(stats_, n * sizeof(T));
  const auto w = static_cast<std::size_t>(size_);
  if (n == 0 || w == 1) return Work();  // AVG over one rank divides by 1
  XGRAD_CHECK(n / w + 1 <= static_cast<std::size_t>(INT_MAX), ValueError, "all_reduce: ", n,
              " elements exceed ", INT_MAX, " per rank");
  // Tags are reused after kTagSlots reductions: the oldest must be done.
  while (impl_->in_flight.size() >= kTagSlots) progress(impl_->in_flight.front().get(), true);
  auto state = std::make_shared<AllReduceState<T>>();
  state->data = data;
  state->n = n;
  state->w = w;
  state->me = static_cast<std::size_t>(rank_);
  state->op = op;
  state->comm = impl_->async_comm;
  state->tag = static_cast<int>(2 * (impl_->async_started++ % kTagSlots));
  auto& spare = impl_->spare(data);
  if (!spare.empty()) {
    state->received = std::move(spare.back());
    spare.pop_back();
  }
  state->spare = &spare;
  state->start();
  impl_->in_flight.push_back(state);
  return Work(this, std::move(state));
}

bool ProcessGroup::progress(const Work::State* state, bool block) {
  Timed timed(stats_, 0, 0);  // moving collectives on is not a collective of its own
  auto& queue = impl_->in_flight;
  for (auto it = queue.begin(); it != queue.end();) {
    Work::State& s = **it;
    const bool wait = block && &s == state;
    while (!s.done) {
      int completed = 0;
      if (wait) {
        MPI_Waitall(static_cast<int>(s.requests.size()), s.requests.data(), MPI_STATUSES_IGNORE);
        completed = 1;
      } else {
        MPI_Testall(static_cast<int>(s.requests.size()), s.requests.data(), &completed,
                    MPI_STATUSES_IGNORE);
      }
      if (!completed) break;
      s.advance();
    }
    it = s.done ? queue.erase(it) : it + 1;
  }
  return state->done;
}

void ProcessGroup::end_job(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#define XGRAD_INSTANTIATE(T)                                                   \
  template void ProcessGroup::broadcast_buffer<T>(T*, std::size_t, int);       \
  template void ProcessGroup::all_reduce_buffer<T>(T*, std::size_t, ReduceOp); \
  template Work ProcessGroup::all_reduce_buffer_async<T>(T*, std::size_t, ReduceOp);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::distributed
