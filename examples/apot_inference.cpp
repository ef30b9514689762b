// APoT that pays at inference: trains (or loads) the experiment's float
// LeNet-5 on Fashion-MNIST, quantizes a copy with the public QAT workflow
// (prepare_qat with the paper's APoT RCF config at --bits, the first and last
// layers 8-bit uniform as in the experiment; calibrate, freeze, a few QAT
// steps, convert), and prints side by side with the float model: checkpoint
// size, batch-1 latency, batch-64 throughput and accuracy on the 10,000 test
// images; then a GEMV micro-benchmark (a 4096 x 4096 layer, batch 1: float
// Linear vs the converted layer's lookup-table kernel at 4 and 2 bits).
//
//   build/examples/apot_inference                  train 1 epoch, QAT, convert
//   build/examples/apot_inference --checkpoint lenet.npz --bits 2 out/
//
// Timings are medians of --repeats runs on the calling thread set
// (XGRAD_NUM_THREADS); on a loaded machine they are noisy.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "cli_paths.hpp"
#include "lenet5.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"
#include "xgrad/summary.hpp"

using namespace xgrad;
using examples::as_images;

namespace {

struct Options {
  std::string out_dir = ".";
  std::string checkpoint;  // a float LeNet-5 to load instead of training
  int bits = 4;
  int steps = 938;      // float training: one epoch of 64 images
  int qat_steps = 300;  // QAT fine-tuning steps of 64 images
  int repeats = 50;
  bool skip_gemv = false;
};

using Net = std::shared_ptr<nn::Sequential<float>>;

// Median seconds of `repeats` calls of fn (after one warm-up call).
double median_seconds(int repeats, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(t.begin(), t.begin() + std::ptrdiff_t(t.size() / 2), t.end());
  return t[t.size() / 2];
}

void train(Module<float>& net, const data::Dataset<float>& train_set, int steps, double lr,
           bool qat) {
  optim::SGD<float> sgd(net.parameters(), optim::SGDOptions(lr).momentum(0.9));
  data::DataLoader<float> loader(train_set, 64, /*shuffle=*/true, /*seed=*/qat ? 2 : 1);
  net.train();
  for (int step = 0; step < steps;) {
    for (const auto& batch : loader) {
      if (step++ == steps) break;
      sgd.zero_grad();
      cross_entropy(net.forward(as_images(batch.features)), batch.labels).backward();
      sgd.step();
      if (qat) quant::clamp_alpha_(net);
    }
  }
  net.eval();
}

double accuracy(Module<float>& net, const data::Dataset<float>& test) {
  NoGradGuard no_grad;
  return 100 * data::accuracy(net.forward(as_images(test.features)), test.labels);
}

struct Measured {
  std::uintmax_t file_bytes = 0;
  double latency_ms = 0, images_per_s = 0, accuracy = 0;
};

Measured measure(Module<float>& net, const data::Dataset<float>& test, const std::string& path,
                 int repeats) {
  Measured m;
  save(net, path);
  m.file_bytes = std::filesystem::file_size(path);
  m.accuracy = accuracy(net, test);
  NoGradGuard no_grad;
  const Tensor<float> images = as_images(test.features);
  const Tensor<float> one(xt::xarray<float>(xt::view(images.data(), xt::range(0, 1))));
  const Tensor<float> batch(xt::xarray<float>(xt::view(images.data(), xt::range(0, 64))));
  m.latency_ms = 1e3 * median_seconds(repeats, [&] { net.forward(one); });
  m.images_per_s = 64 / median_seconds(repeats, [&] { net.forward(batch); });
  return m;
}

void gemv_benchmark(int repeats) {
  std::printf("\nGEMV 4096 x 4096, batch 1 (median of %d):\n", repeats);
  Generator gen(7);
  const Tensor<float> w = randn<float>({4096, 4096}, gen);
  const Tensor<float> x = randn<float>({1, 4096}, gen);
  NoGradGuard no_grad;
  nn::Linear<float> dense(4096, 4096, false, gen);
  dense.weight.mutable_data() = w.data();
  const double t_float = median_seconds(repeats, [&] { dense.forward(x); });
  std::printf("  %-28s %9.1f us\n", "float Linear (OpenBLAS)", 1e6 * t_float);
  for (auto [b, k] : {std::pair<int, int>{4, 2}, {2, 1}}) {
    quant::LinearAPoT<float> packed(w, b, k);
    const double t = median_seconds(repeats, [&] { packed.forward(x); });
    std::printf("  %-28s %9.1f us  %.2fx the float layer's speed\n",
                (std::to_string(b) + "-bit APoT (" + packed.kernel() + ")").c_str(), 1e6 * t,
                t_float / t);
  }
}

int run(const Options& o) {
  const data::Dataset<float> test = examples::load_fashion_mnist(data::Split::test);
  const data::Dataset<float> train_set = examples::load_fashion_mnist(data::Split::train);
  Generator gen(0);
  Net float_net = examples::lenet5(gen);
  if (!o.checkpoint.empty()) {
    load(*float_net, o.checkpoint);
    std::printf("loaded %s\n", o.checkpoint.c_str());
  } else {
    train(*float_net, train_set, o.steps, 0.05, false);
    std::printf("trained the float LeNet-5: %d steps of 64 images\n", o.steps);
  }
  float_net->eval();

  // The QAT copy: APoT RCF at --bits, the first and last layers 8-bit uniform.
  Net net = examples::lenet5(gen);
  net->load_state_dict(float_net->state_dict());
  quant::prepare_qat<float>(
      *net, quant::apot_rcf_qconfig<float>(o.bits),
      {{"0", quant::uniform_qconfig<float>(8)}, {"11", quant::uniform_qconfig<float>(8)}});
  std::vector<Tensor<float>> calibration;
  for (std::size_t i = 0; i < 4; ++i)
    calibration.push_back(as_images(Tensor<float>(xt::xarray<float>(
        xt::view(train_set.features.data(), xt::range(256 * i, 256 * (i + 1)))))));
  quant::calibrate(*net, calibration);
  quant::freeze(*net);
  train(*net, train_set, o.qat_steps, 0.01, true);
  const double qat_accuracy = accuracy(*net, test);
  std::printf("QAT (%d-bit APoT, ends 8-bit): %d steps of 64 images\n", o.bits, o.qat_steps);
  quant::convert(*net);
  std::printf("\n%s", summary(*net).c_str());
  std::printf("kernels:");
  net->apply([](const std::string& name, Module<float>& m) {
    if (auto* q = m.as<quant::quantized::QuantizedLayer<float>>())
      std::printf(" %s: %s;", name.c_str(), q->kernel().c_str());
  });
  std::printf("\n");

  const std::string dir = o.out_dir;
  const Measured f = measure(*float_net, test,
                             (std::filesystem::path(dir) / "lenet_float.npz").string(), o.repeats);
  const Measured c = measure(
      *net, test,
      (std::filesystem::path(dir) / ("lenet_apot" + std::to_string(o.bits) + ".npz")).string(),
      o.repeats);
  std::printf("\nLeNet-5, %d thread(s), kernels %s:\n", get_num_threads(),
              quant::to_string(quant::simd_isa()));
  std::printf("  %-22s %14s %14s %8s\n", "", "float", "converted", "ratio");
  std::printf("  %-22s %14ju %14ju %8.3f\n", "file size (bytes)", f.file_bytes, c.file_bytes,
              double(c.file_bytes) / double(f.file_bytes));
  std::printf("  %-22s %14.3f %14.3f %8.3f\n", "batch-1 latency (ms)", f.latency_ms, c.latency_ms,
              c.latency_ms / f.latency_ms);
  std::printf("  %-22s %14.0f %14.0f %8.3f\n", "batch-64 (images/s)", f.images_per_s,
              c.images_per_s, c.images_per_s / f.images_per_s);
  std::printf("  %-22s %13.2f%% %13.2f%%\n", "test accuracy", f.accuracy, c.accuracy);
  std::printf("  (the QAT model before converting: %.2f%%)\n", qat_accuracy);
  if (!o.skip_gemv) gemv_benchmark(o.repeats);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Trains (or loads) a float LeNet-5 on Fashion-MNIST, quantizes it with APoT QAT and "
      "converts it to packed codes, then compares the two: file size, batch-1 latency, batch-64 "
      "throughput, accuracy; and a 4096 x 4096 GEMV micro-benchmark."};
  app.add_option("out_dir", o.out_dir, "Directory for the two checkpoints")
      ->check(examples::writable_directory())
      ->capture_default_str();
  app.add_option("--checkpoint", o.checkpoint,
                 "Load the float LeNet-5 from this checkpoint (e.g. export_onnx --save) instead "
                 "of training it")
      ->check(CLI::ExistingFile);
  app.add_option("--bits", o.bits, "APoT bits of the middle layers")
      ->check(CLI::IsMember({2, 3, 4}))
      ->capture_default_str();
  app.add_option("--steps", o.steps, "Float training steps of 64 images")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--qat-steps", o.qat_steps, "QAT steps of 64 images")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--repeats", o.repeats, "Timed runs per measurement (the median is shown)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_flag("--skip-gemv", o.skip_gemv, "Skip the GEMV micro-benchmark");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const Error& e) {
    std::fprintf(stderr, "apot_inference: %s\n", e.what());
    return 1;
  }
}
