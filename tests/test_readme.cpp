// README's C++ code blocks, compiled and run: each block is a region between
// "// README begin <name>" and "// README end" below, and the last case
// checks that README.md quotes every region verbatim (dedented) and has no
// other C++ block (but outlines marked "<!-- outline, not compiled ... -->"). A README change that
// is not made here too fails that case; an API change that breaks a block fails to compile.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/quant/apot/quantizer.hpp>
#include <xgrad/quant/fake_quantize/apot_fake_quantize.hpp>
#include <xgrad/quant/fake_quantize/rcf_fake_quantize.hpp>
#include <xgrad/quant/qat/weight_norm.hpp>
#include <xgrad/xgrad.hpp>

BOOST_AUTO_TEST_SUITE(test_readme)

using namespace xgrad;

namespace {

// Keeps the snippets' printing out of the test log.
struct QuietCout {
  std::ostringstream sink;
  std::streambuf* saved = std::cout.rdbuf(sink.rdbuf());
  ~QuietCout() { std::cout.rdbuf(saved); }
};

}  // namespace

// The regions are quoted by README.md: clang-format must leave them alone.
// clang-format off
BOOST_AUTO_TEST_CASE(taste) {
  // README begin taste
  #include <xgrad/ops/elementwise.hpp>
  #include <xgrad/ops/reduce.hpp>
  #include <xgrad/tensor.hpp>

  using namespace xgrad;

  auto w = tensor<float>({{1, 2}, {3, 4}}, /*requires_grad=*/true);
  auto x = tensor<float>({0.5f, -1.0f});
  auto loss = sum(w * x + 1.0f);   // broadcasting [2,2] * [2]
  loss.backward();                  // w.grad() == [[0.5, -1], [0.5, -1]]
  // README end
  BOOST_TEST(w.grad().data() == (xt::xarray<float>{{0.5f, -1.0f}, {0.5f, -1.0f}}));
}

BOOST_AUTO_TEST_CASE(training) {
  Tensor<float> x = randn<float>({8, 64});
  Labels labels = randint(0, 10, {8});
  // README begin training
  #include <xgrad/nn/activation.hpp>
  #include <xgrad/nn/linear.hpp>
  #include <xgrad/nn/sequential.hpp>
  #include <xgrad/ops/loss.hpp>
  #include <xgrad/optim/sgd.hpp>

  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(64, 128),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(128, 10)};
  optim::SGD<float> opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));

  opt.zero_grad();
  auto loss = cross_entropy(model.forward(x), labels);  // x [N, 64], labels [N] (int64)
  loss.backward();
  opt.step();
  // README end
  BOOST_TEST(model.parameters()[0].grad().defined());
}

BOOST_AUTO_TEST_CASE(libtorch_habits) {
  QuietCout quiet;
  // README begin habits
  #include <xgrad/xgrad.hpp>  // everything but quantization, like <torch/torch.h>
  using namespace xgrad;

  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  Tensor<float> a = from_vector(values, {2, 3});  // copies (so does from_blob(ptr, n, shape))
  Tensor<double> a64 = a.to<double>();            // float <-> double
  std::cout << a << "\n";
  // tensor([[1., 2., 3.],
  //         [4., 5., 6.]], shape=[2, 3], dtype=float32)

  Tensor<float> w = randn<float>({3, 2}).set_requires_grad(true);
  Tensor<float> y = a.matmul(w).relu();           // methods alias the free functions
  Tensor<float> row = y.select(0, 1);             // y[1]; also narrow and slice(dim, start, end, step)
  Tensor<float> both = concat({y, y}, 1);         // [2, 4]
  Tensor<float> total = sum(y, 1, /*keepdim=*/true);  // [2, 1]; also y.sum(1, true)
  (total.sum() + row.sum() + both.mean()).backward();  // gradients flow through all of them
  std::cout << w.grad() << "\n";
  // README end
  BOOST_TEST(a64.shape() == (Shape{2, 3}));
  BOOST_TEST(w.grad().shape() == (Shape{3, 2}));
}

BOOST_AUTO_TEST_CASE(training_loop) {
  QuietCout quiet;
  // README begin loop
  Generator gen(0);
  Tensor<float> x = randn<float>({256, 2}, gen);
  // Class ids often arrive as floats (a CSV column, a mask): to_labels checks them.
  Labels labels = to_labels(tensor_from_mask<float>(gt(x.select(1, 0), 0.0f)), /*num_classes=*/2);

  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(2, 16, true, gen),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(16, 2, true, gen)};
  std::cout << summary(model);  // the module tree, parameter shapes and counts
  optim::AdamW<float> opt(model.parameters(), optim::AdamWOptions(1e-2));  // weight_decay 1e-2

  for (int epoch = 0; epoch < 50; ++epoch) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(model.forward(x), labels);
    loss.backward();
    opt.step();
  }
  NoGradGuard no_grad;
  Tensor<float> logits = model.forward(x);
  double accuracy = double(count_nonzero(eq(argmax(logits, 1), labels))) / labels.size();
  // README end
  BOOST_TEST(accuracy > 0.9);  // a linearly separable task; 50 AdamW steps reach it
}

BOOST_AUTO_TEST_CASE(lenet) {
  // README begin lenet
  #include <xgrad/nn/conv.hpp>
  #include <xgrad/nn/pool.hpp>

  nn::Sequential<float> lenet{
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 6, 5).padding(2)),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(6, 16, 5)),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Flatten<float>>(), std::make_shared<nn::Linear<float>>(400, 10)};
  // README end
  BOOST_TEST(lenet.forward(zeros<float>({2, 1, 28, 28})).shape() == (Shape{2, 10}));
}

BOOST_AUTO_TEST_CASE(rcf) {
  // README begin rcf
  #include <xgrad/quant/fake_quantize/rcf_fake_quantize.hpp>
  #include <xgrad/quant/qat/weight_norm.hpp>
  using namespace xgrad::quant;

  RCFFakeQuantize<float> wq(apot_sign_magnitude_levels(4));  // alpha starts at 3
  RCFOptions<float> act;
  act.init = AlphaInit::lsq_clip_point;                        // 2 mean|x| sqrt(2^b - 1)
  RCFFakeQuantize<float> aq(apot_unsigned_levels(4, 2), act);
  // per step: y = linear(aq(x), wq(weight_standardize(w)), b); ...
  // loss.backward(); opt.step(); wq.clamp_alpha_(); aq.clamp_alpha_();
  // README end
  const Tensor<float> x = rand<float>({8}), w = randn<float>({4, 8}, 0.0f, 1.0f, true);
  BOOST_TEST(linear(aq(x), wq(weight_standardize(w))).shape() == (Shape{4}));
}

BOOST_AUTO_TEST_CASE(apot) {
  Tensor<float> x = rand<float>({16});
  // README begin apot
  #include <xgrad/quant/fake_quantize/apot_fake_quantize.hpp>
  #include <xgrad/quant/apot/quantizer.hpp>
  using namespace xgrad::quant;

  APoTObserver<float> observer(/*b=*/4, /*k=*/2);
  observer.forward(x);                                   // running min / max
  auto [alpha, gamma, levels, indices] = observer.calculate_qparams(/*signed=*/false);
  TensorAPoT<float> q = quantize_APoT(x, alpha, gamma, levels, indices);
  q.int_repr();                                          // integer codes (b-bit code words)
  Tensor<float> xq = dequantize_APoT(q);                 // == quant_dequant(x, ...)

  auto fq = std::make_shared<APoTFakeQuantize<float>>(4, 2);  // a Module
  Tensor<float> y = fq->forward(x);   // observe, recompute qparams, fake-quantize (STE backward)
  fq->disable_observer();             // freeze the qparams; they are module state (state dict)
  // README end
  BOOST_TEST(xq.shape() == x.shape());
  BOOST_TEST(y.shape() == x.shape());
}

// clang-format on

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " + path + " (tests run in tests/)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The regions of this file, dedented by their begin marker's indentation.
std::map<std::string, std::string> regions(const std::string& source) {
  std::map<std::string, std::string> out;
  const std::string begin = "// README begin ", end = "// README end";
  std::string name, text;
  std::size_t indent = 0;
  bool inside = false;
  for (const std::string& line : lines_of(source)) {
    const std::size_t at = line.find_first_not_of(' ');
    const std::string body = at == std::string::npos ? "" : line.substr(at);
    if (!inside && body.rfind(begin, 0) == 0) {
      inside = true;
      name = body.substr(begin.size());
      indent = at;
      text.clear();
    } else if (inside && body == end) {
      inside = false;
      out[name] = text;
    } else if (inside) {
      text += (line.size() > indent ? line.substr(indent) : std::string()) + "\n";
    }
  }
  return out;
}

// A ```cpp block right after this comment line is an outline (placeholders
// such as `for (...)`): skipped, and README says so where it stands.
const std::string kOutline = "<!-- outline, not compiled";

// README's ```cpp blocks, in order, but outlines.
std::vector<std::string> cpp_blocks(const std::string& readme) {
  std::vector<std::string> blocks;
  std::string text;
  bool inside = false;
  std::string previous;
  for (const std::string& line : lines_of(readme)) {
    if (!inside && line == "```cpp" && previous.rfind(kOutline, 0) != 0) {
      inside = true;
      text.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(text);
    } else if (inside) {
      text += line + "\n";
    }
    previous = line;
  }
  return blocks;
}

}  // namespace

BOOST_AUTO_TEST_CASE(readme_quotes_exactly_the_compiled_regions) {
  const auto compiled = regions(read_file("test_readme.cpp"));
  const auto blocks = cpp_blocks(read_file("../README.md"));
  BOOST_TEST(compiled.size() == 7u);
  std::map<std::string, int> quoted;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    bool found = false;
    for (const auto& [name, text] : compiled) {
      if (text == blocks[b]) {
        found = true;
        ++quoted[name];
      }
    }
    BOOST_TEST(found, "README's C++ block " << b + 1 << " is not a region of test_readme.cpp:\n"
                                            << blocks[b]);
  }
  for (const auto& [name, text] : compiled) {
    BOOST_TEST(quoted[name] == 1,
               "region '" << name << "' is quoted " << quoted[name] << " times in README.md");
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_readme
