// The command line both experiment programs share (CLI11, header-only), and
// their common main: validate, load, prepare the output directory, run, report.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <new>
#include <string>
#include <utility>

#include "experiment.hpp"
#include "input_checks.hpp"
#include "xgrad/errors.hpp"

namespace harness {

// The rows to run and the "APoT (xgrad)" recipe (quantizers.hpp, ApotRecipe).
inline void add_recipe_options(CLI::App& app, ExperimentConfig& c) {
  using xgrad::quant::AlphaInit;
  using xgrad::quant::LevelFamily;
  app.add_option_function<std::vector<std::string>>(
         "--rows",
         [&c](const std::vector<std::string>& rows) {
           const auto has = [&rows](const char* r) {
             return std::find(rows.begin(), rows.end(), r) != rows.end();
           };
           c.paper_rows = has("paper"), c.xgrad_rows = has("xgrad");
           c.lsq_rows = has("lsq"), c.ptq_rows = has("ptq");
         },
         "the quantized rows to run: paper (APoT as the paper trains it), xgrad (APoT with "
         "the recipe below), lsq, ptq (both PTQ rows); default all")
      ->check(CLI::IsMember({"paper", "xgrad", "lsq", "ptq"}));
  const std::map<std::string, AlphaInit> inits = {{"max_abs", AlphaInit::max_abs},
                                                  {"lsq_clip_point", AlphaInit::lsq_clip_point},
                                                  {"percentile", AlphaInit::percentile},
                                                  {"mse", AlphaInit::mse}};
  app.add_option("--apot-act-init", c.recipe.act_init,
                 "APoT (xgrad): initial activation alpha (max_abs: the calibration maximum, "
                 "as the paper; lsq_clip_point: 2 mean|x| sqrt(2^b - 1); percentile; mse)")
      ->transform(CLI::CheckedTransformer(inits));
  std::map<std::string, AlphaInit> weight_inits = inits;
  weight_inits["fixed"] = AlphaInit::fixed;
  app.add_option("--apot-weight-init", c.recipe.weight_init,
                 "APoT (xgrad): initial alpha of the standardized weights (fixed: the paper's 3; "
                 "lsq_clip_point: 2 mean|W'| sqrt(top level); max_abs, percentile, mse)")
      ->transform(CLI::CheckedTransformer(weight_inits));
  app.add_option("--apot-weight-per-channel", c.recipe.weight_per_channel,
                 "APoT (xgrad): one weight alpha per output channel (true/false)")
      ->capture_default_str();
  app.add_option("--apot-percentile", c.recipe.percentile,
                 "APoT (xgrad): the percentile of |x| for --apot-act-init percentile")
      ->check(CLI::Range(0.001, 100.0))
      ->capture_default_str();
  app.add_option("--apot-grad-scale", c.recipe.lsq_grad_scale,
                 "APoT (xgrad): alpha gradients times 1 / sqrt(N * top level), as LSQ scales "
                 "its step (true/false)")
      ->capture_default_str();
  const std::map<std::string, LevelFamily> families = {{"apot", LevelFamily::apot},
                                                       {"uniform", LevelFamily::uniform},
                                                       {"power_of_two", LevelFamily::power_of_two}};
  app.add_option("--apot-act-levels", c.recipe.act_levels,
                 "APoT (xgrad): the activations' level set (apot, uniform, power_of_two)")
      ->transform(CLI::CheckedTransformer(families));
  app.add_option_function<double>(
         "--apot-clip-lr", [&c](double lr) { c.recipe.clip_lr = lr; },
         "APoT (xgrad): Adam learning rate of the alphas (default: --qat-lr)")
      ->check(CLI::PositiveNumber);
}

// Options bound to `c` (its current values are the defaults --help shows).
inline void add_experiment_options(CLI::App& app, ExperimentConfig& c, bool& no_plots,
                                   const std::string& data_help) {
  app.add_option("--data", c.data_dir, data_help)->capture_default_str();
  app.add_option("--out", c.out_dir, "output directory (created)")->capture_default_str();
  app.add_option("--seeds", c.seeds, "number of seeds")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--first-seed", c.first_seed, "first seed")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--epochs", c.float_epochs, "float training epochs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--qat-epochs", c.qat_epochs, "QAT (and float fine-tuning) epochs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--bits", c.bits, "bit widths of the quantized layers (2..8), e.g. --bits 4 3 2")
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "mini-batch size")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--calibration", c.calibration_size,
                 "calibration images for PTQ and the initial clipping")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Adam learning rate of the float training")
      ->check(positive_finite())
      ->capture_default_str();
  app.add_option("--qat-lr", c.qat_lr,
                 "Adam learning rate of QAT and fine-tuning (weights and clipping)")
      ->check(positive_finite())
      ->capture_default_str();
  app.add_option("--jobs", c.jobs,
                 "seeds run in parallel, one thread each (0: one per core); the numbers do not "
                 "depend on it")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  add_recipe_options(app, c);
  app.add_flag("--no-plots", no_plots, "skip gnuplot (data files are still written)");
}

// After parsing: checks c, loads the data (a missing file fails at once),
// checks it (`check`: the problem, naming its file, or ""), prepares the
// output directory, runs and prints the report. Exit status 2 for bad
// arguments or data, 1 for an xgrad error (message on stderr), else 0. An
// output directory this run created is removed again when the run fails.
inline int run_main(const char* program, const ExperimentConfig& c,
                    const std::function<std::pair<Dataset, Dataset>()>& load,
                    const std::function<std::string(const Dataset&, const Dataset&)>& check,
                    const char* data_name) {
  if (const std::string err = validate(c); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n", program, err.c_str());
    return 2;
  }
  std::error_code ec;
  const bool out_existed = std::filesystem::exists(c.out_dir, ec);
  auto fail = [&](const char* what) {
    std::fprintf(stderr, "%s: %s\n", program, what);
    if (!out_existed) std::filesystem::remove_all(c.out_dir, ec);
    return 1;
  };
  try {
    const auto [train, test] = load();
    if (const std::string err = check(train, test); !err.empty()) {
      std::fprintf(stderr, "%s: %s\n", program, err.c_str());
      return 2;
    }
    if (const std::string err = prepare_output_dir(c.out_dir); !err.empty()) {
      std::fprintf(stderr, "%s: %s\n", program, err.c_str());
      return 2;
    }
    std::printf(
        "%s: %zu training, %zu test rows; %d seed(s) from %d; %d float + %d QAT epochs; bits",
        data_name, train.size(), test.size(), c.seeds, c.first_seed, c.float_epochs, c.qat_epochs);
    for (int b : c.bits) std::printf(" %d", b);
    std::printf("\n");
    std::fflush(stdout);
    print_report(stdout, c, run_experiment(c, train, test));
    return 0;
  } catch (const xgrad::Error& e) {
    return fail(e.what());
  } catch (const std::bad_alloc&) {  // e.g. normalizing a training set that barely fit
    return fail("out of memory");
  }
}

}  // namespace harness
