// Per-layer times of the converted LeNet-5 and the float one
// (lenet_models.hpp), for profiling bench_lenet_inference's ratio: each
// layer's forward timed in thread CPU time (steadier than wall time on a busy
// machine), the two models interleaved layer by layer in one process, one
// thread, no gradient; and the converted model once more with its integer
// path off (column "lut us": the lookup-table kernels where the integer path
// would run).
//
//   build/bench/lenet_layers [bits=4] [batch=1] [repeats]
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "lenet_models.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace {

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const int bits = argc > 1 ? std::stoi(argv[1]) : 4;
  const std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 1;
  const int repeats = argc > 3 ? std::stoi(argv[3]) : (batch == 1 ? 3000 : 60);
  const bench::LenetModels m = bench::lenet_models(bits);
  xgrad::set_num_threads(1);
  xgrad::NoGradGuard no_grad;
  xgrad::Generator gen(2);
  const xgrad::Tensor<float> x = xgrad::randn<float>({batch, 1, 28, 28}, gen);
  const std::size_t layers = m.float_net->size();
  std::vector<double> tf(layers, 0.0), tc(layers, 0.0), tl(layers, 0.0);
  auto integer_path = [&](bool on) {
    for (std::size_t i = 0; i < layers; ++i)
      if (auto* q = (*m.converted)[i]->as<xgrad::quant::quantized::QuantizedLayer<float>>())
        q->enable_integer_kernel(on);
  };
  for (int r = 0; r < repeats; ++r) {
    for (int which = 0; which < 3; ++which) {
      const auto& net = which ? m.converted : m.float_net;
      std::vector<double>& t = which == 0 ? tf : which == 1 ? tc : tl;
      integer_path(which != 2);
      xgrad::Tensor<float> h = x;
      for (std::size_t i = 0; i < layers; ++i) {
        const double t0 = cpu_seconds();
        h = (*net)[i]->forward(h);
        t[i] += cpu_seconds() - t0;
      }
    }
  }
  integer_path(true);
  double sf = 0, sc = 0, sl = 0;
  std::printf("LeNet-5 APoT %d-bit, batch %zu, 1 thread, %d repeats, quantization kernels %s\n",
              bits, batch, repeats, xgrad::quant::to_string(xgrad::quant::simd_isa()));
  std::printf("%-6s %-20s %-28s %12s %12s %8s %12s\n", "layer", "float", "converted path",
              "float us", "conv. us", "ratio", "lut us");
  for (std::size_t i = 0; i < layers; ++i) {
    const auto* q = (*m.converted)[i]->as<xgrad::quant::quantized::QuantizedLayer<float>>();
    std::printf("%-6zu %-20s %-28s %12.2f %12.2f %8.2f %12.2f\n", i,
                (*m.float_net)[i]->type_name().c_str(), q ? q->kernel().c_str() : "(float)",
                tf[i] / repeats * 1e6, tc[i] / repeats * 1e6, tc[i] / std::max(tf[i], 1e-12),
                tl[i] / repeats * 1e6);
    sf += tf[i];
    sc += tc[i];
    sl += tl[i];
  }
  std::printf("%-6s %-20s %-28s %12.2f %12.2f %8.2f %12.2f\n", "total", "", "", sf / repeats * 1e6,
              sc / repeats * 1e6, sc / sf, sl / repeats * 1e6);
  return 0;
}
