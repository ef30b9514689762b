// Quantization-aware training with APoT vs uniform fake quantization, on the
// seeded spirals (no download). A float MLP is trained first; from that
// checkpoint each variant is fine-tuned for a few epochs (or only calibrated,
// for post-training quantization) with 4-bit weights and activations:
//   weights: APoT sign-magnitude (b=4, k=2) vs uniform symmetric qint4;
//   hidden activations: APoT unsigned (b=4, k=2) vs uniform affine quint4.
// Test accuracy is reported as mean +- sd over seeds. At this scale APoT and
// uniform are expected to be within noise of each other (docs/experiment.md,
// "The digits MLP").
//
//   build/examples/qat_apot [--seeds N]    (--help for the options)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"

using namespace xgrad;
using quant::APoTFakeQuantize;
using quant::FakeQuantize;

namespace {

enum class Kind { Float, APoT, Uniform };

std::shared_ptr<Module<float>> weight_quantizer(Kind kind) {
  if (kind == Kind::APoT)
    return std::make_shared<APoTFakeQuantize<float>>(4, 2, quant::LevelScheme::sign_magnitude);
  return std::make_shared<FakeQuantize<float>>(quant::QuantDtype::qint8,
                                               quant::QScheme::per_tensor_symmetric, -8, 7);
}
std::shared_ptr<Module<float>> activation_quantizer(Kind kind) {
  if (kind == Kind::APoT) return std::make_shared<APoTFakeQuantize<float>>(4, 2, false);
  return std::make_shared<FakeQuantize<float>>(quant::QuantDtype::quint8,
                                               quant::QScheme::per_tensor_affine, 0, 15);
}

// 2 -> 64 -> 64 -> 3; with a quantized kind, every weight and both hidden
// activations pass through fake quantizers (registered, so they are saved too).
struct Net : Module<float> {
  std::vector<std::shared_ptr<nn::Linear<float>>> fc;
  std::vector<std::shared_ptr<Module<float>>> wq, aq;
  Net(Kind kind, Generator& gen) : Module<float>("Net") {
    const std::size_t sizes[] = {2, 64, 64, 3};
    for (std::size_t i = 0; i < 3; ++i) {
      fc.push_back(
          register_module("fc" + std::to_string(i),
                          std::make_shared<nn::Linear<float>>(sizes[i], sizes[i + 1], true, gen)));
      if (kind == Kind::Float) continue;
      wq.push_back(register_module("wq" + std::to_string(i), weight_quantizer(kind)));
      if (i < 2)
        aq.push_back(register_module("aq" + std::to_string(i), activation_quantizer(kind)));
    }
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> h = x;
    for (std::size_t i = 0; i < 3; ++i) {
      const Tensor<float> w = wq.empty() ? fc[i]->weight : wq[i]->forward(fc[i]->weight);
      h = linear(h, w, fc[i]->bias);
      if (i == 2) break;
      h = relu(h);
      if (!aq.empty()) h = aq[i]->forward(h);
    }
    return h;
  }
  // Freezes (or unfreezes) every observer: the qparams stay as calibrated.
  void observe(bool on) {
    for (auto& m : modules()) {
      if (auto a = std::dynamic_pointer_cast<APoTFakeQuantize<float>>(m)) a->enable_observer(on);
      if (auto u = std::dynamic_pointer_cast<FakeQuantize<float>>(m)) u->enable_observer(on);
    }
  }
};

void train(Net& net, const data::Dataset<float>& set, int epochs, float lr, std::uint64_t seed) {
  optim::Adam<float> opt(net.parameters(), optim::AdamOptions(lr));
  data::DataLoader<float> loader(set, 32, /*shuffle=*/true, seed);
  for (int e = 0; e < epochs; ++e) {
    for (const auto& batch : loader) {
      opt.zero_grad();
      cross_entropy(net.forward(batch.features), batch.labels).backward();
      opt.step();
    }
  }
}

double test_accuracy(Net& net, const data::Dataset<float>& set) {
  NoGradGuard no_grad;
  net.observe(false);
  return 100 * data::accuracy(net.forward(set.features), set.labels);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"4-bit APoT vs uniform QAT and PTQ on seeded spirals, over several seeds."};
  int seeds = 5;
  app.add_option("-s,--seeds", seeds, "Number of seeds (runs)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const char* names[] = {"float fine-tune", "APoT-4 QAT", "uniform-4 QAT", "APoT-4 PTQ",
                         "uniform-4 PTQ"};
  std::vector<std::vector<double>> acc(5);
  for (int s = 0; s < seeds; ++s) {
    Generator gen(100 + s);
    const auto [train_set, test_set] =
        data::train_test_split(data::make_spirals<float>(300, 3, 0.06f, gen, 1.5f), 0.2, gen);
    Net base(Kind::Float, gen);
    train(base, train_set, 80, 1e-2f, s);  // the float checkpoint
    const auto checkpoint = base.state_dict();
    for (int v = 0; v < 5; ++v) {
      const Kind kind = v == 0 ? Kind::Float : (v % 2 == 1 ? Kind::APoT : Kind::Uniform);
      Generator unused(0);
      Net net(kind, unused);
      net.load_state_dict(checkpoint, /*strict=*/false);  // quantizer state starts empty
      if (v < 3) {
        train(net, train_set, 20, 2e-3f, 1000 + s);  // QAT: observers track weights and activations
      } else {
        NoGradGuard no_grad;  // PTQ: one calibration pass, no training
        net.forward(train_set.features);
      }
      acc[v].push_back(test_accuracy(net, test_set));
    }
    std::printf(
        "seed %d: float %.1f%%  APoT QAT %.1f%%  uniform QAT %.1f%%  APoT PTQ %.1f%%  uniform PTQ "
        "%.1f%%\n",
        s, acc[0].back(), acc[1].back(), acc[2].back(), acc[3].back(), acc[4].back());
  }
  std::printf("\ntest accuracy over %d seeds (mean +- sd):\n", seeds);
  for (int v = 0; v < 5; ++v) {
    double mean = 0, var = 0;
    for (double a : acc[v]) mean += a / acc[v].size();
    for (double a : acc[v])
      var += (a - mean) * (a - mean) / std::max<std::size_t>(1, acc[v].size() - 1);
    std::printf("  %-16s %5.1f +- %.1f\n", names[v], mean, std::sqrt(var));
  }
  return 0;
}
