// The C++ blocks of the engine's pages (docs/autograd.md, layers.md,
// training.md, data.md), compiled and run: each block is a region
// "// DOC begin docs/<page>.md:<name>" ... "// DOC end" below, quoted verbatim
// by its page (test_docs.cpp checks that). After each region the case checks
// what the page says the block does.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "test_util.hpp"

BOOST_AUTO_TEST_SUITE(test_docs_engine)

using namespace xgrad;

namespace {

// Keeps the snippets' printing out of the test log.
struct QuietCout {
  std::ostringstream sink;
  std::streambuf* saved = std::cout.rdbuf(sink.rdbuf());
  ~QuietCout() { std::cout.rdbuf(saved); }
};

}  // namespace

// The regions are quoted by the pages: clang-format must leave them alone.
// clang-format off

// ---- docs/autograd.md ----

BOOST_AUTO_TEST_CASE(autograd_backward) {
  // DOC begin docs/autograd.md:backward
  auto a = tensor<double>({1.0, 2.0, 3.0}, /*requires_grad=*/true);
  auto y = (a * a).sum();              // two nodes: MulBackward, then SumBackward
  y.backward(/*retain_graph=*/true);   // a.grad() == [2, 4, 6]
  y.backward();                        // gradients accumulate: a.grad() == [4, 8, 12]
  a.zero_grad();                       // a.grad() is undefined again

  Tensor<double> z;
  {
    NoGradGuard no_grad;               // nothing is recorded inside (evaluation, updates)
    z = a * 2.0;                       // z.requires_grad() == false
  }
  auto frozen = a.detach();            // the same data, no history
  // DOC end
  BOOST_TEST(!a.grad().defined());
  BOOST_TEST(!z.requires_grad());
  BOOST_TEST(!frozen.requires_grad());
  BOOST_TEST(&frozen.data() == &a.data());  // shares the storage
  BOOST_CHECK_THROW(y.backward(), StateError);  // released by the last backward
  auto b = tensor<double>({1.0, 2.0, 3.0}, true);
  auto yb = (b * b).sum();
  BOOST_TEST(std::string(yb.grad_fn_name()) == "SumBackward");
  yb.backward(true);
  BOOST_TEST(b.grad().data() == (xt::xarray<double>{2, 4, 6}));
  yb.backward();
  BOOST_TEST(b.grad().data() == (xt::xarray<double>{4, 8, 12}));
}

BOOST_AUTO_TEST_CASE(autograd_hooks) {
  // DOC begin docs/autograd.md:hooks
  auto w = tensor<double>({1.0, -2.0}, /*requires_grad=*/true);
  std::vector<double> norms;
  w.register_hook([&](const Tensor<double>& grad) {  // returns nothing: observes
    norms.push_back(std::sqrt((grad * grad).sum().item()));
  });
  const unsigned clip = w.register_hook([](const Tensor<double>& grad) {
    return grad.clamp(-1.0, 1.0);                    // returns a tensor: replaces
  });
  (w * w * 3.0).sum().backward();  // the hooks get [6, -12]; w.grad() == [1, -1]
  w.remove_hook(clip);
  // DOC end
  BOOST_TEST(norms.size() == 1u);
  BOOST_TEST(norms[0] == std::sqrt(180.0));
  BOOST_TEST(w.grad().data() == (xt::xarray<double>{1, -1}));
  (w * 2.0).sum().backward();  // no clipping any more
  BOOST_TEST(w.grad().data() == (xt::xarray<double>{3, 1}));
  BOOST_TEST(norms.size() == 2u);
}

// At namespace scope (a class inside a function cannot have member templates).
// DOC begin docs/autograd.md:function
// y = x^3, dy/dx = 3 x^2
struct Cube : xgrad::Function<Cube> {
  static constexpr const char* name = "CubeBackward";
  template <class T>
  static xt::xarray<T> forward(xgrad::Context<T>& ctx, const xgrad::Tensor<T>& x) {
    ctx.save_for_backward({x});
    return x.data() * x.data() * x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(xgrad::Context<T>& ctx, const xt::xarray<T>& grad) {
    const xt::xarray<T>& x = ctx.saved(0);
    return xgrad::gradients(xt::xarray<T>(3 * x * x * grad));  // one gradient per tensor input
  }
};

bool cube_passes_gradcheck() {
  auto x = xgrad::randn<double>({3, 4}).set_requires_grad(true);
  auto y = Cube::apply(x);  // records one node, "CubeBackward"
  auto result = xgrad::gradcheck(
      [](const std::vector<xgrad::Tensor<double>>& in) { return Cube::apply(in[0]); }, {x});
  return result.passed;     // result.message describes the worst element otherwise
}
// DOC end

BOOST_AUTO_TEST_CASE(autograd_function) {
  BOOST_TEST(cube_passes_gradcheck());
  auto x = tensor<double>({2.0, -1.0}, true);
  auto y = Cube::apply(x);
  BOOST_TEST(std::string(y.grad_fn_name()) == "CubeBackward");
  y.sum().backward();
  BOOST_TEST(x.grad().data() == (xt::xarray<double>{12, 3}));
  BOOST_TEST(y.data() == (xt::xarray<double>{8, -1}));
}

BOOST_AUTO_TEST_CASE(autograd_errors) {
  // DOC begin docs/autograd.md:errors
  std::string message;
  try {
    matmul(ones<float>({2, 3}), ones<float>({2, 3}));
  } catch (const ShapeError& e) {
    message = e.what();  // names matmul and both shapes
  }
  // DOC end
  BOOST_TEST_MESSAGE(message);
  BOOST_TEST(message.find("matmul") != std::string::npos);
  BOOST_TEST(message.find("[2, 3]") != std::string::npos);
}

// ---- docs/layers.md ----

BOOST_AUTO_TEST_CASE(layers_module) {
  QuietCout quiet;
  // DOC begin docs/layers.md:module
  struct Mlp : Module<float> {
    std::shared_ptr<nn::Linear<float>> fc1, fc2;
    Mlp() : Module<float>("Mlp") {
      fc1 = register_module("fc1", std::make_shared<nn::Linear<float>>(4, 8));
      fc2 = register_module("fc2", std::make_shared<nn::Linear<float>>(8, 2));
    }
    Tensor<float> forward(const Tensor<float>& x) override {
      return fc2->forward(relu(fc1->forward(x)));
    }
  };

  auto net = std::make_shared<Mlp>();
  Tensor<float> out = (*net)(randn<float>({5, 4}));  // [5, 2]
  StateDict<float> state = net->state_dict();       // fc1.weight, fc1.bias, fc2.weight, fc2.bias
  std::cout << summary(*net);                         // the tree, shapes and parameter counts
  // DOC end
  BOOST_TEST(out.shape() == (Shape{5, 2}));
  std::vector<std::string> keys;
  for (const auto& kv : state) keys.push_back(kv.first);
  BOOST_TEST(keys == (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  BOOST_TEST(quiet.sink.str().find("fc1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(layers_lenet) {
  // DOC begin docs/layers.md:lenet
  #include <xgrad/nn/conv.hpp>
  #include <xgrad/nn/pool.hpp>

  nn::Sequential<float> lenet{
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 6, 5).padding(2)),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(6, 16, 5)),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Flatten<float>>(), std::make_shared<nn::Linear<float>>(400, 10)};
  // DOC end
  BOOST_TEST(lenet.forward(zeros<float>({2, 1, 28, 28})).shape() == (Shape{2, 10}));
}

// ---- docs/training.md ----

BOOST_AUTO_TEST_CASE(training_groups_and_schedule) {
  // DOC begin docs/training.md:optimizers
  nn::Linear<float> fc(4, 2);
  optim::SGD<float> opt({optim::ParamGroup<float>{{fc.weight}, /*lr=*/0.1, /*weight_decay=*/1e-4},
                         optim::ParamGroup<float>{{fc.bias}, /*lr=*/{}, /*weight_decay=*/{}}},  // unset: the options'
                        optim::SGDOptions(0.01).momentum(0.9));
  optim::StepLR<float> schedule(opt, /*step_size=*/10, /*gamma=*/0.5);
  for (int epoch = 0; epoch < 30; ++epoch) {
    opt.zero_grad();
    mse_loss(fc.forward(ones<float>({8, 4})), zeros<float>({8, 2})).backward();
    opt.step();
    schedule.step();  // once per epoch, after opt.step()
  }
  // opt.lr(0) == 0.1 * 0.5^3, opt.lr(1) == 0.01 * 0.5^3
  // DOC end
  // Rates are held in float (the parameters' type): 0.1 * 0.125 rounded once.
  BOOST_TEST(opt.lr(0) == double(float(0.1 * 0.125)));
  BOOST_TEST(opt.lr(1) == double(float(0.01 * 0.125)));
  BOOST_TEST(opt.weight_decay(0) == double(float(1e-4)));
  BOOST_TEST(opt.weight_decay(1) == 0.0);
}

BOOST_AUTO_TEST_CASE(training_checkpoint) {
  const xgrad_test::TempDir dir;
  const std::string path = dir / "model.npz";
  // DOC begin docs/training.md:checkpoint
  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(4, 8),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(8, 2)};
  save(model, path);                  // path: "model.npz"; members 0.weight, 0.bias, 2.weight, 2.bias

  nn::Sequential<float> restored{std::make_shared<nn::Linear<float>>(4, 8),
                                 std::make_shared<nn::ReLU<float>>(),
                                 std::make_shared<nn::Linear<float>>(8, 2)};
  load(restored, path);               // strict: every key and shape must match
  StateDict<float> dict = load_state_dict_file<float>(path);  // or the dict itself
  // DOC end
  BOOST_TEST(dict.size() == 4u);
  BOOST_TEST(dict[0].first == "0.weight");
  const auto x = randn<float>({3, 4});
  BOOST_TEST(restored.forward(x).data() == model.forward(x).data());
}

// ---- docs/data.md ----

BOOST_AUTO_TEST_CASE(data_loader) {
  // DOC begin docs/data.md:loader
  Generator gen(0);
  data::Dataset<float> all = data::make_spirals<float>(200, 3, 0.05f, gen);  // [600, 2]
  auto [train, test] = data::train_test_split(all, /*test_fraction=*/0.2, gen);
  data::DataLoader<float> loader(train, /*batch_size=*/64, /*shuffle=*/true, /*seed=*/1);
  for (const data::Dataset<float>& batch : loader) {
    // batch.features [64, 2] (the last batch may be smaller), batch.labels [64]
  }
  // DOC end
  std::size_t batches = 0, rows = 0;
  for (const data::Dataset<float>& batch : loader) {
    ++batches;
    rows += batch.size();
    BOOST_TEST(batch.features.shape()[1] == 2u);
    BOOST_TEST(batch.features.shape()[0] == batch.size());
  }
  BOOST_TEST(all.features.shape() == (Shape{600, 2}));
  BOOST_TEST(test.size() == 120u);
  BOOST_TEST(rows == 480u);
  BOOST_TEST(batches == 8u);  // 480 rows: 7 of 64 and one of 32
}

// clang-format on

BOOST_AUTO_TEST_SUITE_END()  // test_docs_engine
