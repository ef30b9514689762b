// The experiment's records and their summaries: mean +- sd per method and bit
// width, and paired differences between two methods over the same seeds;
// written as CSV and JSON and printed as a table.
#pragma once

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace harness {

// One branch of one seed: e.g. {"APoT QAT", 4, 1, 89.2, ...}.
struct Run {
  Run() = default;
  Run(std::string method_, int bits_, int seed_)
      : method(std::move(method_)), bits(bits_), seed(seed_) {}
  std::string method;  // "float", "APoT QAT", "LSQ QAT", "APoT PTQ", "uniform PTQ", ...
  int bits = 32;       // weights and activations of the quantized layers; 32 = float
  int seed = 0;
  double test_accuracy = 0;  // percent
  double seconds = 0;        // training (or calibration) and evaluation
  std::vector<double> epoch_loss;
  // (epochs since the run started, mean training loss) at a finer grain.
  std::vector<std::pair<double, double>> loss_curve;
  std::vector<double> epoch_test_accuracy;
  // Learned clipping parameters (alpha or step) by quantizer name.
  std::map<std::string, double> clip_initial, clip_final;
};

struct MeanSd {
  double mean = 0, sd = 0;  // sd: sample standard deviation (n - 1); 0 for n = 1
  std::size_t n = 0;
};
MeanSd mean_sd(const std::vector<double>& values);

// Accuracies of one method at one bit width, in seed order.
std::vector<double> accuracies(const std::vector<Run>& runs, const std::string& method, int bits);
// Per-seed a - b over the seeds both have.
std::vector<double> paired_differences(const std::vector<Run>& runs, const std::string& a,
                                       const std::string& b, int bits);

// One row per run: method,bits,seed,test_accuracy,seconds.
void write_runs_csv(const std::vector<Run>& runs, const std::string& path);
// One row per method and bit width: method,bits,n,mean,sd; then paired rows
// "<a> - <b>" for every pair in `pairs`.
void write_summary_csv(const std::vector<Run>& runs,
                       const std::vector<std::pair<std::string, std::string>>& pairs,
                       const std::string& path);
// {"config": ..., "runs": [...], "summary": [...], "paired": [...]}.
nlohmann::json to_json(const std::vector<Run>& runs,
                       const std::vector<std::pair<std::string, std::string>>& pairs,
                       const nlohmann::json& config);
void write_text(const std::string& path, const std::string& text);

// The table: one row per bit width, one column per method (mean +- sd), then
// a column per pair (paired mean +- sd).
void print_table(std::FILE* out, const std::vector<Run>& runs,
                 const std::vector<std::string>& methods,
                 const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace harness
