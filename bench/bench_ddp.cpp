// Data-parallel speed (issues 13 and 20): the 784-512-10 MLP training step
// with a global batch of 128 rows (bench_engine's module_step workload), on W
// single-threaded processes with 128 / W rows each, gradients averaged by
// DistributedDataParallel, against one process training the whole batch:
//
//   mpirun -np 2 build/bench/bench_ddp    the 1 -> 2 process speed-up
//   build/bench/bench_ddp                 one process alone (no speed-up)
//
// Not a Google Benchmark program: its adaptive iteration counts would differ
// between ranks, and every step is a collective. Instead each of `repeats`
// rounds times `steps` W-process steps between barriers and, in the same
// round, `steps` one-process steps: rank 0 trains a plain copy of the model
// on the whole batch while the other ranks sleep (they poll for the end of
// that phase every 0.2 ms, so rank 0 has a core to itself as a lone process
// would). The order of the two phases alternates from round to round, so
// both see the same drift of a busy machine. Rank 0 prints for each round:
//   - the W-process time per step (slowest rank) and the one-process one, and
//     their ratio, the speed-up;
//   - the all-reduce share: the share of the W-process step rank 0 spends
//     waiting in all_reduce_gradients() (what the all-reduces still add once
//     backward has overlapped what it could, including waiting for the other
//     ranks), and the share spent inside MPI calls anywhere (that wait, plus
//     starting and moving on the buckets' all-reduces from the gradient hooks
//     during backward);
//   - gradient bytes per step copied into the buckets, out of them, and
//     reduced in place on grad() (DistributedDataParallel::copy_stats);
//   - CPU time per step: of the W-process step outside all_reduce_gradients()
//     (rank 0's compute) and of the one-process step. Their ratio is the
//     speed-up the split of the compute alone allows, whatever the
//     communication costs; on a loaded machine CPU times stay near their idle
//     values while wall times do not.
// then medians over the rounds, the kernel set and the load average.
//
//   bench_ddp [steps=50] [repeats=7] [f32|f64]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "bench_data.hpp"
#include "convert_xgrad.hpp"
#include "xgrad/blas_kernels.hpp"
#include "xgrad/distributed/distributed_data_parallel.hpp"
#include "xgrad/distributed/process_group.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"

namespace {

using xgrad::distributed::DistributedDataParallel;
using xgrad::distributed::ProcessGroup;
using xgrad::distributed::ReduceOp;

template <class T>
xgrad::Tensor<T> to_xgrad(const std::vector<double>& v, std::size_t offset,
                          const xgrad::Shape& shape) {
  xt::xarray<T> a = xt::xarray<T>::from_shape(shape);
  std::copy(v.begin() + static_cast<std::ptrdiff_t>(offset),
            v.begin() + static_cast<std::ptrdiff_t>(offset + a.size()), a.begin());
  return xgrad::Tensor<T>(std::move(a));
}

// CPU time of the calling thread, in seconds.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The labels of rows [first, first + rows) of the global batch.
xgrad::Labels labels_of(const bench::MlpData& d, std::size_t first, std::size_t rows) {
  const std::vector<std::int64_t> v(d.labels.begin() + static_cast<std::ptrdiff_t>(first),
                                    d.labels.begin() + static_cast<std::ptrdiff_t>(first + rows));
  return xt::adapt(v, {rows});
}

// Every rank leaves together, rank 0 once it is done, the others sleeping
// meanwhile instead of spinning in a blocking collective (which would take a
// core from rank 0's one-process phase).
void join_sleeping(ProcessGroup& group) {
  float token = 0;
  xgrad::distributed::Work work = group.all_reduce_buffer_async(&token, 1, ReduceOp::SUM);
  if (group.rank() == 0) {
    work.wait();
    return;
  }
  const timespec pause{0, 200000};
  while (!work.is_completed()) nanosleep(&pause, nullptr);
}

struct Round {
  double ms = 0, wait_share = 0, mpi_share = 0, cpu_ms = 0;  // W processes
  double solo_ms = 0, solo_cpu_ms = 0;                       // one process
};

template <class T>
int run(ProcessGroup& group, int steps, int repeats) {
  const bench::MlpShape s = bench::kLargeMlp;
  const auto world = static_cast<std::size_t>(group.size());
  if (s.batch % world != 0) {
    throw xgrad::ValueError("bench_ddp: the batch of " + std::to_string(s.batch) +
                            " rows does not split over " + std::to_string(world) + " processes");
  }
  const std::size_t rows = s.batch / world, first = rows * static_cast<std::size_t>(group.rank());
  const auto d = bench::mlp_data(s);

  // W processes: this rank's rows.
  DistributedDataParallel<T> ddp(bench::mlp_model<T>(s, d), group);
  xgrad::optim::SGD<T> opt(ddp.parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
  const auto x = to_xgrad<T>(d.x, first * s.in, {rows, s.in});
  const xgrad::Labels labels = labels_of(d, first, rows);
  double reduce_cpu = 0, reduce_wall = 0;  // inside all_reduce_gradients
  auto step = [&] {
    opt.zero_grad();
    auto loss = xgrad::cross_entropy(ddp.forward(x), labels);
    loss.backward();
    const double before = thread_cpu_seconds();
    const auto wall_before = std::chrono::steady_clock::now();
    ddp.all_reduce_gradients();
    reduce_wall += seconds_since(wall_before);
    reduce_cpu += thread_cpu_seconds() - before;
    opt.step();
  };

  // One process: the whole batch, a plain model (rank 0 only).
  const bool solo = world > 1;
  std::shared_ptr<xgrad::nn::Sequential<T>> alone;
  std::unique_ptr<xgrad::optim::SGD<T>> alone_opt;
  xgrad::Tensor<T> x_all;
  xgrad::Labels labels_all;
  if (solo && group.rank() == 0) {
    alone = bench::mlp_model<T>(s, d);
    alone_opt = std::make_unique<xgrad::optim::SGD<T>>(
        alone->parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
    x_all = to_xgrad<T>(d.x, 0, {s.batch, s.in});
    labels_all = labels_of(d, 0, s.batch);
  }
  auto solo_step = [&] {
    alone_opt->zero_grad();
    xgrad::cross_entropy(alone->forward(x_all), labels_all).backward();
    alone_opt->step();
  };

  // Warm-up: allocations, MPI connections.
  for (int i = 0; i < 5; ++i) step();
  if (solo && group.rank() == 0) {
    for (int i = 0; i < 5; ++i) solo_step();
  }

  std::vector<Round> rounds(static_cast<std::size_t>(repeats));
  for (int r = 0; r < repeats; ++r) {
    Round& round = rounds[static_cast<std::size_t>(r)];
    const auto distributed_phase = [&] {
      group.barrier();
      group.reset_stats();
      reduce_cpu = 0;
      reduce_wall = 0;
      const double cpu_start = thread_cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) step();
      const double comm = group.stats().seconds;
      round.cpu_ms = 1e3 * (thread_cpu_seconds() - cpu_start - reduce_cpu) / steps;
      group.barrier();  // the round ends when the slowest rank is done
      const double total = seconds_since(start);
      round.ms = 1e3 * total / steps;
      round.wait_share = reduce_wall / total;
      round.mpi_share = comm / total;
    };
    const auto solo_phase = [&] {
      if (group.rank() == 0) {
        const double cpu_start = thread_cpu_seconds();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < steps; ++i) solo_step();
        round.solo_ms = 1e3 * seconds_since(start) / steps;
        round.solo_cpu_ms = 1e3 * (thread_cpu_seconds() - cpu_start) / steps;
      }
      join_sleeping(group);
    };
    if (solo && r % 2 == 1) solo_phase();
    distributed_phase();
    if (solo && r % 2 == 0) solo_phase();
  }
  if (group.rank() != 0) return 0;

  const xgrad::BlasKernels kernels = xgrad::blas_kernels();
  double load[3] = {-1, -1, -1};
  getloadavg(load, 3);
  std::printf(
      "bench_ddp %s/%s: %zu process(es) (%s), %zu rows each, %zu bucket(s), %d steps x "
      "%d rounds; OpenBLAS kernels %s; load average %.2f %.2f %.2f\n",
      s.name().c_str(), bench::type_name<T>(), world, ProcessGroup::backend(), rows,
      ddp.buckets().size(), steps, repeats, kernels.core.c_str(), load[0], load[1], load[2]);
  const auto pick = [&](double Round::*field) {
    std::vector<double> v;
    for (const Round& round : rounds) v.push_back(round.*field);
    return v;
  };
  std::vector<double> speedup, compute_bound;
  for (const Round& round : rounds) {
    if (solo) {
      speedup.push_back(round.solo_ms / round.ms);
      compute_bound.push_back(round.solo_cpu_ms / round.cpu_ms);
    }
  }
  // What the buckets copied per step (warm-up and rounds alike: every step
  // does the same): gradients copied in and out, and reduced in place.
  const auto& copies = ddp.copy_stats();
  const double total_steps = 5.0 + double(steps) * repeats;
  std::printf(
      "  gradient bytes per step: %.0f copied into buckets, %.0f copied out, %.0f reduced in "
      "place on grad()\n",
      double(copies.packed_bytes) / total_steps, double(copies.unpacked_bytes) / total_steps,
      double(copies.in_place_bytes) / total_steps);
  const char* processes = world == 1 ? "process" : "processes";
  for (std::size_t r = 0; r < rounds.size(); ++r) {
    const Round& round = rounds[r];
    std::printf(
        "  round %zu: %zu %s %.3f ms/step (wait %.1f%%, in MPI %.1f%%, compute "
        "%.3f ms CPU)",
        r, world, processes, round.ms, 100 * round.wait_share, 100 * round.mpi_share, round.cpu_ms);
    if (solo) {
      std::printf("; 1 process %.3f ms/step (%.3f ms CPU); speed-up %.2f", round.solo_ms,
                  round.solo_cpu_ms, speedup[r]);
    }
    std::printf("\n");
  }
  const std::vector<double> ms = pick(&Round::ms), wait = pick(&Round::wait_share);
  std::printf(
      "  %zu %s: ms/step min %.3f median %.3f max %.3f; all-reduce share: wait in "
      "all_reduce_gradients median %.1f%% (%.1f%% to %.1f%%), in MPI median %.1f%%; "
      "compute median %.3f ms CPU/step\n",
      world, processes, *std::min_element(ms.begin(), ms.end()), median(ms),
      *std::max_element(ms.begin(), ms.end()), 100 * median(wait),
      100 * *std::min_element(wait.begin(), wait.end()),
      100 * *std::max_element(wait.begin(), wait.end()), 100 * median(pick(&Round::mpi_share)),
      median(pick(&Round::cpu_ms)));
  if (!solo) {
    std::printf("  (run under mpirun -np 2 for the speed-up over this one-process step)\n");
    return 0;
  }
  const std::vector<double> solo_ms = pick(&Round::solo_ms);
  std::printf("  1 process: ms/step min %.3f median %.3f max %.3f; median %.3f ms CPU/step\n",
              *std::min_element(solo_ms.begin(), solo_ms.end()), median(solo_ms),
              *std::max_element(solo_ms.begin(), solo_ms.end()), median(pick(&Round::solo_cpu_ms)));
  std::printf(
      "  speed-up 1 -> %zu processes: median of the rounds %.2f (%.2f to %.2f), of the "
      "fastest rounds %.2f; the compute's split alone allows %.2f (one process's CPU "
      "time / rank 0's outside the all-reduce, median)\n",
      world, median(speedup), *std::min_element(speedup.begin(), speedup.end()),
      *std::max_element(speedup.begin(), speedup.end()),
      *std::min_element(solo_ms.begin(), solo_ms.end()) / *std::min_element(ms.begin(), ms.end()),
      median(compute_bound));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // One thread per process: W processes use W cores. (xgrad's own threads
  // split large products; xgrad keeps OpenBLAS at one thread.)
  xgrad::set_num_threads(1);
  ProcessGroup group;
  const int steps = argc > 1 ? std::atoi(argv[1]) : 50;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  const std::string type = argc > 3 ? argv[3] : "f32";
  return xgrad::distributed::run_or_abort(group, [&] {
    if (steps < 1 || repeats < 1 || (type != "f32" && type != "f64")) {
      throw xgrad::ValueError("usage: bench_ddp [steps >= 1] [repeats >= 1] [f32|f64]");
    }
    return type == "f32" ? run<float>(group, steps, repeats) : run<double>(group, steps, repeats);
  });
}
