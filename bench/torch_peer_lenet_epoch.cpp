// libtorch peer of bench_lenet_epoch.cpp (see there): the same epoch of the
// experiment's LeNet-5 (torch_lenet.hpp) on the same images (the xgrad
// translation unit's buffer, no copy) in libtorch: per epoch a randperm of
// the rows, then per batch of 64 index_select of images and labels,
// zero_grad, forward, cross-entropy, backward, torch::optim::Adam's step, the
// loss read back (as the experiment's progress line does). Quantizers
// composed from torch ops:
//   APoT   as the APoT authors' code composes RCF: weights normalized
//          ((W - mean) / (std + 1e-5), times the detached std after the
//          quantizer), x / alpha clipped to [-1, 1] (weights) or [0, 1]
//          (inputs), the nearest of the level set (xgrad's own levels,
//          experiment_rcf_levels) by argmin over |x - level|, a detached
//          difference for the straight-through estimator, times alpha; alpha
//          learnable (3.0 for weights, the calibration maximum for inputs) and
//          kept positive after each step;
//   LSQ    bench::Lsq (the fused learnable fake quantize with LSQ's gradient
//          factor): weights narrow range [-(2^(b-1) - 1), 2^(b-1) - 1],
//          inputs [0, 2^b - 1], LSQ's initial step;
//   ends   conv1's and fc3's weights int8_weight, fc3's input 8-bit unsigned
//          with the calibrated step (max / 255).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "lenet_epoch.hpp"
#include "torch_lenet.hpp"
#include "torch_threads.hpp"

namespace {

// RCF (see above): learnable alpha, rounding to `levels` (normalized, top 1).
struct Rcf {
  torch::Tensor alpha, levels;
  bool is_signed;
  Rcf(double alpha0, const std::vector<float>& level_set, bool signed_levels)
      : alpha(torch::full({1}, alpha0).set_requires_grad(true)),
        levels(torch::tensor(level_set)),
        is_signed(signed_levels) {}
  torch::Tensor operator()(const torch::Tensor& x) const {
    const auto data = (x / alpha).clamp(is_signed ? -1.0 : 0.0, 1.0);
    const auto nearest = (data.detach().reshape({-1, 1}) - levels).abs().argmin(1);
    const auto q = levels.index_select(0, nearest).view_as(data);
    return ((q - data).detach() + data) * alpha;
  }
  void clamp_alpha_() {
    torch::NoGradGuard no_grad;
    alpha.clamp_min_(1e-3);
  }
};

// The quantizers of one case on conv2, fc1, fc2 (layers 1..3) and the 8-bit
// ends; null for the float model.
struct Quantizers {
  std::vector<std::unique_ptr<Rcf>> rcf_w, rcf_a;
  std::vector<std::unique_ptr<bench::Lsq>> lsq_w, lsq_a;
  double fc3_input_step = 0;

  Quantizers(bench::EpochCase c, const bench::TorchLenet& net, const torch::Tensor& calibration) {
    const auto h = net.layer_inputs(calibration);
    fc3_input_step = h[4].max().item<double>() / 255;
    const int b = c.bits;
    if (c.model == bench::EpochModel::apot) {
      const bench::RcfLevels levels = bench::experiment_rcf_levels(b);
      for (std::size_t i = 1; i <= 3; ++i) {
        rcf_w.push_back(std::make_unique<Rcf>(3.0, levels.weight, true));
        rcf_a.push_back(std::make_unique<Rcf>(h[i].max().item<double>(), levels.input, false));
      }
    } else {
      const int64_t top = (int64_t(1) << (b - 1)) - 1;
      for (std::size_t i = 1; i <= 3; ++i) {
        lsq_w.push_back(std::make_unique<bench::Lsq>(net.p[2 * i].detach(), -top, top));
        lsq_a.push_back(std::make_unique<bench::Lsq>(h[i], 0, (int64_t(1) << b) - 1));
      }
    }
  }
  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto* v : {&rcf_w, &rcf_a})
      for (const auto& q : *v) out.push_back(q->alpha);
    for (const auto* v : {&lsq_w, &lsq_a})
      for (const auto& q : *v) out.insert(out.end(), {q->scale, q->zero_point});
    return out;
  }
  torch::Tensor weight(int i, const torch::Tensor& w) const {
    if (i == 0 || i == 4) return bench::int8_weight(w);
    const auto k = std::size_t(i - 1);
    return rcf_w.empty() ? (*lsq_w[k])(w) : bench::normalized(*rcf_w[k], w);
  }
  torch::Tensor input(int i, const torch::Tensor& x) const {
    if (i == 4) return torch::fake_quantize_per_tensor_affine(x, fc3_input_step, 0, 0, 255);
    const auto k = std::size_t(i - 1);
    return rcf_a.empty() ? (*lsq_a[k])(x) : (*rcf_a[k])(x);
  }
  void after_step() {
    for (const auto* v : {&rcf_w, &rcf_a})
      for (const auto& q : *v) q->clamp_alpha_();
  }
};

}  // namespace

void bench::torch_lenet_epoch(benchmark::State& state, EpochCase c) {
  bench::use_torch_threads(1);
  const EpochData& d = epoch_data();
  const auto n = int64_t(d.n);
  const auto images =
      torch::from_blob(const_cast<float*>(d.images), {n, 1, 28, 28}, torch::kFloat32);
  const auto labels = torch::from_blob(const_cast<int64_t*>(d.labels.data()), {n}, torch::kInt64);
  const TorchLenet net(lenet_data());
  std::unique_ptr<Quantizers> q;
  std::vector<torch::Tensor> params = net.p;
  if (c.model != EpochModel::float_model) {
    q = std::make_unique<Quantizers>(c, net, images.slice(0, 0, int64_t(kCalibrationImages)));
    for (const auto& t : q->parameters()) params.push_back(t);
  }
  const auto weight = [&q](int i, const torch::Tensor& w) { return q->weight(i, w); };
  const auto input = [&q](int i, const torch::Tensor& x) { return q->input(i, x); };
  torch::optim::Adam opt(params, torch::optim::AdamOptions(q ? kQatLr : kFloatLr));
  torch::manual_seed(0);
  const auto batch = int64_t(kEpochBatch);
  for (auto _ : state) {
    const auto order = torch::randperm(n, torch::kInt64);
    double loss_sum = 0;
    for (int64_t first = 0; first < n; first += batch) {
      const auto rows = order.slice(0, first, std::min(first + batch, n));
      const auto x = images.index_select(0, rows);
      opt.zero_grad();
      const auto logits = q ? net.forward(x, weight, input) : net.forward(x);
      const auto loss = torch::nn::functional::cross_entropy(logits, labels.index_select(0, rows));
      loss.backward();
      opt.step();
      if (q) q->after_step();
      loss_sum += loss.item<double>() * double(rows.size(0));
    }
    state.counters["loss"] = loss_sum / double(n);
  }
  state.SetLabel(epoch_data_source());
}
