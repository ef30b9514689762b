// One training epoch of the QAT experiment (project issue 20): the seconds a
// user's epoch costs, xgrad beside libtorch in the same process, one thread
// (xgrad's and OpenBLAS's; the peer sets libtorch's and OpenBLAS's). Cases,
// registered as "xgrad/lenet_epoch_<model>/f32/t1" and, with the libtorch peer
// (torch_peer_lenet_epoch.cpp), "torch/...":
//   float    the float LeNet-5, Adam at 1e-3;
//   apot_b4, apot_b2  APoT QAT as the paper trains it (the experiment's
//            "APoT (paper)" rows): conv2, fc1, fc2 with weight normalization
//            and RCF on b-bit weights and b-bit unsigned inputs; conv1's and
//            fc3's weights 8-bit uniform, fc3's input 8-bit unsigned; Adam at
//            1e-4 over the experiment's parameter groups, clamp_alpha_ after
//            each step;
//   lsq_b4   the experiment's LSQ QAT (uniform, learnable steps) at 4 bits,
//            the same 8-bit ends.
// xgrad takes the experiment's own path (examples/harness: quantize =
// prepare_qat with the experiment's QConfig, calibrate + freeze on 1024
// images, harness::train_epoch over a shuffling DataLoader), so the time is
// the experiment's epoch without its test evaluation: data batching and
// shuffling included, one progress line per epoch on stderr. Both sides start
// from the same weights (bench_conv_data.hpp); each case is one epoch (938
// steps of batch 64), run kRounds times, the sides and models interleaved
// (round by round) so that load on a shared machine falls on all of them; the
// ratio table gives the fastest round of each (bench_main.cpp).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include "bench_conv_data.hpp"
#include "bench_threads.hpp"
#include "convert_xgrad.hpp"
#include "harness/experiment.hpp"
#include "harness/quantizers.hpp"
#include "harness/train.hpp"
#include "lenet_epoch.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/workflow.hpp"

namespace {

constexpr int kRounds = 3;

struct LoadedData {
  harness::Dataset train;
  bench::EpochData view;
  bool synthetic = false;
};

// Whether the training files are there (checked when the cases are
// registered, for the run's header; each case's label says what it used).
bool have_fashion_mnist() {
  namespace fs = std::filesystem;
  const fs::path dir = xgrad::data::kFashionMnistDir;
  const auto present = [&](const char* name) {
    return fs::exists(dir / name) || fs::exists(dir / (std::string(name) + ".gz"));
  };
  return present("train-images-idx3-ubyte") && present("train-labels-idx1-ubyte");
}

// The experiment's training set (its loader and normalization), or
// synthetic data of its shapes when the files cannot be read.
LoadedData load() {
  LoadedData d;
  harness::ExperimentConfig c;
  c.data_dir = xgrad::data::kFashionMnistDir;
  try {
    d.train = harness::load_fashion_mnist(c).first;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_lenet_epoch: synthetic data (%s)\n", e.what());
    const std::size_t n = 60000;
    xgrad::Generator gen(7);
    d.train.features = xgrad::randn<float>({n, 1, 28, 28}, gen);
    d.train.labels = xgrad::Labels::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) d.train.labels(i) = std::int64_t(i % 10);
    d.synthetic = true;
  }
  d.view.images = d.train.features.data().data();
  d.view.n = d.train.size();
  d.view.labels.assign(d.train.labels.begin(), d.train.labels.end());
  return d;
}

const LoadedData& loaded() {
  static const LoadedData d = load();
  return d;
}

std::optional<harness::QuantPlan> plan_of(bench::EpochCase c) {
  if (c.model == bench::EpochModel::float_model) return std::nullopt;
  harness::QuantPlan plan;
  plan.method =
      c.model == bench::EpochModel::apot ? harness::Method::apot_paper : harness::Method::uniform;
  plan.bits = c.bits;
  return plan;
}

// The float LeNet-5 with the peer's initial values, prepared for QAT as the
// experiment prepares it.
std::shared_ptr<harness::Model> experiment_model(bench::EpochCase c) {
  auto model = bench::lenet_model(bench::lenet_data());
  if (const auto plan = plan_of(c)) {
    harness::quantize(*model, *plan);
    std::vector<std::size_t> rows(bench::kCalibrationImages);
    std::iota(rows.begin(), rows.end(), 0);
    harness::calibrate(*model, xgrad::data::subset(loaded().train, rows).features);
  }
  return model;
}

std::string case_name(bench::EpochCase c) {
  switch (c.model) {
    case bench::EpochModel::float_model:
      return "lenet_epoch_float/f32";
    case bench::EpochModel::apot:
      return "lenet_epoch_apot_b" + std::to_string(c.bits) + "/f32";
    default:
      return "lenet_epoch_lsq_b" + std::to_string(c.bits) + "/f32";
  }
}

void epoch(benchmark::State& state, bench::EpochCase c) {
  xgrad::set_num_threads(1);  // and OpenBLAS's
  const auto model = experiment_model(c);
  const auto plan = plan_of(c);
  xgrad::optim::Adam<float> opt(
      plan ? xgrad::quant::qat_param_groups(*model, harness::clip_lr(*plan))
           : xgrad::optim::one_group(model->parameters()),
      xgrad::optim::AdamOptions(plan ? bench::kQatLr : bench::kFloatLr));
  xgrad::data::DataLoader<float> loader(loaded().train, bench::kEpochBatch, /*shuffle=*/true, 0);
  const std::function<void()> clamp = [&] { xgrad::quant::clamp_alpha_(*model); };
  for (auto _ : state) {
    const auto r = harness::train_epoch(*model, opt, loader, "xgrad/" + case_name(c),
                                        plan ? clamp : nullptr, nullptr, /*live=*/false);
    state.counters["loss"] = r.mean_loss;
  }
  state.SetLabel(bench::epoch_data_source());
}

const bench::EpochCase kCases[] = {{bench::EpochModel::float_model, 32},
                                   {bench::EpochModel::apot, 4},
                                   {bench::EpochModel::apot, 2},
                                   {bench::EpochModel::lsq, 4}};

const bool registered = [] {
  benchmark::AddCustomContext(
      "data", have_fashion_mnist()
                  ? std::string("Fashion-MNIST training set in ") + xgrad::data::kFashionMnistDir
                  : std::string("synthetic, of Fashion-MNIST's shapes "
                                "(60000 x 1 x 28 x 28; no files in ") +
                        xgrad::data::kFashionMnistDir + ")");
  benchmark::AddCustomContext(
      "rounds",
      std::to_string(kRounds) + " interleaved; the ratio tables take each case's fastest round");
  for (const auto& c : kCases) {
    if (c.model != bench::EpochModel::float_model) {
      bench::add_baseline(case_name(c), case_name(kCases[0]));
    }
  }
  // Round by round, each model on both sides: a load that comes and goes
  // falls on every case alike.
  for (int round = 0; round < kRounds; ++round) {
    for (const auto& c : kCases) {
      bench::add_case(bench::with_threads("xgrad/" + case_name(c), 1), benchmark::kSecond, epoch, c)
          ->Iterations(1);
#ifdef BENCH_TORCH_PEER
      bench::add_case(bench::with_threads("torch/" + case_name(c), 1), benchmark::kSecond,
                      bench::torch_lenet_epoch, c)
          ->Iterations(1);
#endif
    }
  }
  return true;
}();

}  // namespace

const bench::EpochData& bench::epoch_data() { return loaded().view; }
std::string bench::epoch_data_source() {
  return loaded().synthetic ? "synthetic data" : "Fashion-MNIST";
}

bench::RcfLevels bench::experiment_rcf_levels(int bits) {
  namespace quant = xgrad::quant;
  const auto model = experiment_model({EpochModel::apot, bits});
  // conv2 ("3"), as fc1 and fc2: the same specs.
  for (const auto& [name, m] : model->named_children()) {
    if (name != "3") continue;
    auto* layer = m->as<quant::qat::FakeQuantizedLayer<float>>();
    auto* w = layer ? layer->weight_fake_quant->as<quant::RCFFakeQuantize<float>>() : nullptr;
    auto* a = layer ? layer->input_fake_quant->as<quant::RCFFakeQuantize<float>>() : nullptr;
    if (w && a) return {w->levels(), a->levels()};
  }
  throw std::logic_error("experiment_rcf_levels: conv2 (\"3\") is not an RCF QAT layer");
}
