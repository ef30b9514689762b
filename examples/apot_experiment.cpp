// APoT vs uniform quantization-aware training on Fashion-MNIST (LeNet-5),
// the protocol of docs/experiment.md: float training, then from that checkpoint
// QAT at each bit width with APoT as the paper trains it (RCF + weight
// normalization), with APoT and xgrad's recipe, and with uniform LSQ, plus
// post-training quantization of APoT and uniform, over several seeds.
// Prints a table of test accuracy (mean +- sd) and the paired APoT - uniform
// differences; writes CSV, JSON, data files and (with gnuplot) PNG plots.
//
//   build/examples/apot_experiment --quick        about 90 s on two cores
//   build/examples/apot_experiment                the full protocol
//   build/examples/apot_experiment --help
#include "harness/cli.hpp"
#include "xgrad/data/idx.hpp"

int main(int argc, char** argv) {
  harness::ExperimentConfig c;
  c.data_dir = xgrad::data::kFashionMnistDir;
  c.out_dir = "apot-results";
  bool quick = false, no_plots = false;

  CLI::App app{
      "APoT vs uniform quantization-aware training of LeNet-5 on Fashion-MNIST "
      "(the protocol of docs/experiment.md)."};
  app.add_flag("--quick", quick,
               "a quick look: all 60,000 training and 5,000 test images, 2 float epochs, 1 QAT "
               "epoch, 2 seeds, 4 and 2 bits (explicit options still override)");
  harness::add_experiment_options(app, c, no_plots, "directory of the MNIST-format files");
  app.add_option("--train-size", c.train_size, "training images (0: all 60,000)")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--test-size", c.test_size, "test images (0: all 10,000)")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (quick) {
    // Only the options the user did not give.
    if (app.count("--test-size") == 0) c.test_size = 5000;
    if (app.count("--epochs") == 0) c.float_epochs = 2;
    if (app.count("--qat-epochs") == 0) c.qat_epochs = 1;
    if (app.count("--seeds") == 0) c.seeds = 2;
    if (app.count("--bits") == 0) c.bits = {4, 2};
  }
  c.plots = !no_plots;
  const auto check = [&c](const harness::Dataset& train, const harness::Dataset& test) {
    const std::size_t features = harness::input_features(c);
    std::string err =
        harness::check_split(train, harness::mnist_files(c.data_dir, true), "training", features);
    if (err.empty())
      err = harness::check_split(test, harness::mnist_files(c.data_dir, false), "test", features);
    return err;
  };
  return harness::run_main(
      "apot_experiment", c, [&c] { return harness::load_fashion_mnist(c); }, check,
      "Fashion-MNIST");
}
