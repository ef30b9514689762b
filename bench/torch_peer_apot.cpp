// The libtorch peer of bench_apot.cpp: uniform
// torch::fake_quantize_per_tensor_affine with b bits on the same float32
// values, at the same thread counts, registered under the names of the xgrad
// cases it is compared with (the APoT op and xgrad's own uniform op). Its own
// translation unit because <torch/torch.h> takes ~15 s to compile.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "bench_apot_data.hpp"

namespace {

torch::Tensor input(std::size_t n, bool requires_grad) {
  auto v = bench::fake_quant_input(n);
  return torch::from_blob(v.data(), {int64_t(v.size())}, torch::kFloat32)
      .clone()
      .set_requires_grad(requires_grad);
}

struct Setup {
  std::size_t n;
  int b, threads;
};

void forward(benchmark::State& state, Setup s) {
  torch::set_num_threads(s.threads);
  const auto x = input(s.n, false);
  const auto u = bench::uniform_qparams(s.b);
  const bench::MinorFaults faults;
  for (auto _ : state) {
    auto y = torch::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

void forward_backward(benchmark::State& state, Setup s) {
  torch::set_num_threads(s.threads);
  auto x = input(s.n, true);
  const auto u = bench::uniform_qparams(s.b);
  const auto seed = torch::ones({int64_t(s.n)}, torch::kFloat32);
  const bench::MinorFaults faults;
  for (auto _ : state) {
    x.mutable_grad() = torch::Tensor();
    auto y = torch::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data_ptr());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

const bool registered = [] {
  for (int b : {4, 8}) {
    const std::string big = bench::fq_case(b, bench::kFakeQuantSize);
    const std::string small = bench::fq_case(b, bench::kInCacheSize);
    for (int t : bench::kThreadCounts) {
      for (const char* op : {"apot_fq", "uniform_fq"}) {
        bench::add_fq_case(bench::with_threads("torch/" + std::string(op) + "_fwd/" + big, t),
                           forward, Setup{bench::kFakeQuantSize, b, t});
        bench::add_fq_case(bench::with_threads("torch/" + std::string(op) + "_fwd_bwd/" + big, t),
                           forward_backward, Setup{bench::kFakeQuantSize, b, t});
      }
    }
    bench::add_fq_case(bench::with_threads("torch/apot_fq_fwd/" + small, 1), forward,
                       Setup{bench::kInCacheSize, b, 1});
  }
  return true;
}();

}  // namespace
