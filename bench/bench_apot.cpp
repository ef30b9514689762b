// APoT fake-quantize throughput (project issue 4): forward and forward +
// backward over 4M float32 elements for b=4 and b=8 (k=2, unsigned levels on
// [0, 1]), beside libtorch's uniform torch::fake_quantize_per_tensor_affine
// with as many bits (torch_peer_apot.cpp, registered as "torch/<case>"), and
// xgrad's own uniform fake_quantize_per_tensor_affine against the same peer.
// Items are elements: Google Benchmark prints M elements/s; the ratio table
// at the end is time xgrad / time libtorch (throughput ratio = 1 / that).
#include <benchmark/benchmark.h>

#include <string>

#include "bench_apot_data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/apot_observer.hpp"
#include "xgrad/quant/fake_quantize_function.hpp"
#include "xgrad/quant/uniform.hpp"
#include "xgrad/tensor.hpp"

namespace {

xgrad::Tensor<float> input(bool requires_grad) {
  const auto v = bench::fake_quant_input();
  xt::xarray<float> a = xt::xarray<float>::from_shape({v.size()});
  std::copy(v.begin(), v.end(), a.begin());
  return xgrad::Tensor<float>(std::move(a), requires_grad);
}

xgrad::quant::APoTQParams<float> apot_qparams(int b) {
  xgrad::quant::APoTObserver<float> observer(b, bench::kApotK);
  observer.set_min_val(0.0f);
  observer.set_max_val(1.0f);
  return observer.calculate_qparams(false);
}

void apot_forward(benchmark::State& state, int b) {
  const auto x = input(false);
  const auto q = apot_qparams(b);
  for (auto _ : state) {
    auto y = xgrad::quant::fake_quantize_APoT(x, q);
    benchmark::DoNotOptimize(y.data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

void apot_forward_backward(benchmark::State& state, int b) {
  auto x = input(true);
  const auto q = apot_qparams(b);
  const xt::xarray<float> seed = xt::ones<float>({bench::kFakeQuantSize});
  for (auto _ : state) {
    x.zero_grad();
    auto y = xgrad::quant::fake_quantize_APoT(x, q);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

void uniform_forward(benchmark::State& state, int b) {
  const auto x = input(false);
  const auto u = bench::uniform_qparams(b);
  for (auto _ : state) {
    auto y = xgrad::quant::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    benchmark::DoNotOptimize(y.data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

void uniform_forward_backward(benchmark::State& state, int b) {
  auto x = input(true);
  const auto u = bench::uniform_qparams(b);
  const xt::xarray<float> seed = xt::ones<float>({bench::kFakeQuantSize});
  for (auto _ : state) {
    x.zero_grad();
    auto y = xgrad::quant::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data().data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(bench::kFakeQuantSize));
}

const bool registered = [] {
  for (int b : {4, 8}) {
    const std::string bits = "b" + std::to_string(b) + "/4M/f32";
    benchmark::RegisterBenchmark(("xgrad/apot_fq_fwd/" + bits).c_str(), apot_forward, b)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("xgrad/apot_fq_fwd_bwd/" + bits).c_str(), apot_forward_backward,
                                 b)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("xgrad/uniform_fq_fwd/" + bits).c_str(), uniform_forward, b)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("xgrad/uniform_fq_fwd_bwd/" + bits).c_str(),
                                 uniform_forward_backward, b)
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
