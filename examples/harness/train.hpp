// One training epoch with a progress bar, and test accuracy in batches.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "xgrad/data.hpp"
#include "xgrad/module.hpp"
#include "xgrad/optim/optimizer.hpp"

namespace harness {

struct EpochResult {
  double mean_loss = 0;  // over the epoch's samples
  double seconds = 0;
  double images_per_second = 0;
  // The mean loss of each tenth of the epoch (fewer for fewer batches): the
  // training curve at a finer grain than epochs.
  std::vector<double> segment_loss;
};

// One pass over `loader`: zero_grad, forward, cross-entropy, backward, step,
// then `after_step` (e.g. keeping clipping parameters positive). Progress on
// stderr under `label`; the bar's closing line carries `note_after`'s text,
// evaluated once the epoch is done (e.g. the test accuracy). live = false:
// plain lines even on a terminal (several runs printing at once).
EpochResult train_epoch(xgrad::Module<float>& model, xgrad::optim::Optimizer<float>& optimizer,
                        xgrad::data::DataLoader<float>& loader, const std::string& label,
                        const std::function<void()>& after_step = nullptr,
                        const std::function<std::string()>& note_after = nullptr, bool live = true);

// Test accuracy in percent, in eval mode and without recording a graph, in
// batches of `batch_size` rows (bounded memory).
double evaluate(xgrad::Module<float>& model, const xgrad::data::Dataset<float>& set,
                std::size_t batch_size = 1000);

}  // namespace harness
