// ONNX Runtime computes what xgrad computes: every layer of the export table
// and a trained LeNet-5 on Fashion-MNIST's 10,000 test images are exported,
// run in ONNX Runtime (onnxruntime-node, through onnx/run_ort.js) with graph
// optimization off and on, and compared with xgrad's own outputs within
// bounds derived from the arithmetic (onnx/layer_cases.hpp, Bound).
//
// Its own executable: main() reports SKIP to meson (exit code 77) with the
// reason when node or the onnxruntime-node package (bash .ci/setup installs
// both) is missing, or, for the LeNet entry (XGRAD_ONNX_NEEDS_DATASET=1),
// Debian's Fashion-MNIST: it never passes without running.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "onnx/layer_cases.hpp"
#include "test_util.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/onnx/export.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/serialize.hpp"

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Set by tests/meson.build.
std::string node_program() { return env("XGRAD_NODE"); }
std::string ort_modules() { return env("XGRAD_ONNXRUNTIME_MODULES"); }

// Why this test cannot run here, or "" when it can.
std::string missing_requirements() {
  namespace fs = std::filesystem;
  if (node_program().empty()) {
    return "node (Node.js) was not found when the build was configured; install nodejs "
           "(bash .ci/setup) and reconfigure";
  }
  if (ort_modules().empty() ||
      !fs::exists(fs::path(ort_modules()) / "onnxruntime-node" / "package.json")) {
    return "onnxruntime-node is not installed in '" + ort_modules() +
           "' (bash .ci/setup installs it with npm)";
  }
  if (env("XGRAD_ONNX_NEEDS_DATASET") == "1" &&
      !fs::exists(std::string(xgrad::data::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    return "Fashion-MNIST is not installed in " + std::string(xgrad::data::kFashionMnistDir) +
           " (apt-get install dataset-fashion-mnist)";
  }
  return "";
}

}  // namespace

bool init_unit_test() {
  boost::unit_test::framework::master_test_suite().p_name.value = "onnx_runtime";
  return true;
}

int main(int argc, char* argv[]) {
  const std::string missing = missing_requirements();
  if (!missing.empty()) {
    std::printf("SKIP: the ONNX Runtime check cannot run: %s\n", missing.c_str());
    return 77;  // meson: skipped
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

BOOST_AUTO_TEST_SUITE(test_onnx_runtime)

using onnx_cases::Bound;
using onnx_cases::LayerCase;
using onnx_cases::ModulePtr;
using xgrad::Module;
using xgrad::Tensor;
using xgrad_test::TempDir;

namespace {

constexpr double kU = 1.0 / (1 << 24);  // float's unit roundoff

double gamma(std::size_t n) {
  return static_cast<double>(n) * kU / (1 - static_cast<double>(n) * kU);
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A model and its input files, for one run of run_ort.js.
struct OrtJob {
  std::string model;
  std::vector<std::string> inputs;
};

// Runs every job in one node process; fails the test with run_ort's output
// when ONNX Runtime refuses a model or the script fails.
void run_ort(const std::vector<OrtJob>& jobs) {
  std::string cmd = quoted(node_program()) + " onnx/run_ort.js " + quoted(ort_modules());
  for (const OrtJob& j : jobs) {
    cmd += " " + quoted(j.model);
    for (const auto& in : j.inputs) cmd += " " + quoted(in);
  }
  cmd += " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = ::popen(cmd.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe, "cannot start " << cmd);
  std::string output;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  BOOST_REQUIRE_MESSAGE(status == 0, "run_ort.js failed (status " << status << "):\n" << output);
  BOOST_TEST_MESSAGE(
      output << "run_ort.js took "
             << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
             << " s");
}

void save_npy(const std::string& path, const xt::xarray<float>& a) {
  xgrad_test::write_file(path, xgrad::to_npy_bytes(a));
}

xt::xarray<float> load_npy(const std::string& path) {
  return xgrad::parse_npy<float>(xgrad_test::read_file(path), path);
}

// `m`'s outputs on `x` in eval mode, without a graph.
xt::xarray<float> forward(Module<float>& m, const xt::xarray<float>& x) {
  xgrad::NoGradGuard no_grad;
  m.eval();
  return m.forward(Tensor<float>(x)).data();
}

// A, the bound's magnitude (layer_cases.hpp, Bound::sums): a fresh copy of
// the case's module with |w| for every weight and bias and -|mean| for running
// means, run on |x|.
xt::xarray<float> magnitude(const std::function<ModulePtr()>& make, Module<float>& m,
                            const xt::xarray<float>& x) {
  ModulePtr copy = make();
  auto state = m.state_dict();
  for (auto& kv : state) {
    const std::string& key = kv.first;
    const auto ends = [&key](const std::string& s) {
      return key.size() >= s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("running_mean")) {
      kv.second = -xt::abs(kv.second);
    } else if (!ends("running_var") && !ends("num_batches_tracked")) {
      kv.second = xt::abs(kv.second);
    }
  }
  copy->load_state_dict(state);
  return forward(*copy, xt::abs(x));
}

// Bound::batch_statistics: (|x| + mean |x| + |mu|) invstd |weight| + |bias| per
// channel (axis 1), statistics over the other axes, times 2 gamma(count + 8).
xt::xarray<float> batch_statistics_bound(Module<float>& m, const xt::xarray<float>& x) {
  auto& bn = static_cast<xgrad::nn::BatchNormBase<float>&>(m);
  const std::size_t n = x.shape()[0], c = x.shape()[1], l = x.size() / (n * c);
  xt::xarray<float> tol = xt::zeros<float>(x.shape());
  for (std::size_t ch = 0; ch < c; ++ch) {
    double sum = 0, sum_abs = 0, count = static_cast<double>(n * l);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < l; ++j) {
        const double v = x.data()[(i * c + ch) * l + j];
        sum += v;
        sum_abs += std::abs(v);
      }
    const double mu = sum / count;
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < l; ++j) {
        const double e = x.data()[(i * c + ch) * l + j] - mu;
        ss += e * e;
      }
    const double invstd = 1 / std::sqrt(ss / count + bn.eps());
    const double w = bn.weight.defined() ? std::abs(bn.weight.data()(ch)) : 1;
    const double b = bn.bias.defined() ? std::abs(bn.bias.data()(ch)) : 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < l; ++j) {
        const std::size_t at = (i * c + ch) * l + j;
        const double a = (std::abs(x.data()[at]) + sum_abs / count + std::abs(mu)) * invstd * w + b;
        tol.data()[at] = static_cast<float>(2 * gamma(n * l + 8) * a);
      }
  }
  return tol;
}

// The rounding error of a float Sequential of Conv2d, Linear, ReLU,
// MaxPool2d and Flatten layers (LeNet), for the deep case where the
// worst-case bound (Bound::sums) is useless: it assumes every rounding error
// has the sign that hurts most, through every layer, and comes out at ~10 for
// logits of ~10. Instead, probabilistic rounding error analysis (Higham and
// Mary, "A new approach to probabilistic rounding error analysis", SIAM J.
// Sci. Comput. 41(5), 2019): rounding errors are independent, mean zero and
// at most u |partial sum| each, so a dot product of n terms errs by at most
// lambda sqrt(n) u sum |a_i b_i| except with probability 2 exp(-lambda^2 / 2),
// whatever the summation order. Carried through the network (first order):
// per output, the variance budget v (in units of u^2) gets n (|W| |h| + |b|)^2
// from each layer's own products and W^2 v from the layers before (ReLU and
// max pooling pass at most their input's error on: v unchanged, or the
// window's largest). Returned: sqrt(v); each implementation is then within
// lambda u sqrt(v) of the exact result.
// Computed in float (a bound needs no more: its own rounding is a relative
// 1e-6 of it), with xgrad's ops (the suites are built without optimization).
xt::xarray<float> rounding_sigma(xgrad::nn::Sequential<float>& net, const xt::xarray<float>& x) {
  namespace nn = xgrad::nn;
  using F = Tensor<float>;
  xgrad::NoGradGuard no_grad;
  const auto abs_of = [](const F& t) { return t.defined() ? xgrad::abs(t) : F(); };
  F h(x);
  F v = xgrad::mul(h, 0.0f);
  for (const auto& child : net.named_children()) {
    Module<float>& m = *child.second;
    if (auto* c = m.as<nn::Conv2d<float>>()) {
      const auto& o = c->options();
      const auto n = static_cast<float>(c->weight.data().size() / c->weight.shape()[0] + 1);
      const auto conv = [&](const F& in, const F& k, const F& bias) {
        return xgrad::conv2d(in, k, bias, o.stride(), o.padding(), o.dilation(), o.groups());
      };
      const F s = conv(abs_of(h), abs_of(c->weight), abs_of(c->bias));
      v = conv(v, c->weight * c->weight, F()) + s * s * n;
      h = conv(h, c->weight, c->bias);
    } else if (auto* l = m.as<nn::Linear<float>>()) {
      const auto n = static_cast<float>(l->in_features() + 1);
      const F s = xgrad::linear(abs_of(h), abs_of(l->weight), abs_of(l->bias));
      v = xgrad::linear(v, l->weight * l->weight) + s * s * n;
      h = xgrad::linear(h, l->weight, l->bias);
    } else if (m.as<nn::ReLU<float>>()) {
      h = xgrad::relu(h);
    } else if (auto* p = m.as<nn::MaxPool2d<float>>()) {
      const auto& o = p->options();
      h = xgrad::max_pool2d(h, o.kernel_size(), o.stride(), o.padding());
      v = xgrad::max_pool2d(v, o.kernel_size(), o.stride(), o.padding());
    } else if (m.as<nn::Flatten<float>>()) {
      const auto rows = static_cast<std::ptrdiff_t>(h.shape()[0]);
      h = xgrad::reshape(h, {rows, -1});
      v = xgrad::reshape(v, {rows, -1});
    } else {
      BOOST_FAIL("rounding_sigma: no error model for " << m.type_name());
    }
  }
  return xgrad::sqrt(v).data();
}

// How far ONNX Runtime's output may be from xgrad's y, per element.
xt::xarray<double> bound(const LayerCase& c, Module<float>& m, const xt::xarray<float>& x,
                         const xt::xarray<float>& y) {
  switch (c.bound) {
    case Bound::exact:
      return xt::zeros<double>(y.shape());
    case Bound::sums:
      return 2 * gamma(c.terms) * xt::cast<double>(magnitude(c.make, m, x));
    case Bound::batch_statistics:
      return xt::cast<double>(batch_statistics_bound(m, x));
    case Bound::squashing:
      return xt::zeros<double>(y.shape()) + 8 * kU;
    case Bound::softmax:
      return 2 * static_cast<double>(c.terms + 8) * kU * xt::abs(xt::cast<double>(y));
    case Bound::log_softmax:
      return 2 * kU * (static_cast<double>(c.terms + 8) + 2 * xt::abs(xt::cast<double>(y)));
  }
  return {};
}

struct Comparison {
  double max_diff = 0;   // max |ort - xgrad|
  double max_ratio = 0;  // max |ort - xgrad| / bound (0/0 counts as 0)
  std::size_t over = 0;  // elements beyond their bound
  std::size_t first_over = 0;
};

Comparison compare(const xt::xarray<float>& ort, const xt::xarray<float>& ref,
                   const xt::xarray<double>& tol) {
  Comparison r;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double d = std::abs(static_cast<double>(ort.data()[i]) - ref.data()[i]);
    r.max_diff = std::max(r.max_diff, d);
    if (d > 0)
      r.max_ratio = std::max(r.max_ratio, tol.data()[i] > 0 ? d / tol.data()[i] : INFINITY);
    if (!(d <= tol.data()[i])) {
      if (!r.over) r.first_over = i;
      ++r.over;
    }
  }
  return r;
}

const char* const kLevels[] = {"disabled", "all"};

std::string output_of(const std::string& input, const char* level) {
  return input.substr(0, input.size() - 4) + "." + level + ".npy";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(layers)

// Exported with an example batch of 3; run on batches of 1 and 5, so the
// batch axis is really free.
BOOST_AUTO_TEST_CASE(every_layer_matches_xgrad_at_batch_1_and_5_with_optimization_off_and_on) {
  TempDir dir;
  const std::vector<LayerCase> cases = onnx_cases::layer_cases();
  struct Run {
    std::size_t case_index;
    std::string input;
    xt::xarray<float> y;
    xt::xarray<double> tol;
  };
  std::vector<Run> runs;
  std::vector<OrtJob> jobs;
  std::vector<ModulePtr> modules;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const LayerCase& c = cases[i];
    ModulePtr m = c.make();
    modules.push_back(m);
    xgrad::Generator gen(1000 + i);
    const auto input_of = [&](std::size_t batch) {
      xgrad::Shape shape = {batch};
      shape.insert(shape.end(), c.sample_shape.begin(), c.sample_shape.end());
      return xgrad::rand<float>(shape, gen, -2.0f, 2.0f).data();
    };
    OrtJob job{dir / (c.name + ".onnx"), {}};
    xgrad::onnx::export_model(*m, Tensor<float>(input_of(3)), job.model);
    for (std::size_t batch : {1, 5}) {
      const xt::xarray<float> x = input_of(batch);
      Run r{i, dir / (c.name + "_batch" + std::to_string(batch) + ".npy"), forward(*m, x), {}};
      r.tol = bound(c, *m, x, r.y);
      save_npy(r.input, x);
      job.inputs.push_back(r.input);
      runs.push_back(std::move(r));
    }
    jobs.push_back(std::move(job));
  }
  run_ort(jobs);
  for (const Run& r : runs) {
    for (const char* level : kLevels) {
      BOOST_TEST_CONTEXT(cases[r.case_index].name << ", " << r.input.substr(r.input.rfind('_') + 1)
                                                  << ", optimization " << level) {
        const xt::xarray<float> out = load_npy(output_of(r.input, level));
        BOOST_REQUIRE(out.shape() == r.y.shape());
        const Comparison cmp = compare(out, r.y, r.tol);
        BOOST_TEST(cmp.over == 0, cmp.over << " elements beyond the bound; element "
                                           << cmp.first_over << ": ONNX Runtime "
                                           << out.data()[cmp.first_over] << ", xgrad "
                                           << r.y.data()[cmp.first_over] << ", bound "
                                           << r.tol.data()[cmp.first_over]);
        BOOST_TEST_MESSAGE(cases[r.case_index].name << " " << level << ": max |diff| "
                                                    << cmp.max_diff << ", max diff/bound "
                                                    << cmp.max_ratio);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lenet)

// LeNet-5 trained briefly (SGD, 150 steps of 64 images: well past chance, so
// the predictions mean something), then all 10,000 test images in chunks.
// Bound: rounding_sigma's, for each of the two implementations. ONNX
// Runtime's argmax can differ from xgrad's only where the two logits involved
// are within the sum of their bounds; that is asserted, and the number of
// such images reported (0 expected).
BOOST_AUTO_TEST_CASE(trained_lenet_matches_on_the_10000_fashion_mnist_test_images) {
  using xgrad::data::Split;
  auto train = xgrad::data::load_mnist<float>(xgrad::data::kFashionMnistDir, Split::train);
  auto test = xgrad::data::load_mnist<float>(xgrad::data::kFashionMnistDir, Split::test);
  for (auto* d : {&train, &test}) {  // the experiment's normalization
    d->features = (d->features / 255.0f - 0.28604f) / 0.35302f;
  }

  auto net = onnx_cases::lenet5(7);
  {
    xgrad::optim::SGD<float> sgd(net->parameters(), xgrad::optim::SGDOptions(0.05).momentum(0.9));
    xgrad::data::DataLoader<float> loader(train, 64, /*shuffle=*/true, /*seed=*/3);
    std::size_t step = 0;
    net->train();
    for (const auto& batch : loader) {
      if (step++ == 150) break;
      sgd.zero_grad();
      auto loss = xgrad::cross_entropy(
          net->forward(xgrad::reshape(batch.features, {-1, 1, 28, 28})), batch.labels);
      loss.backward();
      sgd.step();
    }
  }

  TempDir dir;
  xt::xarray<float> images = test.features.data();
  images.reshape({test.size(), 1, 28, 28});
  OrtJob job{dir / "lenet.onnx", {}};
  xgrad::onnx::export_model(
      *net, Tensor<float>(xt::xarray<float>(xt::view(images, xt::range(0, 3)))), job.model);
  const std::size_t chunk = 2000;
  std::vector<xt::xarray<float>> logits, tols;
  for (std::size_t begin = 0; begin < test.size(); begin += chunk) {
    const xt::xarray<float> x =
        xt::view(images, xt::range(begin, std::min(begin + chunk, test.size())));
    job.inputs.push_back(dir / ("images_" + std::to_string(begin) + ".npy"));
    save_npy(job.inputs.back(), x);
    logits.push_back(forward(*net, x));
    // Both within lambda u sqrt(v) of the exact logits; lambda = 10: 4e-22 per logit.
    tols.push_back(static_cast<float>(2 * 10 * kU) * rounding_sigma(*net, x));
  }
  run_ort({job});

  for (const char* level : kLevels) {
    BOOST_TEST_CONTEXT("optimization " << level) {
      std::size_t same = 0, correct_xgrad = 0, correct_ort = 0, row = 0;
      double max_diff = 0, max_ratio = 0, max_bound = 0;
      for (std::size_t k = 0; k < job.inputs.size(); ++k) {
        const xt::xarray<float> out = load_npy(output_of(job.inputs[k], level));
        const xt::xarray<float>& y = logits[k];
        BOOST_REQUIRE(out.shape() == y.shape());
        const Comparison cmp = compare(out, y, xt::cast<double>(tols[k]));
        BOOST_TEST(cmp.over == 0, cmp.over << " logits beyond the bound in chunk " << k);
        max_diff = std::max(max_diff, cmp.max_diff);
        max_ratio = std::max(max_ratio, cmp.max_ratio);
        max_bound = std::max(max_bound, static_cast<double>(xt::amax(tols[k])()));
        for (std::size_t i = 0; i < y.shape()[0]; ++i, ++row) {
          std::size_t a = 0, b = 0;  // xgrad's and ONNX Runtime's argmax (first maximum)
          for (std::size_t j = 1; j < 10; ++j) {
            if (y(i, j) > y(i, a)) a = j;
            if (out(i, j) > out(i, b)) b = j;
          }
          same += a == b;
          if (a != b) {
            BOOST_TEST(y(i, a) - y(i, b) <= tols[k](i, a) + tols[k](i, b),
                       "image " << row << ": xgrad picks " << a << ", ONNX Runtime " << b
                                << " although their logits are apart by more than the bounds");
          }
          correct_xgrad += a == static_cast<std::size_t>(test.labels(row));
          correct_ort += b == static_cast<std::size_t>(test.labels(row));
        }
      }
      BOOST_TEST(row == 10000u);
      BOOST_TEST_MESSAGE("LeNet, optimization "
                         << level << ": max |diff| " << max_diff << ", max diff/bound " << max_ratio
                         << " (largest bound " << max_bound << "), same argmax on " << same
                         << " of " << row << " images, accuracy xgrad " << correct_xgrad / 100.0
                         << "%, ONNX Runtime " << correct_ort / 100.0 << "%");
      // Far from chance (10%): the comparison is on a model that has learned.
      BOOST_TEST(correct_xgrad > 6000u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
