// docs/libtorch.md, compiled and run: its C++ blocks are regions
// "// DOC begin docs/libtorch.md:<name>" ... "// DOC end", quoted verbatim by
// the page, and every xgrad spelling of its tables occurs in a
// "// DOC rows docs/libtorch.md" region below (test_docs.cpp checks both).
// After each region the case checks what the page says of it; the engine's
// own suites (tensor_methods, ops_indexing, ops_shape, nn_layers, data ...)
// specify each call in detail.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "test_util.hpp"

BOOST_AUTO_TEST_SUITE(test_docs_libtorch)

using namespace xgrad;

namespace {

// Keeps the snippets' printing out of the test log, and shows it to checks.
struct CaptureCout {
  std::ostringstream sink;
  std::streambuf* saved = std::cout.rdbuf(sink.rdbuf());
  ~CaptureCout() { std::cout.rdbuf(saved); }
};

}  // namespace

// The regions are quoted by the page: clang-format must leave them alone.
// clang-format off

BOOST_AUTO_TEST_CASE(a_first_cnn_program_in_libtorch_spellings) {
  CaptureCout out;
  const xgrad_test::TempDir dir;
  const std::string path = dir / "net.npz";
  // DOC begin docs/libtorch.md:first
  #include <xgrad/xgrad.hpp>  // like <torch/torch.h>
  using namespace xgrad;

  struct Net : nn::Module {
    Net() {
      conv = register_module("conv", std::make_shared<nn::Conv2d<float>>(
                                         nn::Conv2dOptions(1, 8, 3).padding(1)));
      bn = register_module("bn", std::make_shared<nn::BatchNorm2d<float>>(nn::BatchNorm2dOptions(8)));
      fc = register_module("fc", std::make_shared<nn::Linear<float>>(nn::LinearOptions(8 * 4 * 4, 4)));
    }
    Tensor<float> forward(const Tensor<float>& x) override {
      Tensor<float> h = max_pool2d(bn->forward(conv->forward(x)).relu(), 2);  // [N, 8, 4, 4]
      return fc->forward(h.view({h.size(0), -1}));
    }
    std::shared_ptr<nn::Conv2d<float>> conv;
    std::shared_ptr<nn::BatchNorm2d<float>> bn;
    std::shared_ptr<nn::Linear<float>> fc;
  };

  manual_seed(0);
  Generator gen(0);
  data::Dataset<float> bars = data::make_bars<float>(64, 8, 0.1f, gen);  // [256, 1, 8, 8], 4 classes
  std::vector<data::Dataset<float>> parts = data::random_split(bars, {192, 64}, gen);
  data::DataLoader<float> loader(parts[0], /*batch_size=*/32, /*shuffle=*/true, /*seed=*/0);

  auto net = std::make_shared<Net>();
  optim::Adam<float> opt(net->parameters(), optim::AdamOptions(1e-2));
  for (int epoch = 0; epoch < 8; ++epoch) {
    for (const data::Dataset<float>& batch : loader) {  // features [32, 1, 8, 8], labels [32]
      opt.zero_grad();
      Tensor<float> loss = cross_entropy(net->forward(batch.features), batch.labels);
      loss.backward();
      opt.step();
      std::cout << "loss " << loss.item<float>() << "\n";
    }
  }

  net->eval();
  NoGradGuard no_grad;
  Tensor<float> logits = net->forward(parts[1].features);
  std::int64_t correct = count_nonzero(eq(logits.argmax(1), parts[1].labels));
  std::cout << logits[0] << "\n" << *net;  // a tensor; the module tree and its sizes
  for (const auto& p : net->named_parameters()) std::cout << p.key() << " " << p.value().sizes() << "\n";

  save(net, path);  // path: "net.npz", NumPy's format
  auto restored = std::make_shared<Net>();
  load(restored, path);
  restored->eval();  // restored->forward(x) == net->forward(x), bit for bit
  // DOC end
  // Eight epochs of six batches separate the four orientations well above
  // chance (0.25); the seeds make the run repeatable, the margin makes the
  // threshold hold on every OpenBLAS kernel set.
  BOOST_TEST(correct >= 48, correct << " of 64 held-out images right");
  BOOST_TEST(xgrad_test::equal_arrays(restored->forward(parts[1].features).data(), logits.data()));
  const std::string printed = out.sink.str();
  BOOST_TEST(printed.find("tensor([") != std::string::npos);
  BOOST_TEST(printed.find("conv.weight [8, 1, 3, 3]") != std::string::npos);
  BOOST_TEST(printed.find("bn.running_mean") == std::string::npos);  // a buffer, not a parameter
}

BOOST_AUTO_TEST_CASE(tensor_habits_tour) {
  CaptureCout out;
  // DOC begin docs/libtorch.md:tensors
  using namespace xgrad::indexing;  // Slice, None, Ellipsis, as torch::indexing

  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  Tensor<float> a = Tensor<float>(values).view({2, 3});
  std::cout << a << a.sizes() << " " << a.size(-1) << "\n";
  // tensor([[1., 2., 3.],
  //         [4., 5., 6.]], shape=[2, 3], dtype=float32)[2, 3] 3

  Tensor<float> w = randn({3, 2}).requires_grad_();
  Tensor<float> y = a.matmul(w).relu();
  Tensor<float> row = y[1];                           // a copy of row 1; gradients flow back
  Tensor<float> tail = a.index({Slice(), Slice(1, None)});  // a[:, 1:], [2, 2]
  Mask big = a > 2.5f;                                // a Mask (xt::xarray<bool>), as libtorch's bool tensor
  std::int64_t n = count_nonzero(a == a.t().t());     // 6
  (row.sum() + y.flatten().mean()).backward();
  float first = a[0][0].item<float>();                // 1
  // DOC end
  BOOST_TEST(out.sink.str() ==
             "tensor([[1., 2., 3.],\n        [4., 5., 6.]], shape=[2, 3], dtype=float32)[2, 3] 3\n");
  BOOST_TEST(tail.sizes() == (Shape{2, 2}));
  BOOST_TEST(count_nonzero(big) == 4);
  BOOST_TEST(n == 6);
  BOOST_TEST(first == 1.0f);
  BOOST_TEST(w.grad().sizes() == (Shape{3, 2}));
}

// ---- the tables' rows ----

BOOST_AUTO_TEST_CASE(tensor_rows_compile_and_behave_as_the_table_says) {
  CaptureCout out;
  const float data[] = {1, 2, 3, 4, 5, 6};
  const float* ptr = data;
  // DOC rows docs/libtorch.md
  #include <xgrad/xgrad.hpp>
  #include <xgrad/tensor.hpp>
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  Tensor<float> v1 = Tensor<float>(values), v2 = tensor(values);
  Tensor<double> d = zeros<double>({2, 3});
  Tensor<float> t = from_blob(ptr, 6, {2, 3}), u = from_vector(values, {2, 3});
  Tensor<float> z = zeros({2, 3}), o = ones({2, 3}), r = randn({2, 3}), q = rand({2, 3});
  Tensor<float> f = full<float>({2}, 7.0f), ar = arange<float>(0, 5);
  manual_seed(0);
  Generator gen(0);
  Labels ids = randint(0, 10, {8});
  Tensor<float> fids = randint<float>(0, 10, {8});
  // DOC end
  BOOST_TEST(v1.sizes() == (Shape{6}));
  BOOST_TEST(v2.sizes() == (Shape{6}));
  BOOST_TEST(xgrad_test::equal_arrays(t.data(), u.data()));
  BOOST_TEST(t.data()(1, 0) == 4.0f);
  BOOST_TEST(d.data() == xt::zeros<double>({2, 3}));
  BOOST_TEST(z.sizes() == (Shape{2, 3}));
  BOOST_TEST(o.sizes() == r.sizes());
  BOOST_TEST(q.sizes() == r.sizes());
  BOOST_TEST(f.data() == (xt::xarray<float>{7, 7}));
  BOOST_TEST(ar.data() == (xt::xarray<float>{0, 1, 2, 3, 4}));
  BOOST_TEST(ids.size() == 8u);
  BOOST_TEST(xt::all(ids >= 0 && ids < 10));
  BOOST_TEST(fids.sizes() == (Shape{8}));
}

BOOST_AUTO_TEST_CASE(query_rows) {
  Tensor<float> t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  // DOC rows docs/libtorch.md
  auto sizes = t.sizes();
  std::int64_t rows = t.size(0), last = t.size(-1);
  std::size_t dims = t.dim(), count = t.numel();
  float x = t[1][2].item<float>(), sum = t.sum().item();
  std::int64_t whole = t[0][1].item<int64_t>();
  // DOC end
  std::ostringstream printed;
  printed << sizes;
  BOOST_TEST(printed.str() == "[2, 3]");
  BOOST_TEST(rows == 2);
  BOOST_TEST(last == 3);
  BOOST_TEST(dims == 2u);
  BOOST_TEST(count == 6u);
  BOOST_TEST(x == 6.0f);
  BOOST_TEST(sum == 21.0f);
  BOOST_TEST(whole == 2);
  BOOST_CHECK_THROW(scalar(std::nanf("")).item<int64_t>(), ValueError);
}

BOOST_AUTO_TEST_CASE(indexing_rows) {
  using namespace xgrad::indexing;
  Tensor<float> t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  // DOC rows docs/libtorch.md
  Tensor<float> row = t[0], one = t[1][2];
  Tensor<float> part = t.index({0, Slice(1, None)}), col = t.index({Ellipsis, 0});
  t.index_put_({0}, 1.0f);
  // DOC end
  BOOST_TEST(row.data() == (xt::xarray<float>{1, 2, 3}));
  BOOST_TEST(one.item() == 6.0f);
  BOOST_TEST(part.data() == (xt::xarray<float>{2, 3}));
  BOOST_TEST(col.data() == (xt::xarray<float>{1, 4}));
  BOOST_TEST(t.data() == (xt::xarray<float>{{1, 1, 1}, {4, 5, 6}}));
  BOOST_TEST(row.data() == (xt::xarray<float>{1, 2, 3}));  // a copy: unchanged
}

BOOST_AUTO_TEST_CASE(shape_rows) {
  Tensor<float> t = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor<float> a = ones({2, 3}), b = zeros({2, 3});
  // DOC rows docs/libtorch.md
  Tensor<float> v = t.view({t.size(0), -1}), r = t.reshape({2, -1}), fl = t.flatten(1);
  Tensor<float> un = t.unsqueeze(0), sq = un.squeeze(), s0 = un.squeeze(0), c = t.contiguous();
  Tensor<float> tt = t.t(), tr = t.transpose(0, 1), pe = t.permute({1, 0});
  Tensor<float> joined = cat({a, b}, 1), joined2 = concat({a, b}, 1);
  Tensor<double> t64 = t.to<double>();
  // DOC end
  BOOST_TEST(v.sizes() == (Shape{2, 3}));
  BOOST_TEST(r.sizes() == (Shape{2, 3}));
  BOOST_TEST(fl.sizes() == (Shape{2, 3}));
  BOOST_TEST(un.sizes() == (Shape{1, 2, 3}));
  BOOST_TEST(sq.sizes() == (Shape{2, 3}));
  BOOST_TEST(s0.sizes() == (Shape{2, 3}));
  BOOST_TEST(&c.data() == &t.data());
  BOOST_TEST(xgrad_test::equal_arrays(tt.data(), tr.data()));
  BOOST_TEST(xgrad_test::equal_arrays(tt.data(), pe.data()));
  BOOST_TEST(tr.data()(2, 1) == 6.0f);
  BOOST_TEST(joined.sizes() == (Shape{2, 6}));
  BOOST_TEST(xgrad_test::equal_arrays(joined.data(), joined2.data()));
  BOOST_TEST(t64.data()(1, 2) == 6.0);
}

BOOST_AUTO_TEST_CASE(comparison_and_reduction_rows) {
  Tensor<float> a = from_vector<float>({1, 2, 3, 4}, {2, 2}), b = ones({2, 2});
  Tensor<float> t = a, w = ones({2, 2}), ids = from_vector<float>({0, 3, 1, 2});
  // DOC rows docs/libtorch.md
  Mask m1 = a == b, m2 = a != b, m3 = a < b, m4 = a >= 0.5f;
  std::int64_t same = count_nonzero(a == b);
  Tensor<float> picked = where(a > 2.0f, a, b);
  Labels best = t.argmax(1);
  Tensor<float> s = t.sum(1, true), m = t.mean(), mx = t.max(1);
  Tensor<float> act = t.relu() + relu(t) + softmax(t, 1) + t.exp();
  Tensor<float> prod = t.matmul(w) + matmul(t, w);
  Labels classes = to_labels(ids, 10);
  // DOC end
  BOOST_TEST(count_nonzero(m1) == 1);
  BOOST_TEST(count_nonzero(m2) == 3);
  BOOST_TEST(count_nonzero(m3) == 0);
  BOOST_TEST(count_nonzero(m4) == 4);
  BOOST_TEST(same == 1);
  BOOST_TEST(picked.data() == (xt::xarray<float>{{1, 1}, {3, 4}}));
  BOOST_TEST(best == (Labels{1, 1}));
  BOOST_TEST(s.sizes() == (Shape{2, 1}));
  BOOST_TEST(m.item() == 2.5f);
  BOOST_TEST(mx.data() == (xt::xarray<float>{2, 4}));  // the values only
  BOOST_TEST(act.sizes() == (Shape{2, 2}));
  BOOST_TEST(prod.data() == (xt::xarray<float>{{6, 6}, {14, 14}}));
  BOOST_TEST(classes == (Labels{0, 3, 1, 2}));
}

BOOST_AUTO_TEST_CASE(autograd_and_printing_rows) {
  CaptureCout out;
  Tensor<float> w = ones({2}), t = from_vector<float>({1, 2});
  int n = get_num_threads();
  // DOC rows docs/libtorch.md
  w.requires_grad_();
  Tensor<float> w2 = ones({2}).set_requires_grad(true);
  Tensor<float> loss = (w * t).sum() + (w2 * w2).sum();
  loss.backward();
  Tensor<float> g = w.grad(), fixed = w.detach(), copy = w.clone();
  {
    NoGradGuard no_grad;
    std::cout << t;
  }
  set_num_threads(n);
  // DOC end
  BOOST_TEST(g.data() == (xt::xarray<float>{1, 2}));
  BOOST_TEST(w2.grad().data() == (xt::xarray<float>{2, 2}));
  BOOST_TEST(!fixed.requires_grad());
  BOOST_TEST(copy.requires_grad());
  BOOST_TEST(out.sink.str() == "tensor([1., 2.], shape=[2], dtype=float32)");
  BOOST_TEST(get_num_threads() == n);
}

BOOST_AUTO_TEST_CASE(module_rows) {
  CaptureCout out;
  const xgrad_test::TempDir dir;
  const std::string path = dir / "net.npz";
  // DOC rows docs/libtorch.md
  struct Net : nn::Module {
    std::shared_ptr<nn::Linear<float>> fc;
    Tensor<float> scale, steps;
    Net() {
      fc = register_module("fc", std::make_shared<nn::Linear<float>>(4, 2));
      scale = register_parameter("scale", ones({1}));
      steps = register_buffer("steps", zeros({1}));
    }
    Tensor<float> forward(const Tensor<float>& x) override { return fc->forward(x) * scale; }
  };
  auto net = std::make_shared<Net>();
  Tensor<float> x = randn({3, 4});
  Tensor<float> y1 = net->forward(x), y2 = (*net)(x);
  auto a = std::make_shared<nn::Linear<float>>(nn::LinearOptions(4, 2).bias(false));
  auto b = std::make_shared<nn::ReLU<float>>();
  auto c = std::make_shared<nn::Linear<float>>(2, 2);
  std::shared_ptr<nn::Module> m = std::make_shared<nn::Dropout<float>>(0.5);
  auto seq = std::make_shared<nn::Sequential<float>>(a, b, c);
  nn::Sequential<float> seq2{a, b};
  seq->push_back(m);
  auto params = net->parameters();
  for (const auto& p : net->named_parameters()) std::cout << p.key() << p.value().sizes();
  Tensor<float> fcw = net->named_parameters()["fc.weight"];
  net->train();
  net->eval();
  bool training = net->is_training();
  save(net, path);
  load(net, path);
  std::cout << *net << summary(*net);
  // DOC end
  BOOST_TEST(xgrad_test::equal_arrays(y1.data(), y2.data()));
  BOOST_TEST(params.size() == 3u);  // fc.weight, fc.bias, scale
  BOOST_TEST(fcw.sizes() == (Shape{2, 4}));
  BOOST_TEST(!training);
  BOOST_TEST(seq->size() == 4u);
  BOOST_TEST(net->steps.sizes() == (Shape{1}));
  BOOST_TEST(seq2.size() == 2u);
  BOOST_TEST(a->parameters().size() == 1u);  // bias(false)
  BOOST_TEST(out.sink.str().find("fc.weight[2, 4]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(layer_rows) {
  // DOC rows docs/libtorch.md
  auto conv = std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 8, 3).padding(1));
  auto bn2 = std::make_shared<nn::BatchNorm2d<float>>(nn::BatchNorm2dOptions(8).momentum(0.01));
  auto bn1 = std::make_shared<nn::BatchNorm1d<float>>(nn::BatchNorm1dOptions(16));
  auto flat = std::make_shared<nn::Flatten<float>>();
  auto unflat = std::make_shared<nn::Unflatten<float>>(nn::UnflattenOptions(1, {8, 4, 4}));
  auto pool = std::make_shared<nn::MaxPool2d<float>>(2);
  Tensor<float> x = randn({2, 1, 8, 8});
  Tensor<float> h = pool->forward(bn2->forward(conv->forward(x)));
  Tensor<float> p = max_pool2d(x, 2);
  // DOC end
  BOOST_TEST(h.sizes() == (Shape{2, 8, 4, 4}));
  BOOST_TEST(p.sizes() == (Shape{2, 1, 4, 4}));
  BOOST_TEST(unflat->forward(flat->forward(h)).sizes() == h.sizes());
  BOOST_TEST(bn1->forward(randn({4, 16})).sizes() == (Shape{4, 16}));
}

BOOST_AUTO_TEST_CASE(training_rows) {
  auto net = std::make_shared<nn::Linear<float>>(4, 3);
  Tensor<float> logits = randn({5, 3}), a = randn({5, 3}), b = zeros({5, 3});
  Labels labels = {0, 1, 2, 0, 1};
  // DOC rows docs/libtorch.md
  optim::Adam<float> opt(net->parameters(), optim::AdamOptions(1e-3));
  optim::SGD<float> sgd(net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::AdamW<float> adamw(net->parameters(), optim::AdamWOptions(1e-3));
  optim::StepLR<float> sched(opt, 10, 0.5);
  Tensor<float> l1 = cross_entropy(logits, labels);
  Tensor<float> l2 = nll_loss(log_softmax(logits, 1), labels);
  Tensor<float> l3 = mse_loss(a, b);
  opt.zero_grad();
  (l1 + l2 + l3 + net->forward(randn({5, 4})).sum()).backward();
  opt.step();
  sched.step();
  // DOC end
  BOOST_TEST(l1.item() == l2.item());  // the same loss, fused or not
  BOOST_TEST(l3.item() > 0.0f);
  BOOST_TEST(opt.lr(0) == 1e-3, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(data_rows) {
  Generator gen(0);
  data::Dataset<float> all = data::make_bars<float>(64, 8, 0.1f, gen);
  data::Dataset<float> train = all;
  std::vector<std::size_t> indices = {3, 1, 4};
  std::size_t seen = 0;
  // DOC rows docs/libtorch.md
  data::DataLoader<float> loader(train, 64, true, 0);
  for (const data::Dataset<float>& batch : loader) {
    Tensor<float> images = batch.features;  // [64, 1, 8, 8]
    Labels classes = batch.labels;
    seen += classes.size() + 0 * images.numel();
  }
  std::vector<data::Dataset<float>> parts = data::random_split(all, {192, 64}, gen);
  data::Dataset<float> some = data::subset(all, indices);
  Labels labels = all.labels;
  std::int64_t first = labels(0);
  Mask agree = eq(labels, labels);
  // DOC end
  BOOST_TEST(seen == 256u);
  BOOST_TEST(parts[0].size() == 192u);
  BOOST_TEST(parts[1].features.sizes() == (Shape{64, 1, 8, 8}));
  BOOST_TEST(some.size() == 3u);
  BOOST_TEST(some.labels(0) == all.labels(3));
  BOOST_TEST(first == 0);  // class-major order
  BOOST_TEST(count_nonzero(agree) == 256);
}

// clang-format on

BOOST_AUTO_TEST_SUITE_END()  // test_docs_libtorch
