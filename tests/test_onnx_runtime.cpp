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
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "onnx/layer_cases.hpp"
#include "onnx/quant_cases.hpp"
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
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
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
      return 2 * gamma(c.terms) *
             xt::cast<double>(c.magnitude ? c.magnitude(m, x) : magnitude(c.make, m, x));
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
  std::vector<LayerCase> cases = onnx_cases::layer_cases();
  for (LayerCase& c : onnx_cases::quant_cases()) cases.push_back(std::move(c));
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

// The nearest-level rule on its hardest inputs: every midpoint of two
// neighbouring levels as float rounds it, and the floats one ulp either side,
// for an APoT (gamma included), an RCF (normalized levels, alpha 1.7) and a
// per-channel RCF (alphas 1.7 and 0.6 on the rows) quantizer; the input is
// [rows, midpoints].
// Bit-identical to xgrad: the same rounded distances, the lowest level on ties.
BOOST_AUTO_TEST_CASE(midpoints_of_levels_get_the_same_level_as_in_xgrad) {
  namespace quant = xgrad::quant;
  TempDir dir;
  quant::RCFOptions<float> rcf_options;
  rcf_options.alpha = 1.7f;
  auto rcf = std::make_shared<quant::RCFFakeQuantize<float>>(quant::apot_unsigned_levels(4, 2),
                                                             rcf_options);
  rcf_options.channel_len = 2;
  rcf_options.ch_axis = 0;  // not the last axis: the export must place the alphas
  auto rcf_pc = std::make_shared<quant::RCFFakeQuantize<float>>(quant::apot_unsigned_levels(4, 2),
                                                                rcf_options);
  rcf_pc->alpha().mutable_data()(1) = 0.6f;
  auto apot = std::make_shared<quant::APoTFakeQuantize<float>>(4, 2);
  xgrad::Generator gen(8);
  apot->forward(xgrad::rand<float>({64}, gen, 0.0f, 3.0f));  // observes: the qparams
  quant::freeze(*rcf);
  quant::freeze(*rcf_pc);
  quant::freeze(*apot);
  struct Case {
    std::string name;
    std::shared_ptr<Module<float>> m;
    std::vector<std::vector<float>> levels;  // in x's units, per input row
  };
  const auto scaled = [&rcf](float alpha) {
    std::vector<float> lv = rcf->levels();
    for (float& l : lv) l *= alpha;  // near alpha times the midpoints of u = x / alpha
    return lv;
  };
  const xt::xarray<float> apot_levels = apot->qparams().quantization_levels.data();
  const std::vector<Case> cases = {
      {"rcf", rcf, {scaled(1.7f)}},
      {"rcf_per_channel", rcf_pc, {scaled(1.7f), scaled(0.6f)}},
      {"apot", apot, {std::vector<float>(apot_levels.begin(), apot_levels.end())}}};
  std::vector<OrtJob> jobs;
  std::vector<xt::xarray<float>> expected;
  for (const Case& c : cases) {
    std::vector<std::vector<float>> columns;
    for (const std::vector<float>& lv : c.levels) {
      std::vector<float> x;
      for (std::size_t i = 0; i + 1 < lv.size(); ++i) {
        const float mid = (lv[i] + lv[i + 1]) / 2;
        for (float v : {std::nextafter(mid, -INFINITY), mid, std::nextafter(mid, INFINITY)})
          x.push_back(v);
      }
      columns.push_back(x);
    }
    xt::xarray<float> input = xt::xarray<float>::from_shape({columns.size(), columns[0].size()});
    for (std::size_t j = 0; j < columns.size(); ++j)
      for (std::size_t i = 0; i < columns[j].size(); ++i) input(j, i) = columns[j][i];
    expected.push_back(forward(*c.m, input));
    OrtJob job{dir / (c.name + ".onnx"), {dir / (c.name + "_midpoints.npy")}};
    xgrad::onnx::export_model(*c.m, Tensor<float>(input), job.model);
    save_npy(job.inputs[0], input);
    jobs.push_back(job);
  }
  run_ort(jobs);
  for (std::size_t k = 0; k < cases.size(); ++k) {
    for (const char* level : kLevels) {
      BOOST_TEST_CONTEXT(cases[k].name << ", optimization " << level) {
        const xt::xarray<float> out = load_npy(output_of(jobs[k].inputs[0], level));
        BOOST_REQUIRE(out.shape() == expected[k].shape());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < out.size(); ++i)
          differ += out.data()[i] != expected[k].data()[i];
        BOOST_TEST(differ == 0u, differ << " of " << out.size() << " values differ");
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct FashionMnist {
  xgrad::data::Dataset<float> train, test;
  xt::xarray<float> test_images;  // [10000, 1, 28, 28]
};

// Fashion-MNIST with the experiment's normalization.
FashionMnist fashion_mnist() {
  using xgrad::data::Split;
  FashionMnist d{xgrad::data::load_mnist<float>(xgrad::data::kFashionMnistDir, Split::train),
                 xgrad::data::load_mnist<float>(xgrad::data::kFashionMnistDir, Split::test),
                 {}};
  for (auto* s : {&d.train, &d.test}) s->features = (s->features / 255.0f - 0.28604f) / 0.35302f;
  d.test_images = d.test.features.data();
  d.test_images.reshape({d.test.size(), 1, 28, 28});
  return d;
}

// `steps` SGD steps of 64 images on `net` (after_step runs after each).
void train_steps(Module<float>& net, const xgrad::data::Dataset<float>& train, std::size_t steps,
                 std::uint64_t seed, const std::function<void()>& after_step = {}) {
  xgrad::optim::SGD<float> sgd(net.parameters(), xgrad::optim::SGDOptions(0.05).momentum(0.9));
  xgrad::data::DataLoader<float> loader(train, 64, /*shuffle=*/true, seed);
  std::size_t step = 0;
  net.train();
  for (const auto& batch : loader) {
    if (step++ == steps) break;
    sgd.zero_grad();
    auto loss = xgrad::cross_entropy(net.forward(xgrad::reshape(batch.features, {-1, 1, 28, 28})),
                                     batch.labels);
    loss.backward();
    sgd.step();
    if (after_step) after_step();
  }
  net.eval();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lenet)

// LeNet-5 trained briefly (SGD, 150 steps of 64 images: well past chance, so
// the predictions mean something), then all 10,000 test images in chunks.
// Bound: rounding_sigma's, for each of the two implementations. ONNX
// Runtime's argmax can differ from xgrad's only where the two logits involved
// are within the sum of their bounds; that is asserted, and the number of
// such images reported (0 expected).
BOOST_AUTO_TEST_CASE(trained_lenet_matches_on_the_10000_fashion_mnist_test_images) {
  const FashionMnist data = fashion_mnist();
  const auto& test = data.test;
  auto net = onnx_cases::lenet5(7);
  train_steps(*net, data.train, 150, 3);

  TempDir dir;
  const xt::xarray<float>& images = data.test_images;
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

BOOST_AUTO_TEST_SUITE(quantized_lenet)

namespace {

namespace quant = xgrad::quant;
namespace nn = xgrad::nn;

// Where ONNX Runtime may pick another level than xgrad. Both compute a
// quantizer's input h with rounding errors of at most e (the bound below),
// then apply the same rule to it; they can disagree only where h lies within
// e of a decision threshold of the quantizer: alpha times a midpoint of two
// neighbouring levels (RCF), or a half-integer grid point (uniform). Returned:
// h's distance to the nearest threshold minus a slack of 8 ulp for the
// rounding of x / alpha (x * (1 / scale)) and of the distances (the exact
// float threshold is within that of the midpoint). A value with e >= the
// margin may flip to the neighbouring level, and then the image is fragile.
xt::xarray<double> margin(quant::FakeQuantizeBase<float>& fq, const xt::xarray<float>& h) {
  xt::xarray<double> out = xt::xarray<double>::from_shape(h.shape());
  if (auto* r = fq.as<quant::RCFFakeQuantize<float>>()) {
    const double alpha = r->alpha().data()(0);
    const std::vector<float> lv = r->levels();
    // The midpoints, sorted: the nearest to u is one of the two around it (u -
    // m rounds monotonically in m), so d is the minimum over all of them. This
    // loop runs over every activation of 10,000 images, in a suite compiled at
    // -O0: a binary search on raw pointers, and fabs (a builtin, no call).
    std::vector<double> mid;
    for (std::size_t j = 0; j + 1 < lv.size(); ++j) mid.push_back((double(lv[j]) + lv[j + 1]) / 2);
    std::sort(mid.begin(), mid.end());
    const double* m = mid.data();
    const std::size_t nm = mid.size();
    const float* hp = h.data();
    double* op = out.data();
    for (std::size_t i = 0, n = h.size(); i < n; ++i) {
      const double u = hp[i] / alpha;
      std::size_t lo = 0, hi = nm;  // lo: the first midpoint >= u
      while (lo < hi) {
        const std::size_t c = (lo + hi) / 2;
        if (m[c] < u)
          lo = c + 1;
        else
          hi = c;
      }
      double d = INFINITY;  // std::min's rule: a NaN distance keeps d
      for (std::size_t k = lo > 0 ? lo - 1 : 0; k < nm && k <= lo; ++k)
        if (std::fabs(u - m[k]) < d) d = std::fabs(u - m[k]);
      const double au = std::fabs(u);
      op[i] = alpha * (d - 8 * kU * (1.0 < au ? au : 1.0));
    }
    return out;
  }
  // LSQ's learned step, or an 8-bit FakeQuantize's observed one (buffer
  // "scale"); both round x * (1 / scale) computed in float.
  float step = 0;
  if (auto* l = fq.as<quant::LearnableFakeQuantize<float>>()) {
    BOOST_REQUIRE(!l->is_per_channel());
    step = l->scale().data()(0);
  } else {
    const auto buffers = fq.named_buffers();
    BOOST_REQUIRE(buffers.contains("scale") && buffers["scale"].numel() == 1);
    step = buffers["scale"].data()(0);
  }
  const double scale = step, inv = 1.0f / step;
  const float* hp = h.data();
  double* op = out.data();
  for (std::size_t i = 0, n = h.size(); i < n; ++i) {
    const double t = hp[i] * inv;
    const double d = std::fabs(t - (std::floor(t) + 0.5));
    op[i] = scale * (d - 8 * kU * std::max(1.0, std::fabs(t)));
  }
  return out;
}

// xgrad's logits for a QAT or converted LeNet (Sequential of Conv2d /
// Linear layers with input quantizers, ReLU, MaxPool2d, Flatten), the bound
// on |ONNX Runtime - xgrad| per logit, and which images are fragile.
// The bound e, carried layer by layer (worst case, any summation order): a
// layer's sums of n terms are within gamma(n) |W| |xq| + |b| (= A) of exact in
// either implementation, so 2 gamma(n) A apart, plus |W| e_in when its
// inputs differ by e_in; a quantizer's output is identical in both (so e = 0
// after it) unless a value is within e of a threshold (margin): then the
// image is marked fragile and nothing is claimed for it. ReLU passes e on,
// max pooling the window's largest. Computed in float (its own rounding is a
// relative 1e-6 of the bound).
struct Analysis {
  xt::xarray<float> logits, bound;
  std::vector<bool> fragile;  // per image
};

Analysis analyze(nn::Sequential<float>& net, const xt::xarray<float>& x) {
  using F = Tensor<float>;
  xgrad::NoGradGuard no_grad;
  net.eval();
  const auto abs_of = [](const F& t) { return t.defined() ? xgrad::abs(t) : F(); };
  const std::size_t rows = x.shape()[0];
  Analysis r;
  r.fragile.assign(rows, false);
  F h(x), e = xgrad::mul(h, 0.0f);
  for (const auto& child : net.named_children()) {
    Module<float>& m = *child.second;
    std::shared_ptr<quant::FakeQuantizeBase<float>> fq;
    F w, b;
    const nn::Conv2dOptions* conv = nullptr;
    if (auto* q = dynamic_cast<quant::quantized::QuantizedLayer<float>*>(&m)) {
      fq = q->input_fake_quant, w = q->dequantized_weight(), b = q->bias;
      if (auto* c = m.as<quant::quantized::Conv2d<float>>()) conv = &c->options();
    } else if (auto* l = dynamic_cast<quant::qat::FakeQuantizedLayer<float>*>(&m)) {
      fq = l->input_fake_quant, w = l->fake_quantized_weight(), b = l->bias;
      if (auto* c = m.as<quant::qat::Conv2d<float>>()) conv = &c->options();
    }
    if (w.defined()) {
      F xq = h;
      if (fq) {
        const xt::xarray<double> mg = margin(*fq, h.data());
        const std::size_t per_row = mg.size() / rows;
        const float* ep = e.data().data();
        const double* mp = mg.data();
        for (std::size_t i = 0, n = mg.size(); i < n; ++i)
          if (!(ep[i] < mp[i])) r.fragile[i / per_row] = true;
        xq = fq->forward(h);
        e = xgrad::mul(e, 0.0f);
      }
      const auto op = [&](const F& in, const F& k, const F& bias) {
        return conv ? xgrad::conv2d(in, k, bias, conv->stride(), conv->padding(), conv->dilation(),
                                    conv->groups())
                    : xgrad::linear(in, k, bias);
      };
      const auto n = w.numel() / w.shape()[0] + 1;
      e = op(e, abs_of(w), F()) +
          op(abs_of(xq), abs_of(w), abs_of(b)) * static_cast<float>(2 * gamma(n));
      h = m.forward(h);
    } else if (m.as<nn::ReLU<float>>()) {
      h = m.forward(h);
    } else if (auto* p = m.as<nn::MaxPool2d<float>>()) {
      const auto& o = p->options();
      h = m.forward(h);
      e = xgrad::max_pool2d(e, o.kernel_size(), o.stride(), o.padding());
    } else if (m.as<nn::Flatten<float>>()) {
      h = m.forward(h);
      e = xgrad::reshape(e, {static_cast<std::ptrdiff_t>(rows), -1});
    } else {
      BOOST_FAIL("analyze: no error model for " << m.type_name());
    }
  }
  r.logits = h.data();
  r.bound = e.data();
  return r;
}

// A QAT LeNet from the trained float weights: prepared with `cfg` (the first
// conv, which sees the normalized, signed image, with 8-bit uniform as the
// experiment does), calibrated on 4 batches, frozen, then `steps` QAT steps.
std::shared_ptr<nn::Sequential<float>> qat_lenet(const FashionMnist& data,
                                                 const xgrad::StateDict<float>& trained,
                                                 const quant::QConfig<float>& cfg,
                                                 std::size_t steps) {
  auto net = onnx_cases::lenet5(7);
  net->load_state_dict(trained);
  quant::prepare_qat(*net, cfg, {{"0", quant::uniform_qconfig<float>(8)}});
  std::vector<Tensor<float>> batches;
  for (std::size_t k = 0; k < 4; ++k) {
    xt::xarray<float> x = xt::view(data.train.features.data(), xt::range(k * 256, (k + 1) * 256));
    x.reshape({256, 1, 28, 28});
    batches.push_back(Tensor<float>(std::move(x)));
  }
  quant::calibrate(*net, batches);
  quant::freeze(*net);
  train_steps(*net, data.train, steps, 11, [&net] { quant::clamp_alpha_(*net); });
  return net;
}

struct Result {
  std::size_t correct_xgrad = 0, correct_ort = 0, same = 0, fragile = 0, differ_stable = 0;
  double max_diff_stable = 0, max_ratio = 0;
};

}  // namespace

// The QAT APoT LeNet (4-bit RCF weights and activations), its converted
// model, and the converted LSQ LeNet (4-bit), each exported and run in ONNX
// Runtime on the 10,000 test images (chunks of 500: the nearest-level form
// holds |x - levels| for every activation, 16 values each), compared image
// by image with xgrad (analyze: the bound and the fragile images). Asserted:
// on every image that is not fragile, each logit is within the bound and
// both pick the same class unless xgrad's two top logits are within the
// bound. Reported: the
// accuracies, the fragile images, and the converted APoT model exported
// with float activations (ExportOptions::quantize_activations = false),
// whose accuracy in ONNX Runtime is what that option costs.
BOOST_AUTO_TEST_CASE(qat_converted_apot_and_lsq_lenets_match_on_the_10000_test_images) {
  const FashionMnist data = fashion_mnist();
  auto float_net = onnx_cases::lenet5(7);
  train_steps(*float_net, data.train, 150, 3);
  const auto trained = float_net->state_dict();

  auto apot = qat_lenet(data, trained, quant::apot_rcf_qconfig<float>(4), 30);
  auto lsq = qat_lenet(data, trained, quant::uniform_lsq_qconfig<float>(4), 30);

  TempDir dir;
  const xt::xarray<float>& images = data.test_images;
  const std::size_t chunk = 500, n = data.test.size();
  const Tensor<float> example(xt::xarray<float>(xt::view(images, xt::range(0, 3))));
  struct Model {
    std::string name;
    OrtJob job;
    std::vector<Analysis> chunks;
    bool compare = true;  // false: float activations, accuracy only
  };
  std::vector<Model> models;
  const auto add = [&](const std::string& name, nn::Sequential<float>& net,
                       const xgrad::onnx::ExportOptions& o, bool compare) {
    Model m{name, OrtJob{dir / (name + ".onnx"), {}}, {}, compare};
    xgrad::onnx::export_model(net, example, m.job.model, o);
    for (std::size_t begin = 0; begin < n; begin += chunk) {
      const xt::xarray<float> x = xt::view(images, xt::range(begin, std::min(begin + chunk, n)));
      m.job.inputs.push_back(dir / (name + "_" + std::to_string(begin) + ".npy"));
      save_npy(m.job.inputs.back(), x);
      m.chunks.push_back(analyze(net, x));
    }
    models.push_back(std::move(m));
  };
  xgrad::onnx::ExportOptions quantized, float_activations;
  float_activations.quantize_activations = false;
  add("apot_qat", *apot, quantized, true);
  quant::convert(*apot);
  add("apot_converted", *apot, quantized, true);
  add("apot_converted_float_activations", *apot, float_activations, false);
  quant::convert(*lsq);
  add("lsq_converted", *lsq, quantized, true);
  std::vector<OrtJob> jobs;
  for (const Model& m : models) jobs.push_back(m.job);
  run_ort(jobs);

  for (const Model& m : models) {
    for (const char* level : kLevels) {
      BOOST_TEST_CONTEXT(m.name << ", optimization " << level) {
        Result r;
        std::size_t row = 0;
        for (std::size_t k = 0; k < m.chunks.size(); ++k) {
          const xt::xarray<float> out = load_npy(output_of(m.job.inputs[k], level));
          const Analysis& a = m.chunks[k];
          BOOST_REQUIRE(out.shape() == a.logits.shape());
          for (std::size_t i = 0; i < a.logits.shape()[0]; ++i, ++row) {
            std::size_t x = 0, o = 0;  // the first maximum of each
            for (std::size_t j = 1; j < 10; ++j) {
              if (a.logits(i, j) > a.logits(i, x)) x = j;
              if (out(i, j) > out(i, o)) o = j;
            }
            r.same += x == o;
            const auto label = static_cast<std::size_t>(data.test.labels(row));
            r.correct_xgrad += x == label;
            r.correct_ort += o == label;
            if (!m.compare) continue;
            if (a.fragile[i]) {
              ++r.fragile;
              continue;
            }
            for (std::size_t j = 0; j < 10; ++j) {
              const double d = std::abs(double(out(i, j)) - a.logits(i, j));
              r.max_diff_stable = std::max(r.max_diff_stable, d);
              if (d > 0) r.max_ratio = std::max(r.max_ratio, d / a.bound(i, j));
              BOOST_TEST(d <= a.bound(i, j), "image " << row << ", logit " << j << ": ONNX Runtime "
                                                      << out(i, j) << ", xgrad " << a.logits(i, j)
                                                      << ", bound " << a.bound(i, j));
            }
            if (x != o) {
              ++r.differ_stable;
              BOOST_TEST(a.logits(i, x) - a.logits(i, o) <= a.bound(i, x) + a.bound(i, o),
                         "image " << row << ": xgrad picks " << x << ", ONNX Runtime " << o);
            }
          }
        }
        BOOST_TEST(row == 10000u);
        BOOST_TEST_MESSAGE(
            m.name << ", optimization " << level << ": accuracy xgrad " << r.correct_xgrad / 100.0
                   << "%, ONNX Runtime " << r.correct_ort / 100.0 << "%; same argmax on " << r.same
                   << " of 10000 images; fragile images " << r.fragile
                   << "; on the others max |diff| " << r.max_diff_stable << ", max diff/bound "
                   << r.max_ratio << ", argmax differing within the bound " << r.differ_stable);
        if (m.compare) BOOST_TEST(r.correct_xgrad > 6000u);  // a model that has learned
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
