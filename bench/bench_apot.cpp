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

#include <functional>
#include <string>

#include "bench_apot_data.hpp"
#include "use_threads_isa.hpp"
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

// One case's settings: the fake quantization (APoT or uniform), size, bits,
// threads and the instruction set (the default one unless a variant is
// measured).
struct Setup {
  bool apot;
  std::size_t n;
  int b, threads;
  SimdIsa isa;
};

using FakeQuantize = std::function<xgrad::Tensor<float>(const xgrad::Tensor<float>&)>;

// The case's fake quantization, its qparams computed before the timed loop.
FakeQuantize fake_quantize(const Setup& s) {
  if (s.apot) {
    return [q = apot_qparams(s.b)](const xgrad::Tensor<float>& x) {
      return xgrad::quant::fake_quantize_APoT(x, q);
    };
  }
  return [u = bench::uniform_qparams(s.b)](const xgrad::Tensor<float>& x) {
    return xgrad::quant::fake_quantize_per_tensor_affine(x, u.scale, 0, 0, u.quant_max);
  };
}

void forward(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  const auto x = input(s.n, false);
  const FakeQuantize fq = fake_quantize(s);
  const bench::MinorFaults faults;
  for (auto _ : state) {
    auto y = fq(x);
    benchmark::DoNotOptimize(y.data().data());
  }
  faults.report(state);
  state.SetItemsProcessed(state.iterations() * int64_t(s.n));
}

void forward_backward(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  auto x = input(s.n, true);
  const FakeQuantize fq = fake_quantize(s);
  const xt::xarray<float> seed = xt::ones<float>({s.n});
  const bench::MinorFaults faults;
  for (auto _ : state) {
    x.zero_grad();
    auto y = fq(x);
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
      for (bool apot : {true, false}) {
        const std::string name = std::string("xgrad/") + (apot ? "apot" : "uniform") + "_fq_fwd";
        const Setup s{apot, bench::kFakeQuantSize, b, t, best};
        bench::add_fq_case(bench::with_threads(name + "/" + big, t), forward, s);
        bench::add_fq_case(bench::with_threads(name + "_bwd/" + big, t), forward_backward, s);
      }
    }
    bench::add_fq_case(bench::with_threads("xgrad/apot_fq_fwd/" + small, 1), forward,
                       Setup{true, bench::kInCacheSize, b, 1, best});
    // Each instruction set, one thread: in cache and in memory.
    for (SimdIsa isa : xgrad::quant::supported_simd_isas()) {
      const std::string v = std::string("/isa:") + xgrad::quant::to_string(isa);
      bench::add_fq_case("xgrad/apot_fq_fwd/" + small + v, forward,
                         Setup{true, bench::kInCacheSize, b, 1, isa});
      bench::add_fq_case("xgrad/uniform_fq_fwd/" + big + v, forward,
                         Setup{false, bench::kFakeQuantSize, b, 1, isa});
    }
  }
  return true;
}();

}  // namespace
