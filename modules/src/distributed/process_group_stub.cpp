// The stub backend of ProcessGroup, compiled when xgrad is built without MPI:
// one process (rank 0, size 1), so a broadcast or an all-reduce (SUM or AVG)
// leaves its input as it is, and a non-blocking one is complete at once.
// Calls and bytes are still counted.
#include <cstdlib>
#include <exception>

#include "xgrad/distributed/process_group.hpp"

namespace xgrad::distributed {

struct ProcessGroup::Impl {};
struct Work::State {};

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {}

ProcessGroup::~ProcessGroup() = default;

const char* ProcessGroup::backend() { return "stub"; }

void ProcessGroup::barrier() { ++stats_.calls; }

std::vector<std::vector<std::int64_t>> ProcessGroup::all_gather(
    const std::vector<std::int64_t>& values) {
  ++stats_.calls;
  stats_.bytes += values.size() * sizeof(std::int64_t);
  return {values};
}

template <class T>
void ProcessGroup::broadcast_buffer(T*, std::size_t n, int) {
  ++stats_.calls;
  stats_.bytes += n * sizeof(T);
}

template <class T>
void ProcessGroup::all_reduce_buffer(T*, std::size_t n, ReduceOp) {
  ++stats_.calls;
  stats_.bytes += n * sizeof(T);
}

template <class T>
Work ProcessGroup::all_reduce_buffer_async(T*, std::size_t n, ReduceOp) {
  ++stats_.calls;
  stats_.bytes += n * sizeof(T);
  return Work();
}

bool ProcessGroup::progress(const Work::State*, bool) { return true; }

void ProcessGroup::end_job(int code) { std::_Exit(code); }

#define XGRAD_INSTANTIATE(T)                                                   \
  template void ProcessGroup::broadcast_buffer<T>(T*, std::size_t, int);       \
  template void ProcessGroup::all_reduce_buffer<T>(T*, std::size_t, ReduceOp); \
  template Work ProcessGroup::all_reduce_buffer_async<T>(T*, std::size_t, ReduceOp);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::distributed
