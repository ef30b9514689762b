#include "xgrad/nn/batchnorm.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/batch_norm.hpp"

namespace xgrad::nn {

template <class T>
BatchNormBase<T>::BatchNormBase(const char* type_name, std::size_t min_rank, std::size_t max_rank,
                                std::string layout, std::size_t num_features, double eps,
                                double momentum, bool affine, bool track_running_stats)
    : xgrad::Module<T>(type_name),
      num_features_(num_features),
      eps_(eps),
      momentum_(momentum),
      min_rank_(min_rank),
      max_rank_(max_rank),
      layout_(std::move(layout)) {
  const std::string name(type_name);
  XGRAD_CHECK(num_features > 0, ValueError, name, ": num_features must be positive, got 0");
  XGRAD_CHECK(eps > 0.0 && std::isfinite(eps), ValueError, name, ": eps must be positive, got ",
              eps);
  XGRAD_CHECK(momentum >= 0.0 && momentum <= 1.0, ValueError, name,
              ": momentum must be in [0, 1], got ", momentum);
  if (affine) {
    weight = this->register_parameter("weight", ones<T>({num_features}));
    bias = this->register_parameter("bias", zeros<T>({num_features}));
  }
  if (track_running_stats) {
    running_mean = this->register_buffer("running_mean", zeros<T>({num_features}));
    running_var = this->register_buffer("running_var", ones<T>({num_features}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", scalar<T>(0));
  }
}

template <class T>
void BatchNormBase<T>::reset_running_stats() {
  if (!running_mean.defined()) return;
  NoGradGuard no_grad;
  running_mean.fill_(T(0));
  running_var.fill_(T(1));
  num_batches_tracked.fill_(T(0));
}

template <class T>
void BatchNormBase<T>::reset_parameters() {
  reset_running_stats();
  if (!weight.defined()) return;
  NoGradGuard no_grad;
  weight.fill_(T(1));
  bias.fill_(T(0));
}

template <class T>
Tensor<T> BatchNormBase<T>::forward(const Tensor<T>& input) {
  // batch_norm accepts every rank of every BatchNormNd, and without affine
  // parameters and running statistics it has nothing of size C to check the
  // input against: the layer checks both.
  XGRAD_CHECK(!input.defined() || (input.dim() >= min_rank_ && input.dim() <= max_rank_),
              ShapeError, this->type_name(), ": expected input ", layout_, ", got ", input.shape());
  XGRAD_CHECK(!input.defined() || input.shape()[1] == num_features_, ShapeError, this->type_name(),
              ": expected ", num_features_, " channels (input ", layout_, "), got input ",
              input.shape());
  const bool tracking = running_mean.defined();
  const bool batch_stats = this->is_training() || !tracking;
  Tensor<T> out =
      batch_norm(input, tracking ? running_mean : Tensor<T>(), tracking ? running_var : Tensor<T>(),
                 weight, bias, batch_stats, momentum_, eps_);
  if (this->is_training() && tracking) num_batches_tracked.mutable_data()() += T(1);
  return out;
}

template <class T>
BatchNorm1d<T>::BatchNorm1d(std::size_t num_features, double eps, double momentum, bool affine,
                            bool track_running_stats)
    : BatchNormBase<T>("BatchNorm1d", 2, 3, "[N, C] or [N, C, L]", num_features, eps, momentum,
                       affine, track_running_stats) {}

template <class T>
BatchNorm2d<T>::BatchNorm2d(std::size_t num_features, double eps, double momentum, bool affine,
                            bool track_running_stats)
    : BatchNormBase<T>("BatchNorm2d", 4, 4, "[N, C, H, W]", num_features, eps, momentum, affine,
                       track_running_stats) {}

namespace {
// num_features of options, checked before it becomes a size_t.
std::size_t features_of(const BatchNormOptions& options, const char* type_name) {
  XGRAD_CHECK(options.num_features() > 0, ValueError, type_name,
              ": num_features must be positive, got ", options.num_features());
  return static_cast<std::size_t>(options.num_features());
}
}  // namespace

template <class T>
BatchNorm1d<T>::BatchNorm1d(const BatchNormOptions& o)
    : BatchNorm1d(features_of(o, "BatchNorm1d"), o.eps(), o.momentum(), o.affine(),
                  o.track_running_stats()) {}

template <class T>
BatchNorm2d<T>::BatchNorm2d(const BatchNormOptions& o)
    : BatchNorm2d(features_of(o, "BatchNorm2d"), o.eps(), o.momentum(), o.affine(),
                  o.track_running_stats()) {}

template <class T>
void BatchNormBase<T>::check_state(const typename xgrad::Module<T>::StateCandidate& state) const {
  if (!running_mean.defined()) return;
  const std::string where = this->type_name() + "::load_state_dict: ";
  const xt::xarray<T>&mean = state["running_mean"], &var = state["running_var"];
  for (std::size_t c = 0; c < num_features_; ++c) {
    XGRAD_CHECK(std::isfinite(mean.data()[c]), ValueError, where, state.key("running_mean"), "[", c,
                "] = ", mean.data()[c], " is not finite");
    XGRAD_CHECK(var.data()[c] >= T(0) && std::isfinite(var.data()[c]), ValueError, where,
                state.key("running_var"), "[", c, "] = ", var.data()[c],
                " is not a finite variance >= 0");
  }
  const T n = state["num_batches_tracked"].data()[0];
  XGRAD_CHECK(n >= T(0) && std::isfinite(n) && std::nearbyint(n) == n, ValueError, where,
              state.key("num_batches_tracked"), " = ", n, " is not a count (an integer >= 0)");
}

XGRAD_INSTANTIATE_CLASS(BatchNormBase);
XGRAD_INSTANTIATE_CLASS(BatchNorm1d);
XGRAD_INSTANTIATE_CLASS(BatchNorm2d);

}  // namespace xgrad::nn
