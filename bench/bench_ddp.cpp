// Data-parallel speed (issue 13): the 784-512-10 MLP training step with a
// global batch of 128 rows (bench_engine's module_step workload), on W
// single-threaded processes with 128 / W rows each, gradients averaged by
// DistributedDataParallel. Run it on one process and on two, then divide:
//
//   build/bench/bench_ddp                 one process, batch 128
//   mpirun -np 2 build/bench/bench_ddp    two processes, 64 rows each
//
// Not a Google Benchmark program: its adaptive iteration counts would differ
// between ranks, and every step is a collective. Instead each of `repeats`
// rounds times `steps` steps between barriers; rank 0 prints the per-step
// time of each round (slowest rank) and, for rank 0: the share of it spent
// waiting in all_reduce_gradients() (what the all-reduces add to the step
// once backward has overlapped what it could, including waiting for the
// other ranks), the share spent inside MPI calls anywhere (the wait, plus
// starting and testing the buckets' all-reduces from the gradient hooks
// during backward), and the CPU time per step outside all_reduce_gradients()
// (the compute; on a loaded machine it stays near its idle value while wall
// times do not).
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
#include "xgrad/distributed/distributed_data_parallel.hpp"
#include "xgrad/distributed/process_group.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"

namespace {

using xgrad::distributed::DistributedDataParallel;
using xgrad::distributed::ProcessGroup;

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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

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
  auto fc1 = std::make_shared<xgrad::nn::Linear<T>>(s.in, s.hidden);
  auto fc2 = std::make_shared<xgrad::nn::Linear<T>>(s.hidden, s.out);
  {
    xgrad::NoGradGuard no_grad;  // bench_engine's initial values
    fc1->weight.copy_(to_xgrad<T>(d.w1, 0, {s.hidden, s.in}));
    fc1->bias.copy_(to_xgrad<T>(d.b1, 0, {s.hidden}));
    fc2->weight.copy_(to_xgrad<T>(d.w2, 0, {s.out, s.hidden}));
    fc2->bias.copy_(to_xgrad<T>(d.b2, 0, {s.out}));
  }
  auto model = std::make_shared<xgrad::nn::Sequential<T>>();
  model->push_back(fc1);
  model->push_back(std::make_shared<xgrad::nn::ReLU<T>>());
  model->push_back(fc2);
  DistributedDataParallel<T> ddp(model, group);
  xgrad::optim::SGD<T> opt(ddp.parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
  // This rank's rows of the global batch.
  const auto x = to_xgrad<T>(d.x, first * s.in, {rows, s.in});
  const std::vector<std::int64_t> labels_rows(
      d.labels.begin() + static_cast<std::ptrdiff_t>(first),
      d.labels.begin() + static_cast<std::ptrdiff_t>(first + rows));
  const xgrad::Labels labels = xt::adapt(labels_rows, {rows});

  double reduce_cpu = 0;   // thread CPU time inside all_reduce_gradients
  double reduce_wall = 0;  // wall time inside all_reduce_gradients
  auto step = [&] {
    opt.zero_grad();
    auto loss = xgrad::cross_entropy(ddp.forward(x), labels);
    loss.backward();
    const double before = thread_cpu_seconds();
    const auto wall_before = std::chrono::steady_clock::now();
    ddp.all_reduce_gradients();
    reduce_wall +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
    reduce_cpu += thread_cpu_seconds() - before;
    opt.step();
  };
  for (int i = 0; i < 5; ++i) step();  // warm-up: allocations, MPI connections

  std::vector<double> step_ms, wait_share, comm_share, compute_ms;
  for (int r = 0; r < repeats; ++r) {
    group.barrier();
    group.reset_stats();
    reduce_cpu = 0;
    reduce_wall = 0;
    const double cpu_start = thread_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    const double comm = group.stats().seconds;
    compute_ms.push_back(1e3 * (thread_cpu_seconds() - cpu_start - reduce_cpu) / steps);
    // The round ends when the slowest rank is done.
    group.barrier();
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    step_ms.push_back(1e3 * total / steps);
    wait_share.push_back(reduce_wall / total);
    comm_share.push_back(comm / total);
  }
  if (group.rank() == 0) {
    std::printf("bench_ddp %s/%s: %zu process(es) (%s), %zu rows each, %zu bucket(s)\n",
                s.name().c_str(), bench::type_name<T>(), world, ProcessGroup::backend(), rows,
                ddp.buckets().size());
    for (int r = 0; r < repeats; ++r) {
      std::printf(
          "  round %d: %.3f ms/step, wait %.1f%%, in MPI %.1f%%, compute %.3f ms CPU/step\n", r,
          step_ms[r], 100 * wait_share[r], 100 * comm_share[r], compute_ms[r]);
    }
    std::printf("  ms/step min %.3f median %.3f max %.3f\n",
                *std::min_element(step_ms.begin(), step_ms.end()), median(step_ms),
                *std::max_element(step_ms.begin(), step_ms.end()));
    std::printf("  wait in all_reduce_gradients median %.1f%% (%.1f%% to %.1f%%); in MPI median "
                "%.1f%%\n",
                100 * median(wait_share),
                100 * *std::min_element(wait_share.begin(), wait_share.end()),
                100 * *std::max_element(wait_share.begin(), wait_share.end()),
                100 * median(comm_share));
    std::printf("  compute (CPU time outside the all-reduce) median %.3f ms/step\n",
                median(compute_ms));
  }
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
