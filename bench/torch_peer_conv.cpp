// The libtorch peer of bench_conv.cpp: the same workloads, registered as
// "torch/<case>". In its own translation unit because <torch/torch.h> takes
// ~15 s to compile.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_conv_data.hpp"
#include "bench_threads.hpp"
#include "convert_torch.hpp"
#include "torch_threads.hpp"

namespace {

// The peer runs in float only.
torch::Tensor to_torch(const std::vector<double>& v, std::vector<int64_t> shape) {
  return bench::to_torch<float>(v, std::move(shape));
}

void conv_step(benchmark::State& state, int threads) {
  bench::use_torch_threads(threads);
  const auto& s = bench::kConvStep;
  const auto d = bench::conv_data(s);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(s.c, s.out, s.kernel).padding(s.padding));
  {
    torch::NoGradGuard no_grad;
    conv->weight.copy_(to_torch(d.weight, {s.out, s.c, s.kernel, s.kernel}));
    conv->bias.copy_(to_torch(d.bias, {s.out}));
  }
  auto x = to_torch(d.x, {s.n, s.c, s.h, s.w}).set_requires_grad(true);
  const auto seed = torch::ones({s.n, s.out, s.h, s.w});
  const bench::MinorFaults faults;
  for (auto _ : state) {
    conv->zero_grad();
    x.mutable_grad() = torch::Tensor();
    conv->forward(x).backward(seed);
    benchmark::DoNotOptimize(x.grad().data_ptr());
  }
  faults.report(state);
}

void lenet_step(benchmark::State& state, int threads) {
  bench::use_torch_threads(threads);
  const auto d = bench::lenet_data();
  torch::nn::Sequential model(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 6, 5).padding(2)), torch::nn::ReLU(),
      torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)),
      torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(), torch::nn::Linear(400, 120),
      torch::nn::ReLU(), torch::nn::Linear(120, 84), torch::nn::ReLU(), torch::nn::Linear(84, 10));
  auto params = model->parameters();
  const auto shapes = bench::lenet_parameter_shapes();
  {
    torch::NoGradGuard no_grad;  // the same initial values as the xgrad case
    for (std::size_t i = 0; i < params.size(); ++i)
      params[i].copy_(to_torch(d.params[i], shapes[i]));
  }
  torch::optim::SGD opt(params, torch::optim::SGDOptions(bench::kLearningRate));
  const auto x = to_torch(d.x, {bench::kLenetBatch, 1, 28, 28});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  bench::time_training_steps(
      state, opt, [&] { return torch::nn::functional::cross_entropy(model->forward(x), labels); });
}

const bool registered = [] {
  for (int t : bench::kThreadCounts) {
    bench::add_case(bench::with_threads("torch/conv_step/f32", t), benchmark::kMillisecond,
                    conv_step, t);
    bench::add_case(bench::with_threads("torch/lenet_step/f32", t), benchmark::kMillisecond,
                    lenet_step, t);
  }
  return true;
}();

}  // namespace
