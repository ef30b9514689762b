// CNN benchmarks (project issue 7): conv_step (one Conv2d forward + backward)
// and lenet_step (a LeNet-5 training step through nn modules and optim::SGD).
// Each at 1 and 2 threads (bench_threads.hpp). Registered as "xgrad/<case>"; torch_peer_conv.cpp
// registers the libtorch peers as "torch/<case>" when libtorch is installed.
// When xgrad is built with oneDNN (float conv2d's default then), each case
// also runs on im2col + OpenBLAS as "xgrad/<case>@im2col", interleaved in the
// same process (run with --benchmark_enable_random_interleaving=true).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "bench_conv_data.hpp"
#include "bench_threads.hpp"
#include "convert_xgrad.hpp"
#include "xgrad/detail/conv_kernels.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/tensor.hpp"

namespace {

namespace nn = xgrad::nn;
using bench::to_xgrad;

xgrad::Shape shape_of(const std::vector<std::int64_t>& s) {
  return xgrad::Shape(s.begin(), s.end());
}

using xgrad::detail::ConvKernels;

// Sets the kernels float conv2d runs for one case, restoring the default after.
struct UseConvKernels {
  ConvKernels saved = xgrad::detail::conv_kernels();
  explicit UseConvKernels(ConvKernels k) { xgrad::detail::set_conv_kernels(k); }
  ~UseConvKernels() { xgrad::detail::set_conv_kernels(saved); }
};

template <class T>
void conv_step(benchmark::State& state, int threads, ConvKernels kernels) {
  const UseConvKernels use(kernels);
  xgrad::set_num_threads(threads);
  const auto& s = bench::kConvStep;
  const auto d = bench::conv_data(s);
  nn::Conv2d<T> conv(nn::Conv2dOptions(s.c, s.out, s.kernel).padding(s.padding));
  {
    xgrad::NoGradGuard no_grad;
    conv.weight.copy_(to_xgrad<T>(d.weight, conv.weight.shape()));
    conv.bias.copy_(to_xgrad<T>(d.bias, conv.bias.shape()));
  }
  auto x = to_xgrad<T>(d.x, shape_of({s.n, s.c, s.h, s.w}), true);
  const xt::xarray<T> seed = xt::ones<T>(shape_of({s.n, s.out, s.h, s.w}));
  const bench::MinorFaults faults;
  for (auto _ : state) {
    conv.zero_grad();
    x.zero_grad();
    conv(x).backward(seed);
    benchmark::DoNotOptimize(x.grad().data().data());
  }
  faults.report(state);
}

template <class T>
void lenet_step(benchmark::State& state, int threads, ConvKernels kernels) {
  const UseConvKernels use(kernels);
  xgrad::set_num_threads(threads);
  const auto d = bench::lenet_data();
  nn::Sequential<T> model{std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(1, 6, 5).padding(2)),
                          std::make_shared<nn::ReLU<T>>(),
                          std::make_shared<nn::MaxPool2d<T>>(2),
                          std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(6, 16, 5)),
                          std::make_shared<nn::ReLU<T>>(),
                          std::make_shared<nn::MaxPool2d<T>>(2),
                          std::make_shared<nn::Flatten<T>>(),
                          std::make_shared<nn::Linear<T>>(400, 120),
                          std::make_shared<nn::ReLU<T>>(),
                          std::make_shared<nn::Linear<T>>(120, 84),
                          std::make_shared<nn::ReLU<T>>(),
                          std::make_shared<nn::Linear<T>>(84, 10)};
  auto params = model.parameters();
  {
    xgrad::NoGradGuard no_grad;  // the same initial values as the peer
    for (std::size_t i = 0; i < params.size(); ++i) {
      params[i].copy_(to_xgrad<T>(d.params[i], params[i].shape()));
    }
  }
  xgrad::optim::SGD<T> opt(params, xgrad::optim::SGDOptions(bench::kLearningRate));
  const auto x = to_xgrad<T>(d.x, {std::size_t(bench::kLenetBatch), 1, 28, 28});
  const xgrad::Labels labels = xt::adapt(d.labels, {std::size_t(bench::kLenetBatch)});
  bench::time_training_steps(state, opt,
                             [&] { return xgrad::cross_entropy(model.forward(x), labels); });
}

const bool registered = [] {
  const ConvKernels standard = xgrad::detail::conv_kernels();
  for (int t : bench::kThreadCounts) {
    bench::add_case(bench::with_threads("xgrad/conv_step/f32", t), benchmark::kMillisecond,
                    conv_step<float>, t, standard);
    bench::add_case(bench::with_threads("xgrad/lenet_step/f32", t), benchmark::kMillisecond,
                    lenet_step<float>, t, standard);
    if (standard != ConvKernels::im2col) {
      bench::add_case(bench::with_threads("xgrad/conv_step/f32@im2col", t), benchmark::kMillisecond,
                      conv_step<float>, t, ConvKernels::im2col);
      bench::add_case(bench::with_threads("xgrad/lenet_step/f32@im2col", t),
                      benchmark::kMillisecond, lenet_step<float>, t, ConvKernels::im2col);
    }
  }
  return true;
}();

}  // namespace
