// A program outside xgrad's tree that uses it as a library: examples/consumer/
// builds it with meson (subproject or pkg-config) and CMake (find_package);
// check.sh builds and runs it all three ways.
//
// A small CNN, spelled as a libtorch user would, on seeded 8x8 images of bars
// (four orientations, [N, 1, 8, 8] through DataLoader): float training, then
// 4-bit APoT quantization-aware training, conversion to packed codes, a
// checkpoint, and a fresh model that loads it. Exits 0 when the converted
// model classifies at least 80% of the held-out images right and the reloaded
// model's outputs equal the converted model's bit for bit.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>
#include <xgrad/quant/qat/workflow.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
namespace quant = xgrad::quant;

namespace {

std::shared_ptr<nn::Sequential<float>> make_cnn() {
  return std::make_shared<nn::Sequential<float>>(
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 8, 3).padding(1)),  // 0
      std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(8, 8, 3).padding(1)),  // 2
      std::make_shared<nn::BatchNorm2d<float>>(nn::BatchNorm2dOptions(8)),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Flatten<float>>(),
      std::make_shared<nn::Linear<float>>(nn::LinearOptions(8 * 4 * 4, 4)));  // 7
}

// Layer 0 sees raw, signed pixels: 8-bit affine uniform. Layers 2 and 7 get
// 4-bit APoT with learnable clipping; layer 2, which a BatchNorm follows,
// without the weight rescale (prepare_qat sees the BatchNorm and drops it).
const std::map<std::string, quant::QConfig<float>>& overrides() {
  static const std::map<std::string, quant::QConfig<float>> o = {
      {"0", quant::uniform_qconfig<float>(8)}};
  return o;
}

void train(nn::Sequential<float>& model, data::DataLoader<float>& loader, double lr, int epochs,
           bool qat) {
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(lr));
  model.train();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (const data::Dataset<float>& batch : loader) {
      opt.zero_grad();
      Tensor<float> loss = cross_entropy(model.forward(batch.features), batch.labels);
      loss.backward();
      opt.step();
      if (qat) quant::clamp_alpha_(model);
    }
  }
}

double accuracy(nn::Sequential<float>& model, const data::Dataset<float>& test) {
  NoGradGuard no_grad;
  model.eval();
  return double(count_nonzero(eq(model.forward(test.features).argmax(1), test.labels))) /
         double(test.size());
}

}  // namespace

int main() {
  Generator gen(7);
  data::Dataset<float> bars = data::make_bars<float>(100, 8, 0.1f, gen);  // [400, 1, 8, 8]
  std::vector<data::Dataset<float>> parts = data::random_split(bars, {300, 100}, gen);
  data::DataLoader<float> loader(parts[0], /*batch_size=*/32, /*shuffle=*/true, /*seed=*/1);

  auto model = make_cnn();
  train(*model, loader, 1e-2, 6, false);
  const double float_acc = accuracy(*model, parts[1]);

  // QAT: prepare, calibrate on a few training batches, freeze, fine-tune.
  const auto config = quant::apot_rcf_qconfig<float>(4);
  quant::prepare_qat<float>(*model, config, overrides());
  std::vector<Tensor<float>> calibration;
  for (const data::Dataset<float>& batch : loader) calibration.push_back(batch.features);
  quant::calibrate(*model, calibration);
  quant::freeze(*model);
  train(*model, loader, 1e-3, 3, true);

  model->eval();
  quant::convert(*model);
  const double converted_acc = accuracy(*model, parts[1]);
  // A file of its own in the temporary folder, removed after loading.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("xgrad-consumer-" + std::to_string(std::random_device{}()) + ".npz"))
                               .string();
  save(model, path);

  auto restored = make_cnn();
  quant::prepare_qat<float>(*restored, config, overrides());
  quant::convert(*restored, quant::ConvertMode::empty);
  load(restored, path);
  std::remove(path.c_str());
  restored->eval();

  NoGradGuard no_grad;
  const Tensor<float> expected = model->forward(parts[1].features);
  const Tensor<float> got = restored->forward(parts[1].features);
  const std::int64_t same = count_nonzero(got == expected);
  const bool identical = same == static_cast<std::int64_t>(expected.numel());

  std::cout << *restored << "first logits: " << got[0] << "\n"
            << "accuracy: float " << float_acc << ", converted " << converted_acc << "\n"
            << "reloaded outputs identical: " << (identical ? "yes" : "no") << " (" << same
            << " of " << expected.numel() << ")\n";
  return converted_acc >= 0.8 && identical ? 0 : 1;
}
