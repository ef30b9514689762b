// APoT vs uniform quantization-aware training on Fashion-MNIST (LeNet-5),
// the protocol of experiment.md: float training, then from that checkpoint
// QAT at each bit width with APoT (RCF + weight normalization) and with
// uniform LSQ, post-training quantization of both, over several seeds.
// Prints a table of test accuracy (mean +- sd) and the paired APoT - uniform
// differences; writes CSV, JSON, data files and (with gnuplot) PNG plots.
//
//   build/examples/apot_experiment --quick        about a minute
//   build/examples/apot_experiment                the full protocol
//   build/examples/apot_experiment --help
#include <CLI/CLI.hpp>
#include <cstdio>

#include "harness/experiment.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/errors.hpp"

int main(int argc, char** argv) {
  harness::ExperimentConfig c;
  c.data_dir = xgrad::data::kFashionMnistDir;
  c.out_dir = "apot-results";
  bool quick = false, no_plots = false;

  CLI::App app{
      "APoT vs uniform quantization-aware training of LeNet-5 on Fashion-MNIST "
      "(experiment.md's protocol)."};
  app.add_flag("--quick", quick,
               "a quick look: 5,000 training and 2,000 test images, 1 float epoch, 1 QAT epoch "
               "(explicit options still override)");
  app.add_option("--data", c.data_dir, "directory of the MNIST-format files")
      ->capture_default_str();
  app.add_option("--out", c.out_dir, "output directory (created)")->capture_default_str();
  app.add_option("--seeds", c.seeds, "number of seeds")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--first-seed", c.first_seed, "first seed")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--epochs", c.float_epochs, "float training epochs")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--qat-epochs", c.qat_epochs, "QAT (and float fine-tuning) epochs")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--bits", c.bits, "bit widths of the quantized layers (2..8), e.g. --bits 4 3 2")
      ->check(CLI::Range(2, 8))
      ->capture_default_str();
  app.add_option("--train-size", c.train_size, "training images (0: all 60,000)")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--test-size", c.test_size, "test images (0: all 10,000)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "mini-batch size")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--calibration", c.calibration_size,
                 "calibration images for PTQ and initial clipping")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--lr", c.lr, "Adam learning rate of the float training")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--qat-lr", c.qat_lr,
                 "Adam learning rate of QAT and fine-tuning (weights and clipping)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--jobs", c.jobs,
                 "seeds run in parallel, one thread each (0: one per core); the numbers do not "
                 "depend on it")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_flag("--no-plots", no_plots, "skip gnuplot (data files are still written)");
  CLI11_PARSE(app, argc, argv);

  if (quick) {
    // Only the options the user did not give.
    if (app.count("--train-size") == 0) c.train_size = 5000;
    if (app.count("--test-size") == 0) c.test_size = 2000;
    if (app.count("--epochs") == 0) c.float_epochs = 1;
    if (app.count("--qat-epochs") == 0) c.qat_epochs = 1;
  }
  c.plots = !no_plots;
  if (const std::string err = harness::validate(c); !err.empty()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], err.c_str());
    return 2;
  }
  try {
    const auto [train, test] = harness::load_fashion_mnist(c);
    // Data first (a missing file fails at once), then the output directory,
    // both before any training.
    if (const std::string err = harness::prepare_output_dir(c.out_dir); !err.empty()) {
      std::fprintf(stderr, "%s: %s\n", argv[0], err.c_str());
      return 2;
    }
    std::printf(
        "Fashion-MNIST: %zu training, %zu test images; %d seed(s) from %d; %d float + %d "
        "QAT epochs; bits",
        train.size(), test.size(), c.seeds, c.first_seed, c.float_epochs, c.qat_epochs);
    for (int b : c.bits) std::printf(" %d", b);
    std::printf("\n");
    std::fflush(stdout);
    const harness::ExperimentResult r = harness::run_experiment(c, train, test);

    harness::print_report(stdout, c, r);
    return 0;
  } catch (const xgrad::Error& e) {
    std::fprintf(stderr, "apot_experiment: %s\n", e.what());
    return 1;
  }
}
