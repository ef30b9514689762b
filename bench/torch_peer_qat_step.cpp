// libtorch peers of bench_qat_step.cpp (see there): the same MLP, data and SGD
// step; QAT with torch::_fake_quantize_learnable_per_tensor_affine (LSQ, the
// op behind PyTorch's _LearnableFakeQuantize) on both weights (4-bit signed,
// [-8, 7]) and fc2's input (4-bit unsigned, [0, 15]), with LSQ's
// gradient factor 1 / sqrt(numel * quant_max) and the scale clamp
// _LearnableFakeQuantize applies each forward.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "bench_conv_data.hpp"
#include "bench_data.hpp"
#include "bench_threads.hpp"
#include "convert_torch.hpp"
#include "torch_lenet.hpp"
#include "torch_threads.hpp"

namespace {

constexpr bench::MlpShape kQatMlp{784, 256, 10, 128};

torch::Tensor to_torch(const std::vector<double>& v, std::vector<int64_t> shape) {
  return bench::to_torch<float>(v, std::move(shape));
}

using bench::Lsq;
using bench::standardize;

enum class Mode { float_model, rcf, lsq };

void step(benchmark::State& state, Mode mode, int threads) {
  bench::use_torch_threads(threads);
  const auto s = kQatMlp;
  auto d = bench::mlp_data(s);
  for (auto& v : d.x) v = std::abs(v);
  const int64_t in = s.in, hidden = s.hidden, out = s.out, batch = s.batch;
  torch::nn::Linear fc1(in, hidden), fc2(hidden, out);
  {
    torch::NoGradGuard no_grad;  // the same initial values as the xgrad case
    fc1->weight.copy_(to_torch(d.w1, {hidden, in}));
    fc1->bias.copy_(to_torch(d.b1, {hidden}));
    fc2->weight.copy_(to_torch(d.w2, {out, hidden}));
    fc2->bias.copy_(to_torch(d.b2, {out}));
  }
  const auto x = to_torch(d.x, {batch, in});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  const bool norm = mode == Mode::rcf;
  torch::Tensor h0;
  {
    torch::NoGradGuard no_grad;
    h0 = torch::relu(fc1->forward(x));
  }
  Lsq w1q(norm ? standardize(fc1->weight.detach()) : fc1->weight.detach(), -8, 7);
  Lsq w2q(norm ? standardize(fc2->weight.detach()) : fc2->weight.detach(), -8, 7);
  Lsq a2q(h0, 0, 15);
  std::vector<torch::Tensor> params = {fc1->weight, fc1->bias, fc2->weight, fc2->bias};
  if (mode != Mode::float_model) {
    for (auto* q : {&w1q, &w2q, &a2q}) {
      params.push_back(q->scale);
      params.push_back(q->zero_point);
    }
  }
  auto weight = [norm](Lsq& q, const torch::Tensor& w) {
    if (!norm) return q(w);
    return q(standardize(w)) * w.std().detach();
  };
  torch::optim::SGD opt(params, torch::optim::SGDOptions(bench::kLearningRate));
  for (auto _ : state) {
    opt.zero_grad();
    torch::Tensor logits;
    if (mode == Mode::float_model) {
      logits = fc2->forward(torch::relu(fc1->forward(x)));
    } else {
      auto h = torch::relu(torch::linear(x, weight(w1q, fc1->weight), fc1->bias));
      logits = torch::linear(a2q(h), weight(w2q, fc2->weight), fc2->bias);
    }
    auto loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
    opt.step();
  }
}

// LeNet-5 (see bench_qat_step.cpp; torch_lenet.hpp): the float step, and
// the experiment's APoT QAT model composed from torch ops: conv2, fc1, fc2
// with normalized weights through Lsq (4-bit signed) times the detached std,
// and Lsq on their inputs (4-bit unsigned, initialized from a float forward);
// conv1's and fc3's weights 8-bit (int8_weight), fc3's input 8-bit unsigned
// with the step calibrated once (max / 255).
void lenet_step(benchmark::State& state, bool qat, int threads) {
  bench::use_torch_threads(threads);
  const auto d = bench::lenet_data();
  const bench::TorchLenet net(d);
  const auto x = to_torch(d.x, {bench::kLenetBatch, 1, 28, 28});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  const auto h = net.layer_inputs(x);
  const auto w = [&net](std::size_t i) { return standardize(net.p[i].detach()); };
  Lsq wq2(w(2), -8, 7), wq3(w(4), -8, 7), wq4(w(6), -8, 7);
  Lsq aq2(h[1], 0, 15), aq3(h[2], 0, 15), aq4(h[3], 0, 15);
  const double fc3_input_step = h[4].max().item<double>() / 255;
  std::vector<torch::Tensor> params = net.p;
  if (qat) {
    for (auto* q : {&wq2, &wq3, &wq4, &aq2, &aq3, &aq4}) {
      params.push_back(q->scale);
      params.push_back(q->zero_point);
    }
  }
  Lsq* const wq[] = {nullptr, &wq2, &wq3, &wq4, nullptr};
  Lsq* const aq[] = {nullptr, &aq2, &aq3, &aq4, nullptr};
  const auto weight = [&](int i, const torch::Tensor& t) {
    return wq[i] ? bench::normalized(*wq[i], t) : bench::int8_weight(t);
  };
  const auto input = [&](int i, const torch::Tensor& t) {
    return aq[i] ? (*aq[i])(t)
                 : torch::fake_quantize_per_tensor_affine(t, fc3_input_step, 0, 0, 255);
  };
  torch::optim::SGD opt(params, torch::optim::SGDOptions(bench::kLearningRate));
  bench::time_training_steps(state, opt, [&] {
    return torch::nn::functional::cross_entropy(
        qat ? net.forward(x, weight, input) : net.forward(x), labels);
  });
}

const bool registered = [] {
  const std::string shape = kQatMlp.name() + "/f32";
  const auto us = benchmark::kMicrosecond;
  for (int t : bench::kThreadCounts) {
    const auto name = [&](const char* c) {
      return bench::with_threads("torch/" + std::string(c) + "/" + shape, t);
    };
    bench::add_case(name("float_step"), us, step, Mode::float_model, t);
    bench::add_case(name("qat_step_rcf"), us, step, Mode::rcf, t);
    bench::add_case(name("qat_step_lsq"), us, step, Mode::lsq, t);
    bench::add_case(bench::with_threads("torch/lenet_float_step/f32", t), us, lenet_step, false, t);
    bench::add_case(bench::with_threads("torch/lenet_qat_step/f32", t), us, lenet_step, true, t);
  }
  return true;
}();

}  // namespace
