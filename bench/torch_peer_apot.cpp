// The libtorch peer of bench_apot.cpp: uniform
// torch::fake_quantize_per_tensor_affine with b bits on the same 4M float32
// values, registered under the names of the xgrad cases it is compared with
// (the APoT op and xgrad's own uniform op). Its own translation unit because
// <torch/torch.h> takes ~15 s to compile.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "bench_apot_data.hpp"

namespace {

torch::Tensor input(bool requires_grad) {
  auto v = bench::fake_quant_input();
  return torch::from_blob(v.data(), {int64_t(v.size())}, torch::kFloat32)
      .clone()
      .set_requires_grad(requires_grad);
}

void forward(benchmark::State& state, int b) {
  torch::set_num_threads(1);
  const auto x = input(false);
  const auto u = bench::uniform_qparams(b);
  for (auto _ : state) {
    auto y = torch::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

void forward_backward(benchmark::State& state, int b) {
  torch::set_num_threads(1);
  auto x = input(true);
  const auto u = bench::uniform_qparams(b);
  const auto seed = torch::ones({int64_t(bench::kFakeQuantSize)}, torch::kFloat32);
  for (auto _ : state) {
    x.mutable_grad() = torch::Tensor();
    auto y = torch::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

const bool registered = [] {
  for (int b : {4, 8}) {
    const std::string bits = "b" + std::to_string(b) + "/4M/f32";
    for (const char* op : {"apot_fq", "uniform_fq"}) {
      benchmark::RegisterBenchmark(("torch/" + std::string(op) + "_fwd/" + bits).c_str(), forward,
                                   b)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("torch/" + std::string(op) + "_fwd_bwd/" + bits).c_str(),
                                   forward_backward, b)
          ->Unit(benchmark::kMillisecond);
    }
  }
  return true;
}();

}  // namespace
