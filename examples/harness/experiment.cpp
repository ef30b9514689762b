#include "experiment.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include "models.hpp"
#include "plots.hpp"
#include "progress.hpp"
#include "quantizers.hpp"
#include "train.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/quant/qat/workflow.hpp"

namespace harness {

namespace {
const char* const kPaper = "APoT (paper)";
const char* const kXgrad = "APoT (xgrad)";
const char* const kLsq = "LSQ";
const char* const kApotPtq = "APoT PTQ";
const char* const kUniformPtq = "uniform PTQ";
}  // namespace

std::vector<std::string> methods(const ExperimentConfig& c) {
  std::vector<std::string> out;
  if (c.paper_rows) out.push_back(kPaper);
  if (c.xgrad_rows) out.push_back(kXgrad);
  if (c.lsq_rows) out.push_back(kLsq);
  if (c.ptq_rows) out.insert(out.end(), {kApotPtq, kUniformPtq});
  return out;
}

std::vector<std::pair<std::string, std::string>> pairs(const ExperimentConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  if (c.paper_rows && c.lsq_rows) out.emplace_back(kPaper, kLsq);
  if (c.xgrad_rows && c.lsq_rows) out.emplace_back(kXgrad, kLsq);
  if (c.ptq_rows) out.emplace_back(kApotPtq, kUniformPtq);
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The first n rows of a seeded permutation (all rows, in order, for n = 0).
Dataset cut(const Dataset& d, std::size_t n, std::uint64_t seed) {
  if (n == 0 || n >= d.size()) return d;
  xgrad::Generator gen(seed);
  std::vector<std::size_t> order = xgrad::randperm(d.size(), gen);
  order.resize(n);
  std::sort(order.begin(), order.end());
  return xgrad::data::subset(d, order);
}

std::string pct(double a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "test %.2f%%", a);
  return buf;
}

// Trains `net` for `epochs` epochs with Adam and records the run. The
// clipping parameters are their own group (quant::qat_param_groups): no
// weight decay, and the rate clip_lr (nullopt: lr).
void train_run(Model& net, Run& run, const Dataset& train, const Dataset& test,
               const ExperimentConfig& c, int epochs, double lr, std::uint64_t order_seed,
               bool quantized, bool live, std::optional<double> clip_lr = std::nullopt) {
  xgrad::optim::Adam<float> opt(quantized ? xgrad::quant::qat_param_groups(net, clip_lr)
                                          : xgrad::optim::one_group(net.parameters()),
                                xgrad::optim::AdamOptions(lr));
  xgrad::data::DataLoader<float> loader(train, c.batch_size, /*shuffle=*/true, order_seed);
  for (int e = 0; e < epochs; ++e) {
    const std::string label = "seed " + std::to_string(run.seed) + "  " + run.method +
                              (run.bits == 32 ? "" : " " + std::to_string(run.bits) + "b") +
                              "  epoch " + std::to_string(e + 1) + "/" + std::to_string(epochs);
    double acc = 0;
    const EpochResult r = train_epoch(
        net, opt, loader, label,
        quantized ? std::function<void()>([&] { xgrad::quant::clamp_alpha_(net); }) : nullptr,
        [&] { return pct(acc = evaluate(net, test)); }, live);
    run.epoch_loss.push_back(r.mean_loss);
    for (std::size_t k = 0; k < r.segment_loss.size(); ++k) {
      run.loss_curve.emplace_back(e + double(k + 1) / double(r.segment_loss.size()),
                                  r.segment_loss[k]);
    }
    run.epoch_test_accuracy.push_back(acc);
  }
  run.test_accuracy =
      run.epoch_test_accuracy.empty() ? evaluate(net, test) : run.epoch_test_accuracy.back();
}

}  // namespace

nlohmann::json to_json(const ExperimentConfig& c) {
  return {{"net", c.net},
          {"keep_ends_8bit", c.keep_ends_8bit},
          {"data_dir", c.data_dir},
          {"seeds", c.seeds},
          {"first_seed", c.first_seed},
          {"float_epochs", c.float_epochs},
          {"qat_epochs", c.qat_epochs},
          {"bits", c.bits},
          {"train_size", c.train_size},
          {"test_size", c.test_size},
          {"batch_size", c.batch_size},
          {"calibration_size", c.calibration_size},
          {"jobs", c.jobs},
          {"rows", methods(c)},
          {"xgrad_recipe",
           {{"act_init", xgrad::quant::to_string(c.recipe.act_init)},
            {"weight_init", xgrad::quant::to_string(c.recipe.weight_init)},
            {"weight_per_channel", c.recipe.weight_per_channel},
            {"percentile", c.recipe.percentile},
            {"lsq_grad_scale", c.recipe.lsq_grad_scale},
            {"act_levels", xgrad::quant::to_string(c.recipe.act_levels)},
            {"clip_lr", c.recipe.clip_lr ? nlohmann::json(*c.recipe.clip_lr) : nlohmann::json()}}},
          {"lr", c.lr},
          {"qat_lr", c.qat_lr}};
}

std::pair<Dataset, Dataset> load_fashion_mnist(const ExperimentConfig& c) {
  using xgrad::data::Split;
  Dataset train = xgrad::data::load_mnist<float>(c.data_dir, Split::train);
  Dataset test = xgrad::data::load_mnist<float>(c.data_dir, Split::test);
  for (Dataset* d : {&train, &test}) {
    xt::xarray<float>& x = d->features.mutable_data();
    x = (x / 255.0f - 0.28604f) / 0.35302f;
    // LeNet's images; rows of another size stay rows for the data check
    // (input_checks.hpp) to name.
    if (d->features.dim() == 2 && d->features.shape()[1] == 28 * 28) {
      d->features = xgrad::reshape(d->features, {-1, 1, 28, 28});
    }
  }
  return {cut(train, c.train_size, 1), cut(test, c.test_size, 2)};
}

std::pair<Dataset, Dataset> load_digits(const std::string& path) {
  Dataset all = xgrad::data::load_csv<float>(
      path, xgrad::data::CsvOptions().set_missing_hint(
                "fetch it with bash .ci/setup (extracts it from Debian's python3-sklearn)"));
  all.features.mutable_data() /= 16.0f;
  xgrad::Generator gen(0);
  const std::vector<std::size_t> order = xgrad::randperm(all.size(), gen);
  const std::size_t n_test = std::min<std::size_t>(360, all.size() / 2);
  const std::vector<std::size_t> test(order.begin(), order.begin() + std::ptrdiff_t(n_test));
  const std::vector<std::size_t> train(order.begin() + std::ptrdiff_t(n_test), order.end());
  return {xgrad::data::subset(all, train), xgrad::data::subset(all, test)};
}

namespace {

struct SeedResult {
  std::vector<Run> runs;
  LevelsOverlay overlay;  // filled for the first seed
};

// The methods of one bit width, in table order: (row name, method, PTQ).
struct Branch {
  const char* name;
  Method method;
  bool ptq;
};
std::vector<Branch> branches(const ExperimentConfig& c) {
  std::vector<Branch> out;
  if (c.paper_rows) out.push_back({kPaper, Method::apot_paper, false});
  if (c.xgrad_rows) out.push_back({kXgrad, Method::apot_xgrad, false});
  if (c.lsq_rows) out.push_back({kLsq, Method::uniform, false});
  if (c.ptq_rows) {
    out.push_back({kApotPtq, Method::apot_paper, true});
    out.push_back({kUniformPtq, Method::uniform, true});
  }
  return out;
}

// Everything of one seed: the float checkpoint, then every branch from it.
SeedResult run_seed(const ExperimentConfig& c, const Dataset& train, const Dataset& test, int s,
                    bool live) {
  SeedResult out;
  const auto useed = static_cast<std::uint64_t>(s);
  // The float checkpoint.
  xgrad::Generator gen(useed);
  const auto base_net = make_model(c.net, gen);
  Model& base = *base_net;
  Run fl{"float", 32, s};
  auto t = Clock::now();
  train_run(base, fl, train, test, c, c.float_epochs, c.lr, useed, false, live);
  fl.seconds = since(t);
  out.runs.push_back(fl);
  const auto checkpoint = base.state_dict();

  // Calibration images: a seeded draw from the training set.
  xgrad::Generator calib_gen(1000 + useed);
  std::vector<std::size_t> rows = xgrad::randperm(train.size(), calib_gen);
  rows.resize(std::min(c.calibration_size, rows.size()));
  const Tensor calibration = xgrad::data::subset(train, rows).features;

  // Every branch sees the same data order.
  const std::uint64_t order = 2000 + useed;
  auto fresh = [&] {
    xgrad::Generator unused(0);
    auto net = make_model(c.net, unused);
    net->load_state_dict(checkpoint);
    return net;
  };
  {
    auto net = fresh();
    Run r{"float fine-tuned", 32, s};
    t = Clock::now();
    train_run(*net, r, train, test, c, c.qat_epochs, c.qat_lr, order, false, live);
    r.seconds = since(t);
    out.runs.push_back(r);
  }
  // The histogram overlay: the float weights of one layer (fc1 for LeNet)
  // and the levels each method learned at the first bit width.
  const std::string overlay_layer = layer_names(base)[c.net == "mlp" ? 0 : 2];
  for (int bits : c.bits) {
    for (const Branch& b : branches(c)) {
      auto net = fresh();
      Run r{b.name, bits, s};
      t = Clock::now();
      const QuantPlan plan{b.method, bits, b.ptq, c.keep_ends_8bit, c.recipe};
      quantize(*net, plan);
      calibrate(*net, calibration);
      r.clip_initial = clipping_values(*net);
      if (b.ptq) {
        r.test_accuracy = evaluate(*net, test);
        std::fprintf(stderr, "seed %d  %s %db  %s\n", s, r.method.c_str(), bits,
                     pct(r.test_accuracy).c_str());
      } else {
        train_run(*net, r, train, test, c, c.qat_epochs, c.qat_lr, order, true, live,
                  clip_lr(plan));
      }
      r.clip_final = clipping_values(*net);
      r.seconds = since(t);
      out.runs.push_back(r);
      if (!b.ptq && s == c.first_seed && bits == c.bits.front()) {
        out.overlay.layer = overlay_layer;
        out.overlay.bits = bits;
        const Tensor w = base.named_parameters()[overlay_layer + ".weight"];
        out.overlay.weights.assign(w.data().begin(), w.data().end());
        // The xgrad recipe's levels when it runs, else the paper's.
        if (b.method == Method::uniform)
          out.overlay.uniform = weight_levels(*net, overlay_layer);
        else if (b.method == Method::apot_xgrad || out.overlay.apot.empty())
          out.overlay.apot = weight_levels(*net, overlay_layer);
      }
    }
  }
  return out;
}

}  // namespace

ExperimentResult run_experiment(const ExperimentConfig& c, const Dataset& train,
                                const Dataset& test) {
  const auto start = Clock::now();
  // Seeds are independent: each runs on its own thread (up to `jobs` at a
  // time) with its own generators, so the numbers do not depend on `jobs`.
  const int jobs = std::max(
      1, std::min(c.jobs > 0 ? c.jobs : int(std::thread::hardware_concurrency()), c.seeds));
  const bool live = jobs == 1;  // one live bar; parallel seeds print plain lines
  std::vector<SeedResult> per_seed(static_cast<std::size_t>(c.seeds));
  std::vector<std::exception_ptr> errors(per_seed.size());
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i; (i = next++) < c.seeds;) {
      try {
        per_seed[std::size_t(i)] = run_seed(c, train, test, c.first_seed + i, live);
      } catch (...) {
        errors[std::size_t(i)] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& th : threads) th.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  ExperimentResult result;
  std::vector<Run>& runs = result.runs;
  for (const SeedResult& r : per_seed) runs.insert(runs.end(), r.runs.begin(), r.runs.end());
  const LevelsOverlay& overlay = per_seed.front().overlay;
  result.seconds = since(start);
  nlohmann::json config = to_json(c);
  config["seconds"] = result.seconds;
  write_runs_csv(runs, c.out_dir + "/runs.csv");
  write_summary_csv(runs, pairs(c), c.out_dir + "/summary.csv");
  write_text(c.out_dir + "/results.json", to_json(runs, pairs(c), config).dump(2) + "\n");
  if (c.plots) result.plot_note = write_plots(c.out_dir, runs, methods(c), c.first_seed, overlay);
  return result;
}

}  // namespace harness

namespace harness {

std::string validate(const ExperimentConfig& c) {
  if (std::set<int>(c.bits.begin(), c.bits.end()).size() != c.bits.size()) {
    return "--bits: a bit width is given twice";
  }
  if (c.bits.empty()) return "--bits: no bit width";
  if (c.net != "lenet5" && c.net != "mlp") return "net: unknown '" + c.net + "'";
  if (methods(c).empty()) return "no quantized row to run (every row is switched off)";
  return "";
}

std::string prepare_output_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) return "--out: cannot create directory \"" + dir + "\"";
  const std::string probe = (fs::path(dir) / ".write-test").string();
  { std::ofstream(probe) << "x"; }
  const bool ok = fs::exists(probe);
  fs::remove(probe, ec);
  return ok ? "" : "--out: directory \"" + dir + "\" is not writable";
}

void print_report(std::FILE* out, const ExperimentConfig& c, const ExperimentResult& r) {
  std::fprintf(out,
               "\nTest accuracy %% (mean +- sd over %d seed(s)); paired = per-seed difference:\n\n",
               c.seeds);
  print_table(out, r.runs, {"float", "float fine-tuned"}, {});
  std::fprintf(out, "\n");
  print_table(out, r.runs, methods(c), pairs(c));
  std::fprintf(out, "\ntook %s; results in %s (runs.csv, summary.csv, results.json%s)\n",
               format_duration(r.seconds).c_str(), c.out_dir.c_str(),
               c.plots && r.plot_note.empty() ? ", curves.png, accuracy.png, weights.png" : "");
  if (!r.plot_note.empty()) std::fprintf(out, "%s\n", r.plot_note.c_str());
}

}  // namespace harness
