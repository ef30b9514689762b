// The APoT paper's toy setting (docs/experiment.md, "The digits MLP"): the
// 8x8 digits (1797 images, from Debian's python3-sklearn, fetched by
// .ci/setup), MLP 64-64-10, float training, then from that checkpoint 4-bit
// APoT QAT (normalized sign-magnitude weights with RCF, unsigned APoT hidden
// activation) vs 4-bit uniform LSQ QAT, PTQ of both, and the float checkpoint
// fine-tuned as long. Same outputs as
// apot_experiment (table, CSV, JSON, plots).
//
//   build/examples/apot_digits            10 seeds, a few seconds of CPU
//   build/examples/apot_digits --help
#include "harness/cli.hpp"

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif

int main(int argc, char** argv) {
  harness::ExperimentConfig c;
  c.net = "mlp";
  c.keep_ends_8bit = false;  // both weight matrices and the hidden activation at b bits
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

  CLI::App app{
      "APoT vs uniform QAT of an MLP 64-64-10 on the 8x8 digits (the APoT paper's toy setting)."};
  harness::add_experiment_options(app, c, no_plots,
                                  "the digits CSV (64 pixels 0..16, then the label)");
  CLI11_PARSE(app, argc, argv);
  c.plots = !no_plots;
  const auto check = [&c](const harness::Dataset& train, const harness::Dataset& test) {
    const harness::DataFiles file{c.data_dir, c.data_dir};
    const std::size_t features = harness::input_features(c);
    std::string err = harness::check_split(train, file, "training", features);
    if (err.empty()) err = harness::check_split(test, file, "test", features);
    return err;
  };
  return harness::run_main(
      "apot_digits", c, [&c] { return harness::load_digits(c.data_dir); }, check, "digits");
}
