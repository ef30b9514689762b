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
//   qat_step_rcf_<isa>    qat_step_rcf at 1 thread with the quantization kernels
//                         (fused weight path loops, level search) of one
//                         instruction set: scalar / avx2 / avx512
// The inputs are |uniform(-1, 1)| (pixel-like, for the unsigned input
// quantizers). Calibration runs once before timing.
//
// LeNet-5 (issue 20), bench_conv's lenet_step workload (batch 64 of 28 x 28,
// one SGD step) on the experiment's model (examples/lenet5.hpp):
//   lenet_float_step  the float model (the baseline of the QAT case, in this
//                     process; bench_conv's lenet_step is the same step);
//   lenet_qat_step    the experiment's APoT QAT model: conv2, fc1, fc2 with
//                     apot_rcf_qconfig(4) (weight normalization + std rescale,
//                     4-bit RCF weights and 4-bit unsigned RCF inputs); the
//                     ends 8-bit: conv1's and fc3's weights uniform symmetric
//                     (min/max observers left on, the range following the
//                     weight), fc3's input 8-bit unsigned with the calibrated
//                     step; the image input float; clamp_alpha_ after the step.
//                     The peer composes the same from torch ops, LSQ's
//                     learnable fake quantize in RCF's place (as above) and
//                     fake_quantize_per_tensor_affine for the 8-bit ends.
// Each QAT case's cost against its float step is printed (bench_main).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <xtensor/xadapt.hpp>

#include "../examples/lenet5.hpp"
#include "bench_conv_data.hpp"
#include "bench_data.hpp"
#include "bench_threads.hpp"
#include "convert_xgrad.hpp"
#include "use_threads_isa.hpp"
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

void step_on(benchmark::State& state, Mode mode) {
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

void step(benchmark::State& state, Mode mode, int threads) {
  const bench::UseThreadsAndIsa use(threads, xgrad::quant::simd_isa());
  step_on(state, mode);
}

// qat_step_rcf on one instruction set of the quantization kernels (the fused
// weight path's loops and the level search), one thread.
void step_isa(benchmark::State& state, xgrad::quant::SimdIsa isa) {
  const bench::UseThreadsAndIsa use(1, isa);
  step_on(state, Mode::rcf);
}

void lenet_step(benchmark::State& state, bool qat, int threads) {
  xgrad::set_num_threads(threads);
  const auto d = bench::lenet_data();
  const auto model = bench::lenet_model(d);  // the same initial values as the peer
  const std::size_t batch = bench::kLenetBatch;
  const auto x = to_xgrad<float>(d.x, {batch, 1, 28, 28});
  if (qat) {
    namespace q = xgrad::quant;
    const q::QuantizerSpec w8{q::QuantMethod::uniform, 8, true};
    const q::QuantizerSpec a8{q::QuantMethod::uniform, 8, false};
    // Layers "0" conv1, "3" conv2, "7" fc1, "9" fc2, "11" fc3.
    q::prepare_qat<float>(
        *model, q::apot_rcf_qconfig<float>(4),
        {{"0", q::make_qconfig<float>(w8, std::nullopt)}, {"11", q::make_qconfig<float>(w8, a8)}});
    q::calibrate<float>(*model, {x});
    q::freeze(*model);
    for (const char* end : {"0", "11"}) {
      for (const auto& [name, m] : model->named_modules()) {
        if (name == std::string(end) + ".weight_fake_quant") {
          m->as<q::FakeQuantizeBase<float>>()->enable_observer();
        }
      }
    }
  }
  xgrad::optim::SGD<float> opt(model->parameters(), xgrad::optim::SGDOptions(bench::kLearningRate));
  const xgrad::Labels labels = xt::adapt(d.labels, {batch});
  const bench::MinorFaults faults;
  for (auto _ : state) {
    opt.zero_grad();
    xgrad::cross_entropy(model->forward(x), labels).backward();
    opt.step();
    if (qat) xgrad::quant::clamp_alpha_(*model);
  }
  faults.report(state);
}

const bool registered = [] {
  const std::string shape = kQatMlp.name() + "/f32";
  const auto us = benchmark::kMicrosecond;
  for (const char* c : {"qat_step_rcf", "qat_step_lsq", "qat_step_rcf_no_norm"}) {
    bench::add_baseline(std::string(c) + "/" + shape, "float_step/" + shape);
  }
  bench::add_baseline("lenet_qat_step/f32", "lenet_float_step/f32");
  for (xgrad::quant::SimdIsa isa : xgrad::quant::supported_simd_isas()) {
    const std::string c = std::string("qat_step_rcf_") + xgrad::quant::to_string(isa);
    bench::add_baseline(c + "/" + shape, "float_step/" + shape);
    bench::add_case(bench::with_threads("xgrad/" + c + "/" + shape, 1), benchmark::kMicrosecond,
                    step_isa, isa);
  }
  for (int t : bench::kThreadCounts) {
    const auto name = [&](const char* c) {
      return bench::with_threads("xgrad/" + std::string(c) + "/" + shape, t);
    };
    bench::add_case(name("float_step"), us, step, Mode::float_model, t);
    bench::add_case(name("qat_step_rcf"), us, step, Mode::rcf, t);
    bench::add_case(name("qat_step_lsq"), us, step, Mode::lsq, t);
    bench::add_case(name("qat_step_rcf_no_norm"), us, step, Mode::rcf_no_norm, t);
    bench::add_case(bench::with_threads("xgrad/lenet_float_step/f32", t), us, lenet_step, false, t);
    bench::add_case(bench::with_threads("xgrad/lenet_qat_step/f32", t), us, lenet_step, true, t);
  }
  return true;
}();

}  // namespace
