// The protocols of docs/experiment.md: Fashion-MNIST with LeNet-5, and the
// APoT paper's toy setting (8x8 digits, MLP 64-64-10): float training, then
// from that checkpoint, per bit width, APoT QAT as the paper trains it and
// with xgrad's recipe, uniform (LSQ) QAT, and post-training quantization of
// APoT and uniform; plus the float checkpoint fine-tuned as long as QAT at the
// QAT learning rate (the fair float reference), for every seed.
// Deterministic for a given configuration.
#pragma once

#include <cstddef>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "quantizers.hpp"
#include "results.hpp"
#include "xgrad/data.hpp"

namespace harness {

struct ExperimentConfig {
  std::string net = "lenet5";  // "lenet5" (28x28 images) or "mlp" (64-64-10, the digits)
  bool keep_ends_8bit = true;  // first/last layer 8-bit; false: the digits MLP
  std::string data_dir;        // MNIST file layout (load_mnist), or the digits CSV file
  std::string out_dir;         // results, data files, plots
  int seeds = 3;
  int first_seed = 0;
  int float_epochs = 4;
  int qat_epochs = 2;  // the reference run's
  std::vector<int> bits = {4, 3, 2};
  std::size_t train_size = 0;  // 0: all 60,000
  std::size_t test_size = 0;   // 0: all 10,000
  std::size_t batch_size = 64;
  std::size_t calibration_size = 1024;
  double lr = 1e-3;
  double qat_lr = 1e-4;
  bool plots = true;
  int jobs = 0;       // seeds run in parallel, one thread each; 0: one per core
  ApotRecipe recipe;  // the "APoT (xgrad)" rows
  // Which rows run (the float ones always do): e.g. only the xgrad recipe
  // while comparing recipes, against LSQ rows of an earlier run (same seeds
  // and data: the same numbers).
  bool paper_rows = true, xgrad_rows = true, lsq_rows = true, ptq_rows = true;
};
nlohmann::json to_json(const ExperimentConfig& c);

using Dataset = xgrad::data::Dataset<float>;

// {train, test}: [N, 1, 28, 28] images, pixels / 255 normalized with the
// training mean 0.28604 and std 0.35302, each cut to a seeded random subset
// of the configured size.
// IOError from the reader (missing files with the install command, ...).
std::pair<Dataset, Dataset> load_fashion_mnist(const ExperimentConfig& c);
// {train, test} of the digits CSV: pixels / 16, a seeded shuffle (seed 0),
// 360 test rows and the rest (1437) for training. IOError from the reader.
std::pair<Dataset, Dataset> load_digits(const std::string& path);

// The method names of the rows c runs, in the table's column order ("APoT
// (paper)", "APoT (xgrad)", "LSQ", "APoT PTQ", "uniform PTQ"), and the paired
// columns among them (each APoT QAT row - LSQ, APoT PTQ - uniform PTQ).
std::vector<std::string> methods(const ExperimentConfig& c);
std::vector<std::pair<std::string, std::string>> pairs(const ExperimentConfig& c);

struct ExperimentResult {
  std::vector<Run> runs;
  double seconds = 0;
  std::string plot_note;  // why no PNGs, or ""
};

// What is wrong with the configuration ("" when nothing): bit widths given
// twice, an unknown net, no quantized row.
std::string validate(const ExperimentConfig& c);

// Creates `dir` if needed and proves it writable with a probe file, so that
// a long run never dies at its final write. Returns the problem, or "".
std::string prepare_output_dir(const std::string& dir);

// Runs everything and writes runs.csv, summary.csv, results.json and the plots
// into c.out_dir (which must exist).
ExperimentResult run_experiment(const ExperimentConfig& c, const Dataset& train,
                                const Dataset& test);

// The tables (float; then per bit width each method and the paired
// differences), the time taken and where the files are.
void print_report(std::FILE* out, const ExperimentConfig& c, const ExperimentResult& r);

}  // namespace harness
