// A program outside xgrad's tree that uses it as a library: examples/consumer/
// builds it with meson (subproject or pkg-config) and CMake (find_package);
// check.sh builds and runs it all three ways.
//
// It separates two classes of points (x0 + x1 > 0) with a small MLP and
// exits 0 when the training accuracy reaches 90%.
#include <iostream>
#include <memory>
#include <xgrad/xgrad.hpp>

int main() {
  using namespace xgrad;
  Generator gen(7);
  const Tensor<float> x = randn<float>({128, 2}, gen);
  const Labels y = to_labels(tensor_from_mask<float>(gt(x.sum(1), 0.0f)), 2);

  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(2, 16, true, gen),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(16, 2, true, gen)};
  optim::AdamW<float> opt(model.parameters(), optim::AdamWOptions(0.05));
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(model.forward(x), y);
    loss.backward();
    opt.step();
  }
  NoGradGuard no_grad;
  const Tensor<float> logits = model.forward(x);
  const double accuracy = double(count_nonzero(eq(argmax(logits, 1), y))) / y.size();
  std::cout << model << "first logits: " << logits.narrow(0, 0, 2) << "\n"
            << "accuracy: " << accuracy << "\n";
  return accuracy >= 0.9 ? 0 : 1;
}
