// What the experiment programs check before any work (README: "checks before
// any work"): numbers that must be finite, and the data a run would train and
// test on (classes, image size, finite pixels, non-empty splits), each
// problem named with the file it is in. Kept apart from the protocol so that
// the checks and the experiment change independently.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

#include "experiment.hpp"

namespace harness {

// A CLI11 validator: the option's value must be a finite number > 0 (CLI11's
// PositiveNumber lets "nan" and "inf" through).
CLI::Validator positive_finite();

// The files a split came from, for messages (both the same file for a CSV).
struct DataFiles {
  std::string features, labels;
};

// The MNIST-layout files of `dir` that load_mnist reads for the training
// (train = true) or test split: the .gz name when it exists.
DataFiles mnist_files(const std::string& dir, bool train);

// What the configured net takes per row: 784 (LeNet-5's 28x28 images) or 64
// (the digits MLP), and its 10 classes.
std::size_t input_features(const ExperimentConfig& c);
inline constexpr int kClasses = 10;

// The problem with one split ("" when none): no rows, rows of another size
// than the net takes, a non-finite feature, a label outside 0..9. `split`
// ("training", "test") and the file names go into the message.
std::string check_split(const Dataset& d, const DataFiles& files, const std::string& split,
                        std::size_t features);

}  // namespace harness
