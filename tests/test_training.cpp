// End to end: an MLP learns the seeded spirals, deterministically, and a run
// resumed from a checkpoint (model + optimizer state) continues bit-identically.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "test_util.hpp"
#include "xgrad/data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_training)

using xgrad::Generator;
using xgrad::Tensor;
using xgrad::data::Dataset;
using xgrad_test::equal_arrays;
using Model = xgrad::nn::Sequential<float>;

namespace {

std::shared_ptr<Model> make_model(Generator& gen) {
  auto model = std::make_shared<Model>();
  model->push_back(std::make_shared<xgrad::nn::Linear<float>>(2, 32, true, gen));
  model->push_back(std::make_shared<xgrad::nn::ReLU<float>>());
  model->push_back(std::make_shared<xgrad::nn::Linear<float>>(32, 32, true, gen));
  model->push_back(std::make_shared<xgrad::nn::ReLU<float>>());
  model->push_back(std::make_shared<xgrad::nn::Linear<float>>(32, 3, true, gen));
  return model;
}

// 3 arms of 100 points with a little noise: separable, but only non-linearly.
Dataset<float> spirals() {
  Generator gen(11);
  return xgrad::data::make_spirals<float>(100, 3, 0.02f, gen);
}

double train_accuracy(Model& model, const Dataset<float>& data) {
  xgrad::NoGradGuard no_grad;
  return xgrad::data::accuracy(model.forward(data.features), data.labels);
}

// Epochs first..last-1; each epoch's shuffle is seeded by its number, so a
// resumed run sees the same batches.
void train_epochs(Model& model, xgrad::optim::Optimizer<float>& opt, const Dataset<float>& data,
                  int first, int last) {
  for (int epoch = first; epoch < last; ++epoch) {
    xgrad::data::DataLoader<float> loader(data, 32, true, 1000 + static_cast<std::uint64_t>(epoch));
    for (const auto& batch : loader) {
      opt.zero_grad();
      auto loss = xgrad::cross_entropy(model.forward(batch.features), batch.labels);
      loss.backward();
      opt.step();
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(adam_mlp_learns_the_spirals) {
  // 60 epochs of 10 batches = 600 Adam steps.
  const auto data = spirals();
  Generator gen(1);
  auto model = make_model(gen);
  const double before = train_accuracy(*model, data);
  xgrad::optim::Adam<float> opt(model->parameters(), xgrad::optim::AdamOptions(1e-2));
  train_epochs(*model, opt, data, 0, 60);
  const double after = train_accuracy(*model, data);
  BOOST_TEST_MESSAGE("train accuracy " << before << " -> " << after);
  BOOST_TEST(before < 0.6);
  BOOST_TEST(after >= 0.95);
}

BOOST_AUTO_TEST_CASE(sgd_momentum_mlp_learns_the_spirals) {
  // 150 epochs of 10 batches = 1500 SGD steps.
  const auto data = spirals();
  Generator gen(2);
  auto model = make_model(gen);
  xgrad::optim::SGD<float> opt(model->parameters(), xgrad::optim::SGDOptions(0.1).momentum(0.9));
  train_epochs(*model, opt, data, 0, 150);
  BOOST_TEST(train_accuracy(*model, data) >= 0.9);
}

BOOST_AUTO_TEST_CASE(training_is_deterministic) {
  const auto data = spirals();
  std::vector<xgrad::StateDict<float>> finals;
  for (int run = 0; run < 2; ++run) {
    Generator gen(3);
    auto model = make_model(gen);
    xgrad::optim::Adam<float> opt(model->parameters(), xgrad::optim::AdamOptions(1e-2));
    train_epochs(*model, opt, data, 0, 3);
    finals.push_back(model->state_dict());
  }
  BOOST_REQUIRE(finals[0].size() == finals[1].size());
  for (std::size_t k = 0; k < finals[0].size(); ++k) {
    BOOST_TEST(equal_arrays(finals[0][k].second, finals[1][k].second), finals[0][k].first);
  }
}

BOOST_AUTO_TEST_CASE(resumed_training_continues_bit_identically) {
  // 6 epochs straight vs 2 epochs, checkpoint of model and optimizer through
  // files, fresh objects (other initial weights), 4 more epochs.
  const auto data = spirals();
  const xgrad::optim::AdamOptions options = xgrad::optim::AdamOptions(1e-2).amsgrad(true);
  Generator gen(4);
  auto straight = make_model(gen);
  xgrad::optim::Adam<float> opt_straight(straight->parameters(), options);
  train_epochs(*straight, opt_straight, data, 0, 6);

  Generator gen2(4);
  auto first = make_model(gen2);
  xgrad::optim::Adam<float> opt_first(first->parameters(), options);
  train_epochs(*first, opt_first, data, 0, 2);
  // Per-process names: several builds may run this suite at the same time.
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid());
  const std::string model_path = (dir / ("xgrad_test_training_model_" + tag + ".npz")).string();
  const std::string optim_path = (dir / ("xgrad_test_training_optim_" + tag + ".npz")).string();
  xgrad::save(*first, model_path);
  xgrad::save(opt_first.state_dict(), optim_path);

  Generator other(99);
  auto resumed = make_model(other);
  xgrad::load(*resumed, model_path);
  xgrad::optim::Adam<float> opt_resumed(resumed->parameters(), options);
  opt_resumed.load_state_dict(xgrad::load_state_dict_file<float>(optim_path));
  std::remove(model_path.c_str());
  std::remove(optim_path.c_str());
  train_epochs(*resumed, opt_resumed, data, 2, 6);

  const auto a = straight->state_dict(), b = resumed->state_dict();
  BOOST_REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    BOOST_TEST(equal_arrays(a[k].second, b[k].second), a[k].first);
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_training
