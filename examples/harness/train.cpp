#include "train.hpp"

#include <numeric>
#include <vector>

#include "progress.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/loss.hpp"

namespace harness {

EpochResult train_epoch(xgrad::Module<float>& model, xgrad::optim::Optimizer<float>& optimizer,
                        xgrad::data::DataLoader<float>& loader, const std::string& label,
                        const std::function<void()>& after_step,
                        const std::function<std::string()>& note_after, bool live) {
  model.train();
  ProgressBar bar(label, loader.num_batches(), stderr, live);
  std::vector<double> losses;
  for (const auto& batch : loader) {
    optimizer.zero_grad();
    const xgrad::Tensor<float> loss =
        xgrad::cross_entropy(model.forward(batch.features), batch.labels);
    loss.backward();
    optimizer.step();
    if (after_step) after_step();
    losses.push_back(loss.item());
    bar.update(losses.back(), batch.size());
  }
  EpochResult r;
  const std::size_t segments = std::min<std::size_t>(10, losses.size());
  for (std::size_t s = 0; s < segments; ++s) {
    const std::size_t a = s * losses.size() / segments, b = (s + 1) * losses.size() / segments;
    r.segment_loss.push_back(std::accumulate(losses.begin() + std::ptrdiff_t(a),
                                             losses.begin() + std::ptrdiff_t(b), 0.0) /
                             double(b - a));
  }
  r.mean_loss = bar.mean_loss();
  r.seconds = bar.seconds();
  r.images_per_second = r.seconds > 0 ? double(loader.dataset().size()) / r.seconds : 0;
  bar.finish(note_after ? note_after() : "");
  return r;
}

double evaluate(xgrad::Module<float>& model, const xgrad::data::Dataset<float>& set,
                std::size_t batch_size) {
  xgrad::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::size_t correct = 0;
  for (std::size_t first = 0; first < set.size(); first += batch_size) {
    std::vector<std::size_t> rows(std::min(batch_size, set.size() - first));
    std::iota(rows.begin(), rows.end(), first);
    const auto part = xgrad::data::subset(set, rows);
    const double acc = xgrad::data::accuracy(model.forward(part.features), part.labels);
    correct += static_cast<std::size_t>(std::llround(acc * double(rows.size())));
  }
  model.train(was_training);
  return set.size() ? 100.0 * double(correct) / double(set.size()) : 0.0;
}

}  // namespace harness
