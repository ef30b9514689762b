// The libtorch peer of bench_engine.cpp: the same workloads, registered as
// "torch/<case>", so the ratio table can pair them. In its own translation
// unit because <torch/torch.h> takes ~15 s to compile.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_data.hpp"
#include "convert_torch.hpp"
#include "engine_cases.hpp"
#include "torch_threads.hpp"

namespace {

using bench::MlpShape;
using bench::to_torch;

template <class T>
void tiny_chain(benchmark::State& state, int threads) {
  bench::use_torch_threads(threads);
  const auto dtype = sizeof(T) == 4 ? torch::kFloat32 : torch::kFloat64;
  auto a = torch::full({int64_t(bench::kTinySize)}, 0.5, dtype).set_requires_grad(true);
  auto b = torch::full({int64_t(bench::kTinySize)}, 0.999, dtype).set_requires_grad(true);
  const auto seed = torch::ones({int64_t(bench::kTinySize)}, dtype);
  for (auto _ : state) {
    a.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
    auto c = a;
    for (int i = 0; i < bench::kChainSteps; ++i) c = c * b + a;
    c.backward(seed);
    benchmark::DoNotOptimize(a.grad().data_ptr());
  }
  state.counters["per_op"] =
      benchmark::Counter(bench::kChainOps, benchmark::Counter::kIsIterationInvariantRate |
                                               benchmark::Counter::kInvert);
}

template <class T>
void tiny_add(benchmark::State& state, int threads) {
  bench::use_torch_threads(threads);
  const auto dtype = sizeof(T) == 4 ? torch::kFloat32 : torch::kFloat64;
  const auto a = torch::full({int64_t(bench::kTinySize)}, 0.5, dtype);
  const auto b = torch::full({int64_t(bench::kTinySize)}, 0.25, dtype);
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data_ptr());
  }
}

// zero_grad, forward, cross-entropy, backward and a hand-written SGD update.
template <class T>
void mlp_step(benchmark::State& state, MlpShape s, int threads) {
  bench::use_torch_threads(threads);
  const auto d = bench::mlp_data(s);
  const int64_t in = s.in, hidden = s.hidden, out = s.out, batch = s.batch;
  std::vector<torch::Tensor> params = {to_torch<T>(d.w1, {hidden, in}).set_requires_grad(true),
                                       to_torch<T>(d.b1, {hidden}).set_requires_grad(true),
                                       to_torch<T>(d.w2, {out, hidden}).set_requires_grad(true),
                                       to_torch<T>(d.b2, {out}).set_requires_grad(true)};
  const auto x = to_torch<T>(d.x, {batch, in});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  for (auto _ : state) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    auto h = torch::relu(torch::linear(x, params[0], params[1]));
    auto loss =
        torch::nn::functional::cross_entropy(torch::linear(h, params[2], params[3]), labels);
    loss.backward();
    torch::NoGradGuard no_grad;
    for (auto& p : params) p.sub_(p.grad(), bench::kLearningRate);
  }
}

// The same step through torch::nn modules and torch::optim::SGD.
template <class T>
void module_step(benchmark::State& state, MlpShape s, int threads) {
  bench::use_torch_threads(threads);
  const auto d = bench::mlp_data(s);
  const int64_t in = s.in, hidden = s.hidden, out = s.out, batch = s.batch;
  const auto dtype = sizeof(T) == 4 ? torch::kFloat32 : torch::kFloat64;
  torch::nn::Linear fc1(in, hidden), fc2(hidden, out);
  fc1->to(dtype);
  fc2->to(dtype);
  {
    torch::NoGradGuard no_grad;  // the same initial values as the xgrad case
    fc1->weight.copy_(to_torch<T>(d.w1, {hidden, in}));
    fc1->bias.copy_(to_torch<T>(d.b1, {hidden}));
    fc2->weight.copy_(to_torch<T>(d.w2, {out, hidden}));
    fc2->bias.copy_(to_torch<T>(d.b2, {out}));
  }
  torch::nn::Sequential model(fc1, torch::nn::ReLU(), fc2);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(bench::kLearningRate));
  const auto x = to_torch<T>(d.x, {batch, in});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  bench::time_training_steps(
      state, opt, [&] { return torch::nn::functional::cross_entropy(model->forward(x), labels); });
}

template <class T>
void register_all() {
  bench::register_engine_cases<T>("torch",
                                  {tiny_chain<T>, tiny_add<T>, mlp_step<T>, module_step<T>});
}

const bool registered = (register_all<float>(), register_all<double>(), true);

}  // namespace
