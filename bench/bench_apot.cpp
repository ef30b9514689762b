// APoT fake-quantize throughput (project issues 4 and 12): forward and forward
// + backward over 4M float32 elements for b=4 and b=8 (k=2, unsigned levels on
// [0, 1]) at 1 and 2 threads, beside libtorch's uniform
// torch::fake_quantize_per_tensor_affine with as many bits at the same thread
// count (torch_peer_apot.cpp, registered as "torch/<case>"), and xgrad's own
// uniform fake_quantize_per_tensor_affine against the same peer. The forward
// also runs on 64K elements (in cache), and once per SIMD instruction set the
// CPU supports ("/isa:<name>"). Items are elements: Google Benchmark prints M
// elements/s; "minflt" counts minor page faults per iteration. The ratio
// table at the end is time xgrad / time libtorch (throughput ratio = 1 / that).
#include <benchmark/benchmark.h>

#include <string>

#include "bench_apot_data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/quant/observers/uniform_qparams.hpp"
#include "xgrad/tensor.hpp"

namespace {

using xgrad::quant::SimdIsa;

xgrad::Tensor<float> input(std::size_t n, bool requires_grad) {
  const auto v = bench::fake_quant_input(n);
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

// One case's settings: size, bits, threads and the instruction set (the
// default one unless a variant is measured).
struct Setup {
  std::size_t n;
  int b, threads;
  SimdIsa isa;
};

// Applies the settings for the duration of a case.
struct Use {
  SimdIsa saved = xgrad::quant::simd_isa();
  explicit Use(const Setup& s) {
    xgrad::set_num_threads(s.threads);
    xgrad::quant::set_simd_isa(s.isa);
  }
  ~Use() { xgrad::quant::set_simd_isa(saved); }
};

void apot_forward(benchmark::State& state, Setup s) {
  const Use use(s);
  const auto x = input(s.n, false);
  const auto q = apot_qparams(s.b);
  const bench::MinorFaults faults;
  for (auto _ : state) {
    auto y = xgrad::quant::fake_quantize_APoT(x, q);
    benchmark::DoNotOptimize(y.data().data());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

void apot_forward_backward(benchmark::State& state, Setup s) {
  const Use use(s);
  auto x = input(s.n, true);
  const auto q = apot_qparams(s.b);
  const xt::xarray<float> seed = xt::ones<float>({s.n});
  const bench::MinorFaults faults;
  for (auto _ : state) {
    x.zero_grad();
    auto y = xgrad::quant::fake_quantize_APoT(x, q);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data().data());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

void uniform_forward(benchmark::State& state, Setup s) {
  const Use use(s);
  const auto x = input(s.n, false);
  const auto u = bench::uniform_qparams(s.b);
  const bench::MinorFaults faults;
  for (auto _ : state) {
    auto y = xgrad::quant::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    benchmark::DoNotOptimize(y.data().data());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

void uniform_forward_backward(benchmark::State& state, Setup s) {
  const Use use(s);
  auto x = input(s.n, true);
  const auto u = bench::uniform_qparams(s.b);
  const xt::xarray<float> seed = xt::ones<float>({s.n});
  const bench::MinorFaults faults;
  for (auto _ : state) {
    x.zero_grad();
    auto y = xgrad::quant::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data().data());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

const bool registered = [] {
  const SimdIsa best = xgrad::quant::simd_isa();
  for (int b : {4, 8}) {
    const std::string big = bench::fq_case(b, bench::kFakeQuantSize);
    const std::string small = bench::fq_case(b, bench::kInCacheSize);
    for (int t : bench::kThreadCounts) {
      const Setup s{bench::kFakeQuantSize, b, t, best};
      bench::add_fq_case(bench::with_threads("xgrad/apot_fq_fwd/" + big, t), apot_forward, s);
      bench::add_fq_case(bench::with_threads("xgrad/apot_fq_fwd_bwd/" + big, t),
                         apot_forward_backward, s);
      bench::add_fq_case(bench::with_threads("xgrad/uniform_fq_fwd/" + big, t), uniform_forward, s);
      bench::add_fq_case(bench::with_threads("xgrad/uniform_fq_fwd_bwd/" + big, t),
                         uniform_forward_backward, s);
    }
    bench::add_fq_case(bench::with_threads("xgrad/apot_fq_fwd/" + small, 1), apot_forward,
                       Setup{bench::kInCacheSize, b, 1, best});
    // Each instruction set, one thread: in cache and in memory.
    for (SimdIsa isa : xgrad::quant::supported_simd_isas()) {
      const std::string v = std::string("/isa:") + xgrad::quant::to_string(isa);
      bench::add_fq_case("xgrad/apot_fq_fwd/" + small + v, apot_forward,
                         Setup{bench::kInCacheSize, b, 1, isa});
      bench::add_fq_case("xgrad/uniform_fq_fwd/" + big + v, uniform_forward,
                         Setup{bench::kFakeQuantSize, b, 1, isa});
    }
  }
  return true;
}();

}  // namespace
