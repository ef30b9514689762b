// paper.md's toy experiment: the 8x8 digits (1797 images, from Debian's
// python3-sklearn, fetched by .ci/setup), MLP 64-64-10, float training, then
// from that checkpoint 4-bit APoT QAT (normalized sign-magnitude weights with
// RCF, unsigned APoT hidden activation) vs 4-bit uniform LSQ QAT, PTQ of both,
// and the float checkpoint fine-tuned as long. Same outputs as
// apot_experiment (table, CSV, JSON, plots).
//
//   build/examples/apot_digits            about a minute
//   build/examples/apot_digits --help
#include <CLI/CLI.hpp>
#include <cstdio>

#include "harness/experiment.hpp"
#include "xgrad/errors.hpp"

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif

int main(int argc, char** argv) {
  harness::ExperimentConfig c;
  c.net = "mlp";
  c.keep_ends_8bit = false;
  c.data_dir = XGRAD_DATA_DIR "/digits.csv.gz";
  c.out_dir = "apot-digits-results";
  c.seeds = 10;
  c.float_epochs = 30;
  c.qat_epochs = 15;
  c.bits = {4};
  c.batch_size = 32;
  c.lr = 1e-3;
  c.qat_lr = 1e-3;
  c.calibration_size = 1437;
  bool no_plots = false;

  CLI::App app{"APoT vs uniform QAT of an MLP 64-64-10 on the 8x8 digits (paper.md's protocol)."};
  app.add_option("--data", c.data_dir, "the digits CSV (64 pixels 0..16, then the label)")
      ->capture_default_str();
  app.add_option("--out", c.out_dir, "output directory (created)")->capture_default_str();
  app.add_option("--seeds", c.seeds, "number of seeds")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--epochs", c.float_epochs, "float epochs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--qat-epochs", c.qat_epochs, "QAT epochs")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--bits", c.bits, "bit widths (2..8)")
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Adam learning rate, float")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--qat-lr", c.qat_lr, "Adam learning rate, QAT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--jobs", c.jobs,
                 "seeds run in parallel, one thread each (0: one per core); the numbers do not "
                 "depend on it")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_flag("--no-plots", no_plots, "skip gnuplot (data files are still written)");
  CLI11_PARSE(app, argc, argv);
  c.plots = !no_plots;
  if (const std::string err = harness::validate(c); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], err.c_str());
    return 2;
  }
  try {
    const auto [train, test] = harness::load_digits(c.data_dir);
    // Data first (a missing file fails at once), then the output directory,
    // both before any training.
    if (const std::string err = harness::prepare_output_dir(c.out_dir); !err.empty()) {
      std::fprintf(stderr, "%s: %s\n", argv[0], err.c_str());
      return 2;
    }
    std::printf("digits: %zu training, %zu test rows; %d seeds; %d float + %d QAT epochs\n",
                train.size(), test.size(), c.seeds, c.float_epochs, c.qat_epochs);
    std::fflush(stdout);
    const harness::ExperimentResult r = harness::run_experiment(c, train, test);
    harness::print_report(stdout, c, r);
    return 0;
  } catch (const xgrad::Error& e) {
    std::fprintf(stderr, "apot_digits: %s\n", e.what());
    return 1;
  }
}
