// experiment.md's protocol on Fashion-MNIST: float LeNet-5 training, then
// from that checkpoint, per bit width, APoT QAT and uniform (LSQ) QAT, and
// post-training quantization of both; plus the float checkpoint fine-tuned as
// long as QAT at the QAT learning rate (the fair float reference), for every
// seed. Deterministic for a given configuration.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "results.hpp"
#include "xgrad/data.hpp"

namespace harness {

struct ExperimentConfig {
  std::string data_dir;  // MNIST file layout (load_mnist)
  std::string out_dir;   // results, data files, plots
  int seeds = 3;
  int first_seed = 0;
  int float_epochs = 4;
  int qat_epochs = 2;
  std::vector<int> bits = {4, 3, 2};
  std::size_t train_size = 0;  // 0: all 60,000
  std::size_t test_size = 0;   // 0: all 10,000
  std::size_t batch_size = 64;
  std::size_t calibration_size = 1024;
  double lr = 1e-3;
  double qat_lr = 1e-4;
  bool plots = true;
};
nlohmann::json to_json(const ExperimentConfig& c);

using Dataset = xgrad::data::Dataset<float>;

// {train, test}: pixels / 255 normalized with the training mean 0.28604 and
// std 0.35302, each cut to a seeded random subset of the configured size.
// IOError from the reader (missing files with the install command, ...).
std::pair<Dataset, Dataset> load_fashion_mnist(const ExperimentConfig& c);

// The method names in the table's column order, and the paired columns.
extern const std::vector<std::string> kMethods;
extern const std::vector<std::pair<std::string, std::string>> kPairs;

struct ExperimentResult {
  std::vector<Run> runs;
  double seconds = 0;
  std::string plot_note;  // why no PNGs, or ""
};

// Runs everything and writes runs.csv, summary.csv, results.json and the plots
// into c.out_dir (which must exist).
ExperimentResult run_experiment(const ExperimentConfig& c, const Dataset& train,
                                const Dataset& test);

}  // namespace harness
