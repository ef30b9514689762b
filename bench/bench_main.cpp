// main() of every benchmark program: one thread everywhere, the usual Google
// Benchmark console output, then a ratio table pairing each "xgrad/<case>"
// with "torch/<case>" (xgrad time / libtorch time; < 1 means xgrad is faster).
//
// Cases count CPU time per iteration (steadier than wall time on a shared
// machine), or per unit of work when they set a counter named "per_op"
// (kIsIterationInvariantRate | kInvert: seconds per op).
// With --benchmark_repetitions the median is used.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !median) continue;
      Entry& e = seconds_[run.run_name.function_name];
      const auto per_op = run.counters.find("per_op");
      const double s =
          per_op != run.counters.end()
              ? double(per_op->second)
              : run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      e.per_op = per_op != run.counters.end();
      if (median) {
        e.median = s;
        e.has_median = true;
      } else if (!e.has_best || s < e.best) {
        e.best = s;
        e.has_best = true;
      }
    }
  }

  void print_ratios() const {
    std::printf("\nxgrad vs libtorch, 1 thread (ratio = xgrad / libtorch; < 1: xgrad is faster)\n");
    std::printf("%-36s %12s %12s %8s\n", "case", "xgrad", "libtorch", "ratio");
    for (const auto& kv : seconds_) {
      const std::string& name = kv.first;
      if (name.rfind("xgrad/", 0) != 0) continue;
      const std::string workload = name.substr(6);
      const double x = kv.second.value();
      const auto peer = seconds_.find("torch/" + workload);
      const std::string label = workload + (kv.second.per_op ? " (per op)" : "");
      if (peer == seconds_.end()) {
        std::printf("%-36s %12s %12s %8s\n", label.c_str(), format(x).c_str(), "-", "-");
      } else {
        const double t = peer->second.value();
        std::printf("%-36s %12s %12s %8.2f\n", label.c_str(), format(x).c_str(), format(t).c_str(),
                    x / t);
      }
    }
  }

 private:
  struct Entry {
    double best = 0, median = 0;
    bool has_best = false, has_median = false, per_op = false;
    double value() const { return has_median ? median : best; }
  };

  static std::string format(double seconds) {
    char buf[32];
    if (seconds < 1e-6) {
      std::snprintf(buf, sizeof buf, "%.0f ns", seconds * 1e9);
    } else if (seconds < 1e-3) {
      std::snprintf(buf, sizeof buf, "%.2f us", seconds * 1e6);
    } else {
      std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
    }
    return buf;
  }

  std::map<std::string, Entry> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  // Comparable single-thread numbers; libtorch cases set their own thread count.
  openblas_set_num_threads(1);
  // glibc returns freed multi-megabyte blocks to the OS, so a loop that frees
  // and reallocates 16 MB arrays page-faults on every iteration, for xgrad and
  // libtorch alike (both allocate through malloc). Keeping freed memory in the
  // process measures the ops, not the kernel's page zeroing. The setting holds
  // for both peers in this process; XGRAD_BENCH_DEFAULT_MALLOC=1 keeps glibc's
  // defaults (README reports both).
  const char* default_malloc = std::getenv("XGRAD_BENCH_DEFAULT_MALLOC");
  const bool keep_freed = !(default_malloc && std::string(default_malloc) == "1");
  if (keep_freed) {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
  std::printf("malloc: %s\n",
              keep_freed ? "freed memory kept in the process (mallopt)" : "glibc defaults");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                               : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
