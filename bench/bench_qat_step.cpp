// QAT training step (project issue 8): MLP 784-256-10, batch 128, one SGD
// step, float32, at 1 and 2 threads ("/t1", "/t2"). Cases, registered as "xgrad/<case>" (the
// libtorch peers, torch_peer_qat.cpp, as "torch/<case>"):
//   float_step    the float model (the budget: qat_step_rcf <= 1.3x of it);
//   qat_step_rcf  prepare_qat with apot_rcf_qconfig(4): weight standardization
//                 + std rescale, RCF on both weights and on the hidden
//                 activations (fc2's input), learnable alphas, clamp_alpha_
//                 after the step. As in the paper and docs/experiment.md, the image
//                 input is not quantized (fc1 is overridden to weights only): a
//                 learnable quantizer there would add a third large gemm (the
//                 input gradient fc1 otherwise never needs) to both sides. The peer is the
//                 nearest libtorch has: the same weight normalization composed
//                 from torch ops and its learnable fake quantize
//                 (_fake_quantize_learnable_per_tensor_affine, LSQ) in RCF's place;
//   qat_step_lsq  uniform_lsq_qconfig(4) (no normalization) against libtorch's
//                 learnable fake quantize on the same tensors: like for like;
//   qat_step_rcf_no_norm  qat_step_rcf without the weight normalization
//                 (xgrad only): what the normalization costs.
// The inputs are |uniform(-1, 1)| (pixel-like, for the unsigned input
// quantizers). Calibration runs once before timing.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <xtensor/xadapt.hpp>

#include "bench_data.hpp"
#include "bench_threads.hpp"
#include "convert_xgrad.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/qat/workflow.hpp"

namespace {

constexpr bench::MlpShape kQatMlp{784, 256, 10, 128};

using bench::to_xgrad;

enum class Mode { float_model, rcf, lsq, rcf_no_norm };

void step(benchmark::State& state, Mode mode, int threads) {
  xgrad::set_num_threads(threads);
  using T = float;
  const auto s = kQatMlp;
  auto d = bench::mlp_data(s);
  for (auto& v : d.x) v = std::abs(v);
  const auto net = bench::mlp_model<T>(s, d);  // the same initial values as the peer
  xgrad::nn::Sequential<T>& model = *net;
  const auto x = to_xgrad<T>(d.x, {s.batch, s.in});
  if (mode != Mode::float_model) {
    using xgrad::quant::QuantMethod;
    const auto method = mode == Mode::lsq ? QuantMethod::uniform_lsq : QuantMethod::apot_rcf;
    const auto norm = mode == Mode::rcf ? xgrad::quant::WeightNorm::standardize_rescale
                                        : xgrad::quant::WeightNorm::none;
    const xgrad::quant::QuantizerSpec weights{method, 4, true}, inputs{method, 4, false};
    xgrad::quant::prepare_qat<T>(
        model, xgrad::quant::make_qconfig<T>(weights, inputs, norm),
        {{"0", xgrad::quant::make_qconfig<T>(weights, std::nullopt, norm)}});
    xgrad::quant::calibrate<T>(model, {x});
    xgrad::quant::freeze(model);
  }
  xgrad::optim::SGD<T> opt(model.parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
  const xgrad::Labels labels = xt::adapt(d.labels, {s.batch});
  for (auto _ : state) {
    opt.zero_grad();
    auto loss = xgrad::cross_entropy(model.forward(x), labels);
    loss.backward();
    opt.step();
    if (mode == Mode::rcf || mode == Mode::rcf_no_norm) xgrad::quant::clamp_alpha_(model);
  }
}

const bool registered = [] {
  const std::string shape = kQatMlp.name() + "/f32";
  const auto us = benchmark::kMicrosecond;
  for (int t : bench::kThreadCounts) {
    const auto name = [&](const char* c) {
      return bench::with_threads("xgrad/" + std::string(c) + "/" + shape, t);
    };
    bench::add_case(name("float_step"), us, step, Mode::float_model, t);
    bench::add_case(name("qat_step_rcf"), us, step, Mode::rcf, t);
    bench::add_case(name("qat_step_lsq"), us, step, Mode::lsq, t);
    bench::add_case(name("qat_step_rcf_no_norm"), us, step, Mode::rcf_no_norm, t);
  }
  return true;
}();

}  // namespace
