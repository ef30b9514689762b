// Losses: mse_loss, nll_loss and cross_entropy (log-softmax and NLL fused in
// one Function, stable for huge logits). Sums accumulate in double. Rows and
// elements are split over threads; sums add fixed chunks in order.
#include "xgrad/ops/loss.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "kernels.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

void check_reduction(Reduction r, const char* op) {
  XGRAD_CHECK(r == Reduction::None || r == Reduction::Mean || r == Reduction::Sum, ValueError, op,
              ": unknown reduction ", static_cast<int>(r));
}

// Per-sample losses -> the requested result: [N] as is, or a 0-d mean or sum.
template <class T>
xt::xarray<T> reduce_losses(xt::xarray<T> losses, Reduction r) {
  if (r == Reduction::None) return losses;
  const double sum = kernels::flat_sum(losses.data(), losses.size());
  // A mean over zero elements is NaN, as in PyTorch.
  return xt::xarray<T>(static_cast<T>(r == Reduction::Mean ? sum / losses.size() : sum));
}

// The gradient factor of sample i given the output gradient g.
template <class T>
struct SampleScale {
  const T* g;
  bool per_sample;
  T factor;  // 1 for Sum, 1 / count for Mean
  T operator()(std::size_t i) const { return per_sample ? g[i] : g[0] * factor; }
};

template <class T>
SampleScale<T> sample_scale(const xt::xarray<T>& g, Reduction r, std::size_t count) {
  return {g.data(), r == Reduction::None, r == Reduction::Mean ? T(1) / T(count) : T(1)};
}

// The checks of a loss over class scores: a known reduction, scores (the
// argument `arg`) defined and [N, C], labels [N] with every label in [0, C).
template <class T>
void check_class_inputs(const Tensor<T>& input, const char* arg, const Labels& labels,
                        Reduction reduction, const char* op) {
  check_reduction(reduction, op);
  require_defined(input, op, arg);
  const Shape& scores = input.shape();
  XGRAD_CHECK(scores.size() == 2, ShapeError, op, ": expected input of shape [N, C], got ", scores);
  XGRAD_CHECK(labels.dimension() == 1, ShapeError, op, ": expected labels of shape [N], got ",
              labels.shape());
  XGRAD_CHECK(labels.size() == scores[0], ShapeError, op, ": input has ", scores[0],
              " rows (shape ", scores, ") but there are ", labels.size(), " labels");
  const auto classes = static_cast<std::int64_t>(scores[1]);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::int64_t y = labels.data()[i];
    XGRAD_CHECK(y >= 0 && y < classes, ValueError, op, ": label at position ", i, " is ", y,
                ", outside [0, ", classes, ")");
  }
}

template <class T>
void save_labels(Context<T>& ctx, Reduction r, const Labels& labels) {
  ctx.saved_ints.assign(labels.begin(), labels.end());
  ctx.saved_ints.push_back(static_cast<std::ptrdiff_t>(r));  // last: the reduction
}

// (input - target)^2 per element, then reduced.
struct MseLossFn : Function<MseLossFn> {
  static constexpr const char* name = "MseLossBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& input, const Tensor<T>& target,
                               Reduction r) {
    xt::xarray<T> diff =
        kernels::zip(input.data(), target.data(), input.shape(), [](T x, T t) { return x - t; });
    xt::xarray<T> out = reduce_losses(kernels::map(diff, [](T d) { return d * d; }), r);
    if (ctx.recording()) {
      ctx.saved_arrays.push_back(std::move(diff));
      ctx.saved_ints = {static_cast<std::ptrdiff_t>(r)};
    }
    return out;
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const xt::xarray<T>& diff = ctx.saved_arrays[0];
    const auto scale = sample_scale(g, static_cast<Reduction>(ctx.saved_ints[0]), diff.size());
    auto grad = detail::new_array<T>(diff.shape());
    const T* d = diff.data();
    T* pg = grad.data();
    detail::parallel_for(diff.size(), detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) pg[i] = T(2) * d[i] * scale(i);
    });
    xt::xarray<T> grad_target;
    if (ctx.needs_input_grad(1)) grad_target = kernels::map(grad, [](T x) { return -x; });
    return gradients(std::move(grad), std::move(grad_target));
  }
};

// -log_probs[i, labels[i]] per sample, then reduced.
struct NllLossFn : Function<NllLossFn> {
  static constexpr const char* name = "NllLossBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& log_probs, const Labels& labels,
                               Reduction r) {
    const std::size_t n = log_probs.shape()[0], c = log_probs.shape()[1];
    const T* lp = log_probs.data().data();
    auto losses = detail::new_array<T>({n});
    for (std::size_t i = 0; i < n; ++i) losses.data()[i] = -lp[i * c + labels.data()[i]];
    if (ctx.recording()) save_labels(ctx, r, labels);
    return reduce_losses(std::move(losses), r);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const Shape& shape = ctx.input_shape(0);
    const std::size_t n = shape[0], c = shape[1];
    const auto r = static_cast<Reduction>(ctx.saved_ints[n]);
    const auto scale = sample_scale(g, r, n);
    xt::xarray<T> grad = detail::new_zeros<T>(shape);
    for (std::size_t i = 0; i < n; ++i) grad.data()[i * c + ctx.saved_ints[i]] = -scale(i);
    return gradients(std::move(grad));
  }
};

// loss_i = -log_softmax(x_i)[y_i] = -((x_iy - m_i) - log sum_k exp(x_ik - m_i)),
// m_i the row maximum. Backward: (softmax(x_i) - onehot(y_i)) * scale_i; the
// softmax is kept from forward when recording.
struct CrossEntropyFn : Function<CrossEntropyFn> {
  static constexpr const char* name = "CrossEntropyBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& logits, const Labels& labels,
                               Reduction r) {
    const std::size_t n = logits.shape()[0], c = logits.shape()[1];
    const T* x = logits.data().data();
    auto losses = detail::new_array<T>({n});
    xt::xarray<T> probs;
    if (ctx.recording()) probs = detail::new_array<T>(logits.shape());
    const bool keep = ctx.recording();
    // Rows are independent: split over threads.
    detail::parallel_for(n, detail::row_grain(c), [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) {
        const T* row = x + i * c;
        T m = -std::numeric_limits<T>::infinity();
        for (std::size_t k = 0; k < c; ++k) m = row[k] > m ? row[k] : m;
        T sum = 0;
        if (keep) {
          T* p = probs.data() + i * c;
          for (std::size_t k = 0; k < c; ++k) sum += (p[k] = std::exp(row[k] - m));
          for (std::size_t k = 0; k < c; ++k) p[k] /= sum;
        } else {
          for (std::size_t k = 0; k < c; ++k) sum += std::exp(row[k] - m);
        }
        losses.data()[i] = -((row[labels.data()[i]] - m) - std::log(sum));
      }
    });
    if (ctx.recording()) {
      ctx.saved_arrays.push_back(std::move(probs));
      save_labels(ctx, r, labels);
    }
    return reduce_losses(std::move(losses), r);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const xt::xarray<T>& probs = ctx.saved_arrays[0];
    const std::size_t n = probs.shape()[0], c = probs.shape()[1];
    const auto r = static_cast<Reduction>(ctx.saved_ints[n]);
    const auto scale = sample_scale(g, r, n);
    auto grad = detail::new_array<T>(probs.shape());
    detail::parallel_for(n, detail::row_grain(c), [&](std::size_t first, std::size_t last) {
      for (std::size_t i = first; i < last; ++i) {
        const T s = scale(i);
        const T* p = probs.data() + i * c;
        T* d = grad.data() + i * c;
        for (std::size_t k = 0; k < c; ++k) d[k] = p[k] * s;
        d[ctx.saved_ints[i]] -= s;
      }
    });
    return gradients(std::move(grad));
  }
};

}  // namespace

template <class T>
Tensor<T> mse_loss(const Tensor<T>& input, const Tensor<T>& target, Reduction reduction) {
  check_reduction(reduction, "mse_loss");
  require_defined(input, "mse_loss", "input");
  require_defined(target, "mse_loss", "target");
  XGRAD_CHECK(input.shape() == target.shape(), ShapeError, "mse_loss: input shape ", input.shape(),
              " and target shape ", target.shape(), " must be equal (no broadcasting)");
  return MseLossFn::apply(input, target, reduction);
}

template <class T>
Tensor<T> nll_loss(const Tensor<T>& log_probs, const Labels& labels, Reduction reduction) {
  check_class_inputs(log_probs, "log_probs", labels, reduction, "nll_loss");
  return NllLossFn::apply(log_probs, labels, reduction);
}

template <class T>
Tensor<T> cross_entropy(const Tensor<T>& logits, const Labels& labels, Reduction reduction) {
  check_class_inputs(logits, "logits", labels, reduction, "cross_entropy");
  return CrossEntropyFn::apply(logits, labels, reduction);
}

template Tensor<float> mse_loss(const Tensor<float>&, const Tensor<float>&, Reduction);
template Tensor<double> mse_loss(const Tensor<double>&, const Tensor<double>&, Reduction);
template Tensor<float> nll_loss(const Tensor<float>&, const Labels&, Reduction);
template Tensor<double> nll_loss(const Tensor<double>&, const Labels&, Reduction);
template Tensor<float> cross_entropy(const Tensor<float>&, const Labels&, Reduction);
template Tensor<double> cross_entropy(const Tensor<double>&, const Labels&, Reduction);

}  // namespace xgrad
