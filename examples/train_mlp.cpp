// Trains a small MLP on three seeded, interleaved spirals (no download), then
// saves a checkpoint, reloads it into a fresh model and checks that the
// predictions are identical.
//
//   build/examples/train_mlp [checkpoint.npz]    (--help for the options)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "spirals_mlp.hpp"
#include "cli_paths.hpp"
#include "xgrad/data.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/serialize.hpp"

using namespace xgrad;

namespace {

// Logits of a whole dataset, without recording a graph.
Tensor<float> predict(nn::Sequential<float>& model, const data::Dataset<float>& dataset) {
  NoGradGuard no_grad;
  return model.forward(dataset.features);
}

}  // namespace

int run(const std::string& checkpoint) {
  const int epochs = 30;

  Generator gen(2024);
  const auto spirals = data::make_spirals<float>(300, 3, 0.03f, gen);
  const auto [train, test] = data::train_test_split(spirals, 0.2, gen);
  std::printf("spirals: %zu train, %zu test points, 3 classes\n", train.size(), test.size());

  auto model = make_spirals_mlp(gen);
  optim::Adam<float> optimizer(model->parameters(), optim::AdamOptions(1e-2));
  optim::CosineAnnealingLR<float> schedule(optimizer, epochs);
  data::DataLoader<float> loader(train, 32, /*shuffle=*/true, /*seed=*/7);

  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0;
    for (const auto& batch : loader) {
      optimizer.zero_grad();
      Tensor<float> loss = cross_entropy(model->forward(batch.features), batch.labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item() * static_cast<double>(batch.size());
    }
    schedule.step();
    const double train_accuracy = data::accuracy(predict(*model, train), train.labels);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %2d  loss %.4f  train accuracy %5.1f%%  lr %.5f  %.2f s\n", epoch,
                loss_sum / static_cast<double>(train.size()), 100 * train_accuracy, optimizer.lr(0),
                elapsed);
  }
  const Tensor<float> test_logits = predict(*model, test);
  std::printf("test accuracy %.1f%%\n", 100 * data::accuracy(test_logits, test.labels));

  // Checkpoint round trip: a fresh model (different initial weights) loaded
  // from the file must predict exactly the same logits.
  save(*model, checkpoint);
  Generator other(1);
  auto restored = make_spirals_mlp(other);
  load(*restored, checkpoint);
  const Tensor<float> restored_logits = predict(*restored, test);
  const bool identical = restored_logits.data() == test_logits.data();
  std::printf("checkpoint %s reloaded: predictions %s\n", checkpoint.c_str(),
              identical ? "identical" : "DIFFER");
  return identical ? 0 : 1;
}

int main(int argc, char** argv) {
  CLI::App app{"Trains an MLP on seeded spirals, then checks a checkpoint round trip."};
  std::string checkpoint = "train_mlp.npz";
  // Checked while parsing: an unwritable path fails before training, not after.
  app.add_option("checkpoint", checkpoint, "Where to save the checkpoint")
      ->check(examples::writable_file())
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Any other bad input is reported, not left to std::terminate.
  try {
    return run(checkpoint);
  } catch (const Error& e) {
    std::fprintf(stderr, "train_mlp: %s\n", e.what());
    return 1;
  }
}
