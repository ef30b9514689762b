// A job in which rank 1 fails while the other ranks wait for it in a barrier
// (run by distributed_abort.sh under mpiexec). Without an abort they would
// wait forever; with one, the whole job ends with rank 1's message.
//
//   distributed_abort_probe run_or_abort   the failure goes through run_or_abort
//   distributed_abort_probe unwind         it propagates past the ProcessGroup
#include <cstdio>
#include <string>

#include "xgrad/distributed/process_group.hpp"
#include "xgrad/errors.hpp"

using xgrad::distributed::ProcessGroup;

namespace {

int fail_on_rank_1(ProcessGroup& group) {
  if (group.rank() == 1) throw xgrad::ValueError("rank 1 failed on purpose");
  group.barrier();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "run_or_abort") {
    ProcessGroup group;
    return xgrad::distributed::run_or_abort(group, [&] { return fail_on_rank_1(group); });
  }
  if (mode == "unwind") {
    try {
      ProcessGroup group;
      return fail_on_rank_1(group);
    } catch (const xgrad::Error& e) {
      // Not reached on rank 1: the group's destructor aborted the job.
      std::fprintf(stderr, "caught: %s\n", e.what());
      return 3;
    }
  }
  std::fprintf(stderr, "usage: distributed_abort_probe run_or_abort|unwind\n");
  return 2;
}
