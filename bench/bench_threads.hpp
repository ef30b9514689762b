// Shared by every benchmark translation unit: each workload runs at 1 and at 2
// threads ("<case>/t1", "<case>/t2"), xgrad and libtorch alike, timed in wall
// clock (CPU time would add the threads up); and minor page faults per
// iteration, from getrusage, as a counter.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <string>
#include <vector>

namespace bench {

constexpr int kThreadCounts[] = {1, 2};

inline std::string with_threads(const std::string& name, int threads) {
  return name + "/t" + std::to_string(threads);
}

inline long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// The fastest repetition: on a shared machine other work only ever adds time,
// so the minimum is the least disturbed estimate (beside the median).
inline double fastest(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

// Registers one case timed in wall clock, with CPU time over all threads of
// the process, and a "min" aggregate when repeated; extra arguments are
// passed to fn. Returns the case for further settings (->Iterations(1)).
template <class Fn, class... Args>
benchmark::internal::Benchmark* add_case(const std::string& name, benchmark::TimeUnit unit, Fn fn,
                                         Args... args) {
  return benchmark::RegisterBenchmark(name.c_str(), fn, args...)
      ->Unit(unit)
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->ComputeStatistics("min", fastest);
}

// Pairs a workload with its baseline, both as in "xgrad/<workload>/t<n>"
// without side and thread count (e.g. "qat_step_rcf/784-256-10/b128/f32" with
// "float_step/784-256-10/b128/f32"): bench_main then prints workload time /
// baseline time on each side at each thread count, both measured in the same
// process. Defined in bench_main.cpp.
void add_baseline(const std::string& workload, const std::string& baseline);

// Start before the timed loop; report() after it sets the "minflt" counter
// (page faults per iteration, all threads).
struct MinorFaults {
  long start = minor_faults();
  void report(benchmark::State& state) const {
    state.counters["minflt"] =
        benchmark::Counter(double(minor_faults() - start), benchmark::Counter::kAvgIterations);
  }
};

// The timed loop of a training-step case, xgrad's and libtorch's alike: per
// iteration zero_grad, the loss `loss()` returns, backward, step; then the
// "minflt" counter.
template <class Optimizer, class Loss>
void time_training_steps(benchmark::State& state, Optimizer& opt, Loss loss) {
  const MinorFaults faults;
  for (auto _ : state) {
    opt.zero_grad();
    auto l = loss();
    l.backward();
    opt.step();
  }
  faults.report(state);
}

}  // namespace bench
