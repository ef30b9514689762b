// BatchNorm1d over [N, C] or [N, C, L] and BatchNorm2d over [N, C, H, W]
// (torch::nn::BatchNorm1d / BatchNorm2d), over the engine's xgrad::batch_norm.
// Both are BatchNormBase with a different input rank.
//
// Training: normalizes with the batch statistics (biased variance), updates
// running_mean / running_var (unbiased variance) with `momentum` and counts
// num_batches_tracked. Eval: normalizes with the running statistics. Without
// track_running_stats there are no running buffers and batch statistics are
// used in both modes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "xgrad/arg.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"

namespace xgrad::nn {

// libtorch's BatchNormOptions (BatchNorm1dOptions, BatchNorm2dOptions):
//   nn::BatchNorm2d<float> bn(nn::BatchNorm2dOptions(16).momentum(0.01).affine(false));
// momentum is a number here (libtorch's None, a cumulative average, is not
// supported). Fields are XGRAD_ARGs (xgrad/arg.hpp).
class BatchNormOptions {
 public:
  BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT
  XGRAD_ARG(std::int64_t, num_features);
  XGRAD_ARG(double, eps) = 1e-5;
  XGRAD_ARG(double, momentum) = 0.1;
  XGRAD_ARG(bool, affine) = true;
  XGRAD_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// libtorch's BatchNormImplBase: the parameters, buffers and forward of every
// BatchNormNd.
template <class T = float>
class BatchNormBase : public xgrad::Module<T> {
 public:
  // ShapeError unless input has this layer's rank and num_features channels;
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
  // `layout` ("[N, C, H, W]") names the accepted input in error messages;
  // inputs of rank min_rank .. max_rank are accepted. ValueError for
  // num_features == 0, eps <= 0 or momentum outside [0, 1] (and for options
  // with num_features < 1).
  BatchNormBase(const char* type_name, std::size_t min_rank, std::size_t max_rank,
                std::string layout, std::size_t num_features, double eps, double momentum,
                bool affine, bool track_running_stats);
  // load_state_dict refuses (ValueError) running statistics an eval forward
  // cannot use: a NaN or infinite running_mean, a running_var that is
  // negative, NaN or infinite, a num_batches_tracked that is not a count.
  void check_state(const typename xgrad::Module<T>::StateCandidate& state) const override;

 private:
  std::size_t num_features_;
  double eps_, momentum_;
  std::size_t min_rank_, max_rank_;
  std::string layout_;
};

template <class T = float>
class BatchNorm1d : public BatchNormBase<T> {
 public:
  // Input [N, C] or [N, C, L]; statistics over N (and L).
  explicit BatchNorm1d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  explicit BatchNorm1d(const BatchNormOptions& options);
};

template <class T = float>
class BatchNorm2d : public BatchNormBase<T> {
 public:
  // Input [N, C, H, W]; statistics over N, H and W.
  explicit BatchNorm2d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  explicit BatchNorm2d(const BatchNormOptions& options);
};

XGRAD_EXTERN_TEMPLATE_CLASS(BatchNormBase);
XGRAD_EXTERN_TEMPLATE_CLASS(BatchNorm1d);
XGRAD_EXTERN_TEMPLATE_CLASS(BatchNorm2d);

}  // namespace xgrad::nn
