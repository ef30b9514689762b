// BatchNorm1d over [N, C] or [N, C, L] (torch::nn::BatchNorm1d), over the
// engine's xgrad::batch_norm.
//
// Training: normalizes with the batch statistics (biased variance), updates
// running_mean / running_var (unbiased variance) with `momentum` and counts
// num_batches_tracked. Eval: normalizes with the running statistics. Without
// track_running_stats there are no running buffers and batch statistics are
// used in both modes.
#pragma once

#include <cstddef>

#include "xgrad/module.hpp"

namespace xgrad {
namespace nn {

template <class T = float>
class BatchNorm1d : public Module<T> {
 public:
  // ValueError for num_features == 0, eps <= 0 or momentum outside [0, 1].
  explicit BatchNorm1d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);

  // ShapeError unless input is [N, num_features] or [N, num_features, L];
  // ValueError for a single value per channel in training. Nothing is updated
  // when it throws.
  Tensor<T> forward(const Tensor<T>& input) override;
  // running_mean = 0, running_var = 1, num_batches_tracked = 0.
  void reset_running_stats();
  // Also weight = 1, bias = 0.
  void reset_parameters();

  std::size_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }

  Tensor<T> weight, bias;  // parameters [C], undefined without affine
  // Buffers, undefined without track_running_stats. num_batches_tracked is a
  // 0-d tensor of T (exact up to 2^24 batches for float).
  Tensor<T> running_mean, running_var, num_batches_tracked;

 protected:
  // load_state_dict refuses (ValueError) running statistics an eval forward
  // cannot use: a NaN or infinite running_mean, a running_var that is
  // negative, NaN or infinite, a num_batches_tracked that is not a count.
  void check_state(const typename Module<T>::StateCandidate& state) const override;

 private:
  std::size_t num_features_;
  double eps_, momentum_;
};

extern template class BatchNorm1d<float>;
extern template class BatchNorm1d<double>;

}  // namespace nn
}  // namespace xgrad
