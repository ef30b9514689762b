#include "progress.hpp"

#include <unistd.h>

#include <cmath>

namespace harness {

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, std::size_t total_batches, std::FILE* out, bool live)
    : label_(std::move(label)),
      total_(total_batches),
      out_(out),
      tty_(live && isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(double batch_loss, std::size_t batch_size) {
  ++done_;
  samples_ += batch_size;
  loss_sum_ += batch_loss * double(batch_size);
  // Redraw at most ten times a second: drawing is not free, batches are fast.
  const auto now = std::chrono::steady_clock::now();
  if (tty_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false, "");
  }
}

void ProgressBar::finish(const std::string& extra) { draw(true, extra); }

void ProgressBar::draw(bool final_line, const std::string& extra) {
  const double t = seconds();
  const double rate = t > 0 ? double(samples_) / t : 0.0;
  const double left = done_ > 0 ? t * double(total_ - std::min(done_, total_)) / double(done_) : 0;
  if (!tty_) {
    if (!final_line) return;
    std::fprintf(out_, "%s  %zu batches  loss %.4f  %.0f img/s  %s  %s\n", label_.c_str(), done_,
                 mean_loss(), rate, format_duration(t).c_str(), extra.c_str());
    std::fflush(out_);
    return;
  }
  constexpr int kWidth = 24;
  const int filled = total_ ? int(kWidth * std::min(done_, total_) / total_) : kWidth;
  std::string bar(std::size_t(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(std::size_t(kWidth - filled - 1), ' ');
  std::fprintf(out_, "\r\033[K%s [%s] %zu/%zu  loss %.4f  %.0f img/s  %s %s", label_.c_str(),
               bar.c_str(), done_, total_, mean_loss(), rate, final_line ? "took" : "ETA",
               format_duration(final_line ? t : left).c_str());
  if (final_line) std::fprintf(out_, "  %s\n", extra.c_str());
  std::fflush(out_);
}

}  // namespace harness
