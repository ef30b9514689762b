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
#include "torch_threads.hpp"

namespace {

constexpr bench::MlpShape kQatMlp{784, 256, 10, 128};

torch::Tensor to_torch(const std::vector<double>& v, std::vector<int64_t> shape) {
  return bench::to_torch<float>(v, std::move(shape));
}

// One learnable per-tensor quantizer: scale and zero point as parameters.
struct Lsq {
  torch::Tensor scale, zero_point;
  int64_t qmin, qmax;
  Lsq(const torch::Tensor& init_from, int64_t quant_min, int64_t quant_max)
      : qmin(quant_min), qmax(quant_max) {
    // LSQ's initial step 2 mean|x| / sqrt(qmax).
    const double s = 2 * init_from.abs().mean().item<double>() / std::sqrt(double(quant_max));
    scale = torch::full({1}, s).set_requires_grad(true);
    zero_point = torch::zeros({1}).set_requires_grad(true);
  }
  torch::Tensor operator()(const torch::Tensor& x) {
    {
      torch::NoGradGuard no_grad;
      scale.clamp_min_(std::numeric_limits<float>::epsilon());
    }
    const double grad_factor = 1.0 / std::sqrt(double(x.numel()) * double(qmax));
    return torch::_fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, qmin, qmax,
                                                             grad_factor);
  }
};

// The authors' weight normalization: (W - mean) / (std + eps) * std.detach().
torch::Tensor standardize(const torch::Tensor& w) { return (w - w.mean()) / (w.std() + 1e-5); }

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

// LeNet-5 (see bench_qat_step.cpp): the float step, and the experiment's APoT
// QAT model composed from torch ops: conv2, fc1, fc2 with normalized weights
// through Lsq (4-bit signed) times the detached std, and Lsq on their inputs
// (4-bit unsigned, initialized from a float forward); conv1's and fc3's
// weights 8-bit symmetric with the step of PyTorch's MinMaxObserver
// (max |W| / 127.5, recomputed every step), fc3's input 8-bit unsigned with
// the step calibrated once (max / 255).
void lenet_step(benchmark::State& state, bool qat, int threads) {
  bench::use_torch_threads(threads);
  const auto d = bench::lenet_data();
  const auto shapes = bench::lenet_parameter_shapes();
  std::vector<torch::Tensor> p;  // conv1.w, conv1.b, conv2.w, ..., fc3.b
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    p.push_back(to_torch(d.params[i], shapes[i]).set_requires_grad(true));
  }
  const auto x = to_torch(d.x, {bench::kLenetBatch, 1, 28, 28});
  const auto labels = torch::tensor(d.labels, torch::kInt64);
  namespace F = torch::nn::functional;
  const auto pool = [](const torch::Tensor& h) {
    return F::max_pool2d(h, F::MaxPool2dFuncOptions(2));
  };
  const auto conv1 = [&](const torch::Tensor& w) {
    return pool(torch::relu(F::conv2d(x, w, F::Conv2dFuncOptions().bias(p[1]).padding(2))));
  };
  const auto conv2 = [&](const torch::Tensor& h, const torch::Tensor& w) {
    return pool(torch::relu(F::conv2d(h, w, F::Conv2dFuncOptions().bias(p[3])))).flatten(1);
  };
  // Float activations, to initialize the input quantizers.
  torch::Tensor h1, h2, h3, h4;
  {
    torch::NoGradGuard no_grad;
    h1 = conv1(p[0]);
    h2 = conv2(h1, p[2]);
    h3 = torch::relu(torch::linear(h2, p[4], p[5]));
    h4 = torch::relu(torch::linear(h3, p[6], p[7]));
  }
  const auto w = [](const torch::Tensor& t) { return standardize(t.detach()); };
  Lsq wq2(w(p[2]), -8, 7), wq3(w(p[4]), -8, 7), wq4(w(p[6]), -8, 7);
  Lsq aq2(h1, 0, 15), aq3(h2, 0, 15), aq4(h3, 0, 15);
  const double fc3_input_step = h4.max().item<double>() / 255;
  std::vector<torch::Tensor> params = p;
  if (qat) {
    for (auto* q : {&wq2, &wq3, &wq4, &aq2, &aq3, &aq4}) {
      params.push_back(q->scale);
      params.push_back(q->zero_point);
    }
  }
  const auto normalized = [](Lsq& q, const torch::Tensor& t) {
    return q(standardize(t)) * t.std().detach();
  };
  const auto int8_weight = [](const torch::Tensor& t) {
    const double step = t.detach().abs().max().item<double>() / 127.5;
    return torch::fake_quantize_per_tensor_affine(t, step, 0, -128, 127);
  };
  torch::optim::SGD opt(params, torch::optim::SGDOptions(bench::kLearningRate));
  bench::time_training_steps(state, opt, [&] {
    torch::Tensor logits;
    if (!qat) {
      auto h = conv2(conv1(p[0]), p[2]);
      h = torch::relu(torch::linear(torch::relu(torch::linear(h, p[4], p[5])), p[6], p[7]));
      logits = torch::linear(h, p[8], p[9]);
    } else {
      auto h = conv2(aq2(conv1(int8_weight(p[0]))), normalized(wq2, p[2]));
      h = torch::relu(torch::linear(aq3(h), normalized(wq3, p[4]), p[5]));
      h = torch::relu(torch::linear(aq4(h), normalized(wq4, p[6]), p[7]));
      h = torch::fake_quantize_per_tensor_affine(h, fc3_input_step, 0, 0, 255);
      logits = torch::linear(h, int8_weight(p[8]), p[9]);
    }
    return F::cross_entropy(logits, labels);
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
