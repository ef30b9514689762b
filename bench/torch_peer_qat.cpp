// The libtorch peer of bench_qat.cpp: torch::_fake_quantize_learnable_per_tensor_affine
// (LSQ, the learnable fake quantize PyTorch's QAT uses) with b bits on the same
// 4M float32 values, scale and zero point requiring grad, registered under the
// names of the xgrad cases it is compared with (RCF and LSQ).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "bench_apot_data.hpp"
#include "torch_threads.hpp"

namespace {

torch::Tensor input(bool requires_grad) {
  auto v = bench::fake_quant_input();
  return torch::from_blob(v.data(), {int64_t(v.size())}, torch::kFloat32)
      .clone()
      .set_requires_grad(requires_grad);
}

void learnable(benchmark::State& state, int b, bool backward, int threads) {
  bench::use_torch_threads(threads);
  auto x = input(backward);
  const auto u = bench::uniform_qparams(b);
  auto scale = torch::full({1}, float(u.scale)).set_requires_grad(backward);
  auto zero_point = torch::zeros({1}).set_requires_grad(backward);
  const auto seed = torch::ones({int64_t(bench::kFakeQuantSize)}, torch::kFloat32);
  for (auto _ : state) {
    x.mutable_grad() = torch::Tensor();
    scale.mutable_grad() = torch::Tensor();
    zero_point.mutable_grad() = torch::Tensor();
    auto y = torch::_fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, 0, u.quant_max,
                                                               1.0);
    if (backward) {
      y.backward(seed);
      benchmark::DoNotOptimize(x.grad().data_ptr());
    }
    benchmark::DoNotOptimize(y.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

// Both learnable quantizers run PyTorch's learnable affine fake quantize.
const bool registered = [] {
  bench::add_learnable_fq_cases("torch", [](const std::string&) { return learnable; });
  return true;
}();

}  // namespace
