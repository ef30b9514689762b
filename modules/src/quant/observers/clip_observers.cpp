#include "xgrad/quant/observers/clip_observers.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../enum_name.hpp"
#include "observe_range.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

namespace xgrad::quant {

namespace {

struct AbsStats {
  double max_abs = 0, sum_abs = 0;  // |x| is exact in double; the sum runs in order
};

// max |x| and sum |x| of x; ValueError (naming op) at the first non-finite value
// (inf, -inf or nan).
template <class T>
AbsStats abs_stats(const Tensor<T>& x, const std::string& op) {
  require_defined(x, op.c_str(), "x");
  const T* p = x.data().data();
  AbsStats s;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    const double a = std::abs(static_cast<double>(p[i]));
    XGRAD_CHECK(std::isfinite(a), ValueError, op, ": cannot observe ", p[i], " at flat position ",
                i, "; only finite values");
    s.max_abs = std::max(s.max_abs, a);
    s.sum_abs += a;
  }
  return s;
}

// load_state_dict: the clipping statistic `name` must be finite and >= 0.
template <class T>
void check_clip_statistic(const Module<T>& m, const typename Module<T>::StateCandidate& state,
                          const char* name) {
  const T v = state[name].data()[0];
  XGRAD_CHECK(v >= T(0) && std::isfinite(v), ValueError, m.type_name(),
              "::load_state_dict: ", state.key(name), " must be finite and >= 0, got ", v);
}

}  // namespace

template <class T>
MaxAbsObserver<T>::MaxAbsObserver() : ClipObserver<T>("MaxAbsObserver") {
  max_abs_ = this->register_buffer("max_abs", scalar<T>(T(0)));
}

template <class T>
Tensor<T> MaxAbsObserver<T>::forward(const Tensor<T>& x) {
  const AbsStats s = abs_stats(x, this->type_name() + ".forward");
  if (x.numel() == 0) return x;
  // The max of T values, exact in double: converting back is exact.
  max_abs_.mutable_data() = xt::xarray<T>(std::max(max_abs_.item(), static_cast<T>(s.max_abs)));
  return x;
}

template <class T>
T MaxAbsObserver<T>::calculate_qparams() const {
  return max_abs_.item();
}

template <class T>
void MaxAbsObserver<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  check_clip_statistic(*this, state, "max_abs");
}

template <class T>
ClipPointObserver<T>::ClipPointObserver(std::string type_name)
    : ClipObserver<T>(std::move(type_name)) {
  clip_point_ = this->register_buffer("clip_point", scalar<T>(T(0)));
}

template <class T>
T ClipPointObserver<T>::calculate_qparams() const {
  return clip_point_.item();
}

template <class T>
void ClipPointObserver<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  check_clip_statistic(*this, state, "clip_point");
}

template <class T>
LsqClipPointObserver<T>::LsqClipPointObserver(std::int64_t top_code)
    : ClipPointObserver<T>("LsqClipPointObserver"), top_code_(top_code) {
  XGRAD_CHECK(top_code >= 1, ValueError, "LsqClipPointObserver: top_code must be >= 1, got ",
              top_code);
}

template <class T>
Tensor<T> LsqClipPointObserver<T>::forward(const Tensor<T>& x) {
  const std::string op = this->type_name() + ".forward";
  const AbsStats s = abs_stats(x, op);
  const std::size_t n = x.numel();
  if (n == 0) return x;
  const T c = static_cast<T>(2.0 * (s.sum_abs / double(n)) * std::sqrt(double(top_code_)));
  XGRAD_CHECK(std::isfinite(c), ValueError, op, ": the clip point ", c,
              " overflows the tensor's type");
  this->clip_point_.mutable_data() = xt::xarray<T>(c);
  return x;
}

template <class T>
PercentileClipObserver<T>::PercentileClipObserver(double percentile)
    : ClipPointObserver<T>("PercentileClipObserver"), percentile_(percentile) {
  XGRAD_CHECK(percentile > 0.0 && percentile <= 100.0, ValueError,
              "PercentileClipObserver: percentile must be in (0, 100], got ", percentile);
}

template <class T>
Tensor<T> PercentileClipObserver<T>::forward(const Tensor<T>& x) {
  abs_stats(x, this->type_name() + ".forward");
  if (x.numel() == 0) return x;
  std::vector<T> a(x.numel());
  const T* p = x.data().data();
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::abs(p[i]);
  std::sort(a.begin(), a.end());
  this->clip_point_.mutable_data() = xt::xarray<T>(detail::quantile(a, percentile_ / 100.0));
  return x;
}

template <class T>
MseClipObserver<T>::MseClipObserver(const LevelSet& levels, int steps)
    : ClipPointObserver<T>("MseClipObserver"), levels_(levels.values<T>()), steps_(steps) {
  const char* op = "MseClipObserver";
  XGRAD_CHECK(steps >= 1, ValueError, op, ": steps must be >= 1, got ", steps);
  XGRAD_CHECK(levels_.size() >= 2 && (levels_.front() == T(0) || levels_.front() == T(-1)) &&
                  levels_.back() == T(1),
              ValueError, op, ": the level set ", levels.name,
              " is not normalized (bottom 0 or -1, top 1)");
}

template <class T>
Tensor<T> MseClipObserver<T>::forward(const Tensor<T>& x) {
  const AbsStats s = abs_stats(x, this->type_name() + ".forward");
  if (x.numel() == 0 || s.max_abs == 0) return x;
  // RCF's own forward at each candidate alpha, so the error is the one
  // training will see; the squared error summed in double.
  NoGradGuard no_grad;
  const Tensor<T> xd = x.detach();
  const T* px = xd.data().data();
  double best_err = 0;
  T best = static_cast<T>(s.max_abs);
  for (int i = steps_; i >= 1; --i) {
    const T alpha = static_cast<T>(s.max_abs * double(i) / double(steps_));
    if (!(alpha > T(0))) break;
    const Tensor<T> q = rcf_fake_quantize(xd, full<T>({1}, alpha), levels_);
    const T* pq = q.data().data();
    double err = 0;
    for (std::size_t k = 0; k < xd.numel(); ++k) {
      const double d = double(px[k]) - double(pq[k]);
      err += d * d;
    }
    if (i == steps_ || err < best_err) best_err = err, best = alpha;
  }
  this->clip_point_.mutable_data() = xt::xarray<T>(best);
  return x;
}

const char* to_string(AlphaInit init) {
  return detail::enum_name(init, {"fixed", "max_abs", "lsq_clip_point", "percentile", "mse"});
}

template <class T>
std::shared_ptr<ClipObserver<T>> make_clip_observer(AlphaInit init, const LevelSet& levels,
                                                    double percentile) {
  switch (init) {
    case AlphaInit::fixed:
      return nullptr;
    case AlphaInit::max_abs:
      return std::make_shared<MaxAbsObserver<T>>();
    case AlphaInit::lsq_clip_point:
      return std::make_shared<LsqClipPointObserver<T>>(levels.top_code());
    case AlphaInit::percentile:
      return std::make_shared<PercentileClipObserver<T>>(percentile);
    case AlphaInit::mse:
      return std::make_shared<MseClipObserver<T>>(levels);
  }
  throw_error<ValueError>("make_clip_observer: unknown AlphaInit ", static_cast<int>(init));
}

XGRAD_INSTANTIATE_CLASS(MaxAbsObserver);
XGRAD_INSTANTIATE_CLASS(ClipPointObserver);
XGRAD_INSTANTIATE_CLASS(LsqClipPointObserver);
XGRAD_INSTANTIATE_CLASS(PercentileClipObserver);
XGRAD_INSTANTIATE_CLASS(MseClipObserver);
template std::shared_ptr<ClipObserver<float>> make_clip_observer<float>(AlphaInit, const LevelSet&,
                                                                        double);
template std::shared_ptr<ClipObserver<double>> make_clip_observer<double>(AlphaInit,
                                                                          const LevelSet&, double);

}  // namespace xgrad::quant
