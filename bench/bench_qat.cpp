// Learnable fake-quantize throughput (project issue 8): RCF (learnable alpha,
// APoT levels b=4 and b=8 with k=2, unsigned, alpha = 1) and LSQ (learnable
// scale and zero point, uniform b bits on [0, 1]) forward and forward +
// backward over 4M float32 elements at 1 and 2 threads, both against libtorch's
// torch::_fake_quantize_learnable_per_tensor_affine with as many bits
// (torch_peer_qat.cpp, registered as "torch/<case>"). Items are elements; the
// ratio table at the end is time xgrad / time libtorch.
#include <benchmark/benchmark.h>

#include <string>

#include "bench_apot_data.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/tensor.hpp"

namespace {

xgrad::Tensor<float> input(bool requires_grad) {
  const auto v = bench::fake_quant_input();
  xt::xarray<float> a = xt::xarray<float>::from_shape({v.size()});
  std::copy(v.begin(), v.end(), a.begin());
  return xgrad::Tensor<float>(std::move(a), requires_grad);
}

void rcf(benchmark::State& state, int b, bool backward, int threads) {
  xgrad::set_num_threads(threads);
  auto x = input(backward);
  auto alpha = xgrad::tensor<float>({1.0f}, backward);
  const std::vector<float> levels =
      xgrad::quant::apot_unsigned_levels(b, bench::kApotK).values<float>();
  const xt::xarray<float> seed = xt::ones<float>({bench::kFakeQuantSize});
  for (auto _ : state) {
    x.zero_grad();
    alpha.zero_grad();
    auto y = xgrad::quant::rcf_fake_quantize(x, alpha, levels);
    if (backward) {
      y.backward(seed);
      benchmark::DoNotOptimize(x.grad().data().data());
    }
    benchmark::DoNotOptimize(y.data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

void lsq(benchmark::State& state, int b, bool backward, int threads) {
  xgrad::set_num_threads(threads);
  auto x = input(backward);
  const auto u = bench::uniform_qparams(b);
  auto scale = xgrad::tensor<float>({float(u.scale)}, backward);
  auto zero_point = xgrad::tensor<float>({0.0f}, backward);
  const xt::xarray<float> seed = xt::ones<float>({bench::kFakeQuantSize});
  for (auto _ : state) {
    x.zero_grad();
    scale.zero_grad();
    zero_point.zero_grad();
    auto y = xgrad::quant::fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, 0,
                                                                     u.quant_max, 1.0);
    if (backward) {
      y.backward(seed);
      benchmark::DoNotOptimize(x.grad().data().data());
    }
    benchmark::DoNotOptimize(y.data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

const bool registered = [] {
  bench::add_learnable_fq_cases("xgrad",
                                [](const std::string& op) { return op == "rcf" ? rcf : lsq; });
  return true;
}();

}  // namespace
