// README.md's C++ code blocks, compiled and run. Each block is a region between
// "// DOC begin README.md:<name>" and "// DOC end" below; test_docs.cpp checks
// that README.md quotes every region verbatim (dedented) and has no other C++
// block but outlines. The docs/ pages' regions live in test_docs_*.cpp.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <xgrad/quant/qat/workflow.hpp>
#include <xgrad/quant/quantized/linear.hpp>
#include <xgrad/xgrad.hpp>

BOOST_AUTO_TEST_SUITE(test_readme)

using namespace xgrad;

// The regions are quoted by README.md: clang-format must leave them alone.
// clang-format off
BOOST_AUTO_TEST_CASE(autograd) {
  // DOC begin README.md:autograd
  #include <xgrad/ops/elementwise.hpp>
  #include <xgrad/ops/reduce.hpp>
  #include <xgrad/tensor.hpp>

  using namespace xgrad;

  auto w = tensor<float>({{1, 2}, {3, 4}}, /*requires_grad=*/true);
  auto x = tensor<float>({0.5f, -1.0f});
  auto loss = sum(w * x + 1.0f);   // broadcasting [2,2] * [2]
  loss.backward();                  // w.grad() == [[0.5, -1], [0.5, -1]]
  // DOC end
  BOOST_TEST(w.grad().data() == (xt::xarray<float>{{0.5f, -1.0f}, {0.5f, -1.0f}}));
}

// The training loop, then QAT of the trained model, as README shows them one
// after the other.
BOOST_AUTO_TEST_CASE(training_then_qat) {
  // DOC begin README.md:training
  #include <xgrad/xgrad.hpp>  // the engine and the layers, like <torch/torch.h>
  using namespace xgrad;

  Generator gen(0);
  data::Dataset<float> spirals = data::make_spirals<float>(100, 3, 0.02f, gen);  // [300, 2], 3 classes
  data::DataLoader<float> loader(spirals, 32, /*shuffle=*/true, /*seed=*/0);
  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(2, 32, true, gen),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(32, 32, true, gen),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(32, 3, true, gen)};
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-2));

  for (int epoch = 0; epoch < 60; ++epoch) {
    for (const data::Dataset<float>& batch : loader) {
      opt.zero_grad();
      cross_entropy(model.forward(batch.features), batch.labels).backward();
      opt.step();
    }
  }
  double acc = 0;
  {
    NoGradGuard no_grad;  // evaluation records no graph
    acc = data::accuracy(model.forward(spirals.features), spirals.labels);
  }
  // DOC end
  // Three spiral arms are not linearly separable (a linear model stays near
  // 1/3 to 1/2); 60 epochs of this MLP separate them (measured: 0.977).
  BOOST_TEST(acc > 0.9);
  const double float_acc = acc;
  {
    // DOC begin README.md:qat
    #include <xgrad/quant/qat/workflow.hpp>
    namespace quant = xgrad::quant;

    // From the trained float model: 4-bit APoT weights and inputs with learnable
    // clipping (the paper's method); layer "0" sees raw, signed coordinates: 8-bit uniform.
    quant::prepare_qat<float>(model, quant::apot_rcf_qconfig<float>(4),
                              {{"0", quant::uniform_qconfig<float>(8)}});
    quant::calibrate(model, {spirals.features});  // a std::vector<Tensor<float>> of batches
                                                  // through observers, fake quantization off
    quant::freeze(model);                         // ranges fixed, fake quantization on
    optim::Adam<float> qat_opt(model.parameters(), optim::AdamOptions(1e-3));  // the alphas are new parameters
    for (int epoch = 0; epoch < 5; ++epoch) {
      for (const data::Dataset<float>& batch : loader) {
        qat_opt.zero_grad();
        cross_entropy(model.forward(batch.features), batch.labels).backward();
        qat_opt.step();
        quant::clamp_alpha_(model);               // keeps every learned alpha positive
      }
    }
    model.eval();
    quant::convert(model);  // weights packed as 4-bit codes, run by lookup-table kernels
    // DOC end
    NoGradGuard eval;
    const double qat_acc = data::accuracy(model.forward(spirals.features), spirals.labels);
    BOOST_TEST_MESSAGE("float " << float_acc << ", converted 4-bit APoT " << qat_acc);
    // 4-bit APoT hidden layers keep the separation: within 10 points of float
    // (measured: 0.980 against 0.977).
    BOOST_TEST(qat_acc > float_acc - 0.1);
    BOOST_TEST(model[4]->as<quant::quantized::Linear<float>>() != nullptr);
  }
}
// clang-format on

BOOST_AUTO_TEST_SUITE_END()  // test_readme
