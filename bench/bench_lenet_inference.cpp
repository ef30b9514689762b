// A converted LeNet-5 (project issue 21) against the float one, in one
// process (lenet_models.hpp: APoT RCF at 4 and 2 bits, the first and last
// layers 8-bit uniform as in the experiment; per-layer times: lenet_layers).
// Cases "xgrad/lenet_apot<b>/batch<n>" are the converted model, "blas/lenet_apot<b>/batch<n>" the
// float model it came from (xgrad's float layers on OpenBLAS: the peer of the ratio table, so a
// ratio < 1 means the converted model is faster): batch 1 (latency) and batch 64 (throughput,
// images/s as a counter), at 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench_threads.hpp"
#include "lenet_models.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/random.hpp"

namespace {

using Net = std::shared_ptr<xgrad::nn::Sequential<float>>;

void lenet_case(benchmark::State& state, int bits, std::size_t batch, int threads, bool converted) {
  const bench::LenetModels m = bench::lenet_models(bits);
  const Net& net = converted ? m.converted : m.float_net;
  xgrad::Generator gen(2);
  const xgrad::Tensor<float> x = xgrad::randn<float>({batch, 1, 28, 28}, gen);
  xgrad::set_num_threads(threads);
  xgrad::NoGradGuard no_grad;
  const bench::MinorFaults faults;
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(x));
  faults.report(state);
  state.counters["images/s"] =
      benchmark::Counter(double(batch) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(converted ? "converted" : "float");
  xgrad::set_num_threads(1);
}

const bool registered = [] {
  for (int bits : {4, 2}) {
    for (std::size_t batch : {std::size_t(1), std::size_t(64)}) {
      for (int t : bench::kThreadCounts) {
        const std::string name =
            "lenet_apot" + std::to_string(bits) + "/batch" + std::to_string(batch);
        bench::add_case(bench::with_threads("xgrad/" + name, t), benchmark::kMicrosecond,
                        lenet_case, bits, batch, t, true);
        bench::add_case(bench::with_threads("blas/" + name, t), benchmark::kMicrosecond, lenet_case,
                        bits, batch, t, false);
      }
    }
  }
  return true;
}();

}  // namespace
