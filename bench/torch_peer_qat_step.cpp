// libtorch peers of bench_qat_step.cpp (see there): the same MLP, data and SGD
// step; QAT with torch::_fake_quantize_learnable_per_tensor_affine (LSQ, the
// op behind PyTorch's _LearnableFakeQuantize) on both weights (4-bit signed,
// [-8, 7]) and fc2's input (4-bit unsigned, [0, 15]), with LSQ's
// gradient factor 1 / sqrt(numel * quant_max) and the scale clamp
// _LearnableFakeQuantize applies each forward.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>

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
  }
  return true;
}();

}  // namespace
