// Engine benchmarks (project issues 2 and 3): per-op overhead on tiny tensors,
// a hand-written MLP training step, and the same step through nn modules and
// optim::SGD. Registered as "xgrad/<case>"; torch_peer_engine.cpp registers
// the libtorch peer of each case as "torch/<case>" when libtorch is installed.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>
#include <xtensor/xadapt.hpp>

#include "bench_data.hpp"
#include "convert_xgrad.hpp"
#include "engine_cases.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/tensor.hpp"

namespace {

using bench::MlpShape;
using bench::to_xgrad;

// 50 times `c = c * b + a` on 8 elements with grad, then backward: the
// per-op cost of recording and back-propagating one tiny op.
template <class T>
void tiny_chain(benchmark::State& state, int threads) {
  xgrad::set_num_threads(threads);
  auto a = xgrad::full<T>({bench::kTinySize}, T(0.5), true);
  auto b = xgrad::full<T>({bench::kTinySize}, T(0.999), true);
  const xt::xarray<T> seed = xt::ones<T>({bench::kTinySize});
  for (auto _ : state) {
    a.zero_grad();
    b.zero_grad();
    auto c = a;
    for (int i = 0; i < bench::kChainSteps; ++i) c = c * b + a;
    c.backward(seed);
    benchmark::DoNotOptimize(a.grad().data().data());
  }
  state.counters["per_op"] =
      benchmark::Counter(bench::kChainOps, benchmark::Counter::kIsIterationInvariantRate |
                                               benchmark::Counter::kInvert);
}

template <class T>
void tiny_add(benchmark::State& state, int threads) {
  xgrad::set_num_threads(threads);
  const auto a = xgrad::full<T>({bench::kTinySize}, T(0.5));
  const auto b = xgrad::full<T>({bench::kTinySize}, T(0.25));
  for (auto _ : state) {
    auto c = a + b;
    benchmark::DoNotOptimize(c.data().data());
  }
}

// zero_grad, forward, cross-entropy, backward and a hand-written SGD update.
template <class T>
void mlp_step(benchmark::State& state, MlpShape s, int threads) {
  xgrad::set_num_threads(threads);
  const auto d = bench::mlp_data(s);
  std::vector<xgrad::Tensor<T>> params = {
      to_xgrad<T>(d.w1, {s.hidden, s.in}, true), to_xgrad<T>(d.b1, {s.hidden}, true),
      to_xgrad<T>(d.w2, {s.out, s.hidden}, true), to_xgrad<T>(d.b2, {s.out}, true)};
  const auto x = to_xgrad<T>(d.x, {s.batch, s.in});
  const xgrad::Labels labels = xt::adapt(d.labels, {s.batch});
  const T lr = T(bench::kLearningRate);
  for (auto _ : state) {
    for (auto& p : params) p.zero_grad();
    auto h = xgrad::relu(xgrad::linear(x, params[0], params[1]));
    auto loss = xgrad::cross_entropy(xgrad::linear(h, params[2], params[3]), labels);
    loss.backward();
    xgrad::NoGradGuard no_grad;
    for (auto& p : params) {
      const xt::xarray<T>& g = p.grad().data();
      T* w = p.mutable_data().data();
      for (std::size_t i = 0; i < g.size(); ++i) w[i] -= lr * g.data()[i];
    }
  }
}

// The same step through nn::Sequential and optim::SGD (the libtorch peer uses
// torch::nn::Sequential and torch::optim::SGD).
template <class T>
void module_step(benchmark::State& state, MlpShape s, int threads) {
  xgrad::set_num_threads(threads);
  const auto d = bench::mlp_data(s);
  const auto net = bench::mlp_model<T>(s, d);  // the same initial values as the peer
  xgrad::nn::Sequential<T>& model = *net;
  xgrad::optim::SGD<T> opt(model.parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
  const auto x = to_xgrad<T>(d.x, {s.batch, s.in});
  const xgrad::Labels labels = xt::adapt(d.labels, {s.batch});
  bench::time_training_steps(state, opt,
                             [&] { return xgrad::cross_entropy(model.forward(x), labels); });
}

template <class T>
void register_all() {
  bench::register_engine_cases<T>("xgrad",
                                  {tiny_chain<T>, tiny_add<T>, mlp_step<T>, module_step<T>});
}

const bool registered = (register_all<float>(), register_all<double>(), true);

}  // namespace
