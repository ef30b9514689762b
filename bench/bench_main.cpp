// main() of every benchmark program: the usual Google Benchmark console
// output, then two tables. Ratios pair each "xgrad/<case>/t<n>" with
// "torch/<case>/t<n>", or else "blas/<case>/t<n>" (xgrad time / peer time at
// the same thread count; < 1 means xgrad is faster; in the tables "libtorch"
// stands for the peer, OpenBLAS for the blas/ cases), with minor page faults per iteration where a
// case counts them; speed-ups pair "<case>/t1" with "<case>/t2" on each side;
// and, for workloads given a baseline (bench::add_baseline), the cost of each
// against its baseline on each side. A variant of an xgrad case,
// "xgrad/<case>@<variant>/t<n>" (other kernels for an interleaved A/B in one
// process), has the same peer as "<case>".
//
// Cases count wall-clock time per iteration (CPU time would add up the
// threads), or per unit of work when they set a counter named "per_op"
// (kIsIterationInvariantRate | kInvert: seconds per op). With
// --benchmark_repetitions the median is used, and speed-ups are also given
// from the fastest repetitions (the "min" aggregate, bench_threads.hpp). malloc keeps glibc's
// defaults: no process-wide tuning a user's program would not have.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_threads.hpp"
#include "xgrad/blas_kernels.hpp"
#include "xgrad/detail/conv_kernels.hpp"

namespace {

std::vector<std::pair<std::string, std::string>>& baselines() {
  static std::vector<std::pair<std::string, std::string>> pairs;
  return pairs;
}

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.error_occurred) continue;
      const bool aggregate = run.run_type == Run::RT_Aggregate;
      const bool median = aggregate && run.aggregate_name == "median";
      const bool fastest = aggregate && run.aggregate_name == "min";
      if (aggregate && !median && !fastest) continue;
      Entry& e = seconds_[run.run_name.function_name];
      const auto per_op = run.counters.find("per_op");
      const double unit = benchmark::GetTimeUnitMultiplier(run.time_unit);
      const double wall = run.GetAdjustedRealTime() / unit;
      const double s = per_op != run.counters.end() ? double(per_op->second) : wall;
      // per_op is a rate over wall time: CPU time per op scales with it.
      const double cpu = run.GetAdjustedCPUTime() / unit * (s / wall);
      e.per_op = per_op != run.counters.end();
      const auto faults = run.counters.find("minflt");
      if (faults != run.counters.end()) e.faults = double(faults->second);
      if (median) {
        e.median = s;
        e.median_cpu = cpu;
        e.has_median = true;
      } else if (fastest || !e.has_best || s < e.best) {
        e.best = s;
        e.best_cpu = cpu;
        e.has_best = true;
      }
    }
  }

  void print_tables() const {
    std::printf(
        "\nxgrad vs libtorch at the same thread count (ratio = xgrad / libtorch in wall time; "
        "< 1: xgrad is faster; cpu ratio: the same in CPU time of all threads, steadier on a "
        "busy machine; minflt: minor page faults per iteration, xgrad / libtorch)\n");
    std::printf("%-44s %12s %12s %8s %9s %16s\n", "case", "xgrad", "libtorch", "ratio", "cpu ratio",
                "minflt x / t");
    for (const auto& kv : seconds_) {
      const std::string& name = kv.first;
      if (name.rfind("xgrad/", 0) != 0) continue;
      const std::string workload = name.substr(6);
      const Entry& x = kv.second;
      const auto peer = peer_of(workload);
      const std::string label = workload + (x.per_op ? " (per op)" : "");
      const Entry* t = peer == seconds_.end() ? nullptr : &peer->second;
      char faults[40] = "";
      if (x.faults >= 0) {
        std::snprintf(faults, sizeof faults, "%.0f / %s", x.faults,
                      t && t->faults >= 0 ? std::to_string(long(t->faults + 0.5)).c_str() : "-");
      }
      if (!t) {
        std::printf("%-44s %12s %12s %8s %9s %16s\n", label.c_str(), format(x.value()).c_str(), "-",
                    "-", "-", faults);
      } else {
        std::printf("%-44s %12s %12s %8.2f %9.2f %16s\n", label.c_str(), format(x.value()).c_str(),
                    format(t->value()).c_str(), x.value() / t->value(), x.cpu() / t->cpu(), faults);
      }
    }
    std::printf(
        "\nspeed-up from 1 to 2 threads (time at t1 / time at t2; of the medians, and of the "
        "fastest repetitions, when repeated)\n");
    std::printf("%-44s %8s %8s %10s %10s\n", "case", "xgrad", "libtorch", "xgrad min", "torch min");
    for (const auto& kv : seconds_) {
      const std::string& name = kv.first;
      if (name.rfind("xgrad/", 0) != 0 || !ends_with(name, "/t1")) continue;
      const std::string workload = name.substr(6, name.size() - 6 - 3);
      const auto x2 = seconds_.find("xgrad/" + workload + "/t2");
      if (x2 == seconds_.end()) continue;
      const auto t1 = peer_of(workload + "/t1");
      const auto t2 = peer_of(workload + "/t2");
      const bool peer = t1 != seconds_.end() && t2 != seconds_.end();
      const auto ratio = [](double a, double b) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.2f", a / b);
        return std::string(buf);
      };
      std::printf("%-44s %8s %8s %10s %10s\n", workload.c_str(),
                  ratio(kv.second.value(), x2->second.value()).c_str(),
                  peer ? ratio(t1->second.value(), t2->second.value()).c_str() : "-",
                  ratio(kv.second.best, x2->second.best).c_str(),
                  peer ? ratio(t1->second.best, t2->second.best).c_str() : "-");
    }
    if (baselines().empty()) return;
    std::printf(
        "\ncost against a baseline in this process (workload time / baseline time in wall "
        "time, and in CPU time of all threads, steadier on a busy machine; of the medians, and "
        "of the fastest repetitions, when repeated)\n");
    std::printf("%-44s %-26s %8s %8s %9s %9s %10s %10s\n", "case", "baseline", "xgrad", "libtorch",
                "xgrad cpu", "torch cpu", "xgrad min", "torch min");
    for (const auto& [workload, baseline] : baselines()) {
      for (int t : bench::kThreadCounts) {
        const std::string suffix = "/t" + std::to_string(t);
        const auto x = seconds_.find("xgrad/" + workload + suffix);
        const auto xb = seconds_.find("xgrad/" + baseline + suffix);
        if (x == seconds_.end() || xb == seconds_.end()) continue;
        const auto p = peer_of(workload + suffix), pb = peer_of(baseline + suffix);
        const bool peer = p != seconds_.end() && pb != seconds_.end();
        const auto ratio = [](double a, double b) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "%.2f", a / b);
          return std::string(buf);
        };
        std::printf("%-44s %-26s %8s %8s %9s %9s %10s %10s\n", (workload + suffix).c_str(),
                    baseline.substr(0, baseline.find('/')).c_str(),
                    ratio(x->second.value(), xb->second.value()).c_str(),
                    peer ? ratio(p->second.value(), pb->second.value()).c_str() : "-",
                    ratio(x->second.cpu(), xb->second.cpu()).c_str(),
                    peer ? ratio(p->second.cpu(), pb->second.cpu()).c_str() : "-",
                    ratio(x->second.best, xb->second.best).c_str(),
                    peer ? ratio(p->second.best, pb->second.best).c_str() : "-");
      }
    }
  }

 private:
  struct Entry {
    double best = 0, median = 0, best_cpu = 0, median_cpu = 0, faults = -1;
    bool has_best = false, has_median = false, per_op = false;
    double value() const { return has_median ? median : best; }
    double cpu() const { return has_median ? median_cpu : best_cpu; }
  };

  // The peer of "xgrad/<workload>": "torch/<workload>", else "blas/<workload>"
  // (OpenBLAS on the same float data, for the low-bit kernels); a variant's
  // "@<variant>" is left out.
  std::map<std::string, Entry>::const_iterator peer_of(std::string workload) const {
    const auto at = workload.find('@');
    if (at != std::string::npos) workload.erase(at, workload.find('/', at) - at);
    const auto torch = seconds_.find("torch/" + workload);
    return torch != seconds_.end() ? torch : seconds_.find("blas/" + workload);
  }

  static bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }

  static std::string format(double seconds) {
    char buf[32];
    if (seconds < 1e-6) {
      std::snprintf(buf, sizeof buf, "%.0f ns", seconds * 1e9);
    } else if (seconds < 1e-3) {
      std::snprintf(buf, sizeof buf, "%.2f us", seconds * 1e6);
    } else if (seconds < 1) {
      std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
    } else {
      std::snprintf(buf, sizeof buf, "%.3f s", seconds);
    }
    return buf;
  }

  std::map<std::string, Entry> seconds_;
};

}  // namespace

void bench::add_baseline(const std::string& workload, const std::string& baseline) {
  baselines().emplace_back(workload, baseline);
}

// Every table is read with the OpenBLAS kernel set, which sets the speed of
// every product (Google Benchmark prints the load average beside it).
void add_kernel_set_context() {
  const xgrad::BlasKernels k = xgrad::blas_kernels();
  std::string kernels = k.core;
  if (k.corrected) kernels += " (OpenBLAS fell back to " + k.detected + "; corrected by xgrad)";
  benchmark::AddCustomContext("openblas_kernels", kernels);
  benchmark::AddCustomContext("conv2d_kernels", xgrad::detail::describe_conv_kernels());
}

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  add_kernel_set_context();
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                                               : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_tables();
  benchmark::Shutdown();
  return 0;
}
