// A per-epoch progress bar: batches done, running loss, throughput and time
// left, redrawn in place on a terminal; on anything else (a pipe, a log file)
// one plain line per epoch, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace harness {

class ProgressBar {
 public:
  // `label` starts every line ("seed 0  float  epoch 1/4"). Draws on `out`
  // (stderr by default, which stays a terminal when stdout is redirected);
  // live = false forces plain lines.
  ProgressBar(std::string label, std::size_t total_batches, std::FILE* out = stderr,
              bool live = true);
  // After each batch: its mean loss and its number of samples.
  void update(double batch_loss, std::size_t batch_size);
  // Ends the epoch with a closing line that may carry extra text ("test 88.1%").
  void finish(const std::string& extra = "");
  double mean_loss() const { return samples_ ? loss_sum_ / double(samples_) : 0.0; }
  double seconds() const;

 private:
  void draw(bool final_line, const std::string& extra);
  std::string label_;
  std::size_t total_, done_ = 0, samples_ = 0;
  double loss_sum_ = 0;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1:05" / "1:02:05" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace harness
