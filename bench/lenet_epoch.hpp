// bench_lenet_epoch's workloads, shared by its xgrad translation unit
// (bench_lenet_epoch.cpp, which registers every case) and its libtorch peer
// (torch_peer_lenet_epoch.cpp): one training epoch of the experiment's
// LeNet-5 on the Fashion-MNIST training set (docs/experiment.md).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

enum class EpochModel { float_model, apot, lsq };

struct EpochCase {
  EpochModel model;
  int bits;  // of conv2, fc1, fc2 (ignored for the float model)
};

// The experiment's settings: batch 64 (938 steps over 60,000 images), Adam at
// 1e-3 (float) or 1e-4 (QAT), quantizers calibrated on 1024 images.
constexpr std::size_t kEpochBatch = 64;
constexpr double kFloatLr = 1e-3, kQatLr = 1e-4;
constexpr std::size_t kCalibrationImages = 1024;

// The training images [n, 1, 28, 28], normalized as the experiment does, and
// their labels. Loaded once, on first use, from the Fashion-MNIST files of
// Debian's dataset-fashion-mnist, or else synthetic (normal pixels, labels
// i mod 10) of the same shapes; epoch_data_source() names which, for the
// cases' labels ("Fashion-MNIST" or "synthetic data").
struct EpochData {
  const float* images = nullptr;  // owned by bench_lenet_epoch.cpp
  std::vector<std::int64_t> labels;
  std::size_t n = 0;
};
const EpochData& epoch_data();
std::string epoch_data_source();

// The normalized level sets of the experiment's APoT QAT layers at `bits`
// (weights: sign-magnitude, inputs: unsigned), read from xgrad's prepared
// model, so that the libtorch peer rounds to the same levels.
struct RcfLevels {
  std::vector<float> weight, input;
};
RcfLevels experiment_rcf_levels(int bits);

// The libtorch peer of one case (torch_peer_lenet_epoch.cpp).
void torch_lenet_epoch(benchmark::State& state, EpochCase c);

}  // namespace bench
