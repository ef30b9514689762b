// The engine alone: a 2-16-2 MLP learns whether a point lies inside the unit
// circle, with tensors, ops, backward and a hand-written SGD update (no Module,
// no optimizer). Prints the loss falling and the final accuracy.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>

#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

using namespace xgrad;

int main(int argc, char** argv) {
  // No options; --help describes the program and anything else is rejected.
  CLI::App app{"The engine alone: a 2-16-2 MLP learns the unit circle with hand-written SGD."};
  CLI11_PARSE(app, argc, argv);
  constexpr std::size_t n = 256, hidden = 16;
  constexpr int steps = 300;
  constexpr float lr = 0.5f;
  Generator gen(42);

  // Points uniform in [-1.5, 1.5)^2; class 1 inside the unit circle.
  const Tensor<float> x = rand<float>({n, 2}, gen, -1.5f, 1.5f);
  Labels labels = xt::zeros<std::int64_t>({n});
  for (std::size_t i = 0; i < n; ++i) {
    const float u = x.data()(i, 0), v = x.data()(i, 1);
    labels(i) = u * u + v * v < 1.0f ? 1 : 0;
  }

  // Parameters: leaves that require grad, scaled like PyTorch's default init.
  Tensor<float> w1 = randn<float>({hidden, 2}, gen, 0.0f, 0.7f, true);
  Tensor<float> b1 = zeros<float>({hidden}, true);
  Tensor<float> w2 = randn<float>({2, hidden}, gen, 0.0f, 0.25f, true);
  Tensor<float> b2 = zeros<float>({2}, true);
  Tensor<float>* params[] = {&w1, &b1, &w2, &b2};

  Tensor<float> logits;
  for (int step = 0; step <= steps; ++step) {
    for (auto* p : params) p->zero_grad();
    logits = linear(relu(linear(x, w1, b1)), w2, b2);
    Tensor<float> loss = cross_entropy(logits, labels);
    loss.backward();  // fills w1.grad() ... b2.grad(); the graph is then freed

    if (step % 30 == 0) std::printf("step %3d  loss %.4f\n", step, loss.item());

    // Plain SGD, outside the tape: p -= lr * grad (mutable_data bumps versions).
    NoGradGuard no_grad;
    for (auto* p : params) {
      const float* g = p->grad().data().data();
      float* w = p->mutable_data().data();
      for (std::size_t i = 0; i < p->numel(); ++i) w[i] -= lr * g[i];
    }
  }

  // Accuracy of the last forward pass: the larger logit is the prediction.
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t predicted = logits.data()(i, 1) > logits.data()(i, 0) ? 1 : 0;
    correct += predicted == labels(i);
  }
  std::printf("accuracy %.1f%% on %zu points\n", 100.0 * double(correct) / double(n), n);
  return 0;
}
