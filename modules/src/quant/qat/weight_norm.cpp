#include "xgrad/quant/qat/weight_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"
#include "xgrad/ops/elementwise.hpp"

namespace xgrad::quant {

namespace {

struct Moments {
  double mean, std;
};

// Values per chunk: the unit of work and of summation. Fixed, so every sum
// has the same bits for any thread count; 8 KiB of floats, so a chunk's
// second pass reads L1.
constexpr std::size_t kChunk = 2048;

// 16-byte vectors (GCC / Clang vector extensions: SSE2 on any x86-64).
template <class T>
struct Vec;
template <>
struct Vec<float> {
  typedef float type __attribute__((vector_size(16)));
};
template <>
struct Vec<double> {
  typedef double type __attribute__((vector_size(16)));
};

// The two sums of term(x[i], y[i]) -> std::pair over [b, e) (a chunk): four
// vector accumulators per sum, named so that they stay in registers (an
// array of lanes goes through memory on every addition), then the lanes and
// the scalar tail added in double in a fixed order. term is generic: it gets
// vectors, and scalars for the tail.
template <class T, class F>
std::pair<double, double> chunk_sums(std::size_t b, std::size_t e, const T* x, const T* y, F term) {
  using V = typename Vec<T>::type;
  constexpr std::size_t P = sizeof(V) / sizeof(T), step = 4 * P;
  const auto load = [](const T* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  V a0 = {}, a1 = {}, a2 = {}, a3 = {}, c0 = {}, c1 = {}, c2 = {}, c3 = {};
  std::size_t i = b;
  for (; i + step <= e; i += step) {
    const auto t0 = term(load(x + i), load(y + i));
    const auto t1 = term(load(x + i + P), load(y + i + P));
    const auto t2 = term(load(x + i + 2 * P), load(y + i + 2 * P));
    const auto t3 = term(load(x + i + 3 * P), load(y + i + 3 * P));
    a0 += t0.first, a1 += t1.first, a2 += t2.first, a3 += t3.first;
    c0 += t0.second, c1 += t1.second, c2 += t2.second, c3 += t3.second;
  }
  double r0 = 0, r1 = 0;
  for (const V& v : {a0, a1, a2, a3}) {
    for (std::size_t k = 0; k < P; ++k) r0 += double(v[k]);
  }
  for (const V& v : {c0, c1, c2, c3}) {
    for (std::size_t k = 0; k < P; ++k) r1 += double(v[k]);
  }
  for (; i < e; ++i) {
    const std::pair<T, T> t = term(x[i], y[i]);
    r0 += double(t.first);
    r1 += double(t.second);
  }
  return {r0, r1};
}

// f(chunk, begin, end) -> R for every chunk of [0, n), over threads.
template <class R, class F>
std::vector<R> over_chunks(std::size_t n, F f) {
  std::vector<R> part((n + kChunk - 1) / kChunk);
  xgrad::detail::parallel_for(part.size(), xgrad::detail::row_grain(kChunk),
                              [&](std::size_t cb, std::size_t ce) {
                                for (std::size_t c = cb; c < ce; ++c) {
                                  part[c] = f(c * kChunk, std::min((c + 1) * kChunk, n));
                                }
                              });
  return part;
}

// Count, mean and centred sum of squares of a chunk, in two passes while it
// is in cache: its mean, then sum (w - mu)^2 (not sum w^2 - n mean^2, which
// cancels); mu is the mean rounded to T, and sum (w - mu) corrects for it.
struct Partial {
  double n = 0, mean = 0, m2 = 0;
};

// The chunk's mean is given relative to `origin` (the weight's first value):
// the chunks' means then differ by small numbers held to full precision, not
// by differences of large ones rounded to the ulp of the mean (which, for a
// weight of mean 1e8 and std 1, would cost the std 9 of its digits).
template <class T>
Partial chunk_moments(const T* w, std::size_t b, std::size_t e, T origin) {
  const double n = double(e - b);
  // (The second sum of the first pass is of w again, unused: one helper.)
  const double sum = chunk_sums(b, e, w, w, [](auto v, auto) { return std::pair(v, v); }).first;
  const T mu = static_cast<T>(sum / n);
  const auto [d, ss] = chunk_sums(b, e, w, w, [mu](auto v, auto) {
    const auto c = v - mu;
    return std::pair(c, c * c);
  });
  return {n, (double(mu) - double(origin)) + d / n, std::max(0.0, ss - d * d / n)};
}

// Mean and unbiased std in one pass over memory: the chunks' moments,
// combined in chunk order with the pairwise update of Chan, Golub and LeVeque,
//   M2 = M2_a + M2_b + (mean_b - mean_a)^2 n_a n_b / (n_a + n_b).
template <class T>
Moments moments(const T* w, std::size_t n) {
  const T origin = w[0];
  const std::vector<Partial> part = over_chunks<Partial>(
      n, [w, origin](std::size_t b, std::size_t e) { return chunk_moments(w, b, e, origin); });
  Partial all = part[0];
  for (std::size_t c = 1; c < part.size(); ++c) {
    const Partial& p = part[c];
    const double total = all.n + p.n, delta = p.mean - all.mean;
    all.mean += delta * (p.n / total);
    all.m2 += p.m2 + delta * delta * (all.n * p.n / total);
    all.n = total;
  }
  return {double(origin) + all.mean, std::sqrt(all.m2 / double(n - 1))};
}

template <class T>
void require_weight(const Tensor<T>& w, const char* op) {
  require_defined(w, op, "the weight");
  XGRAD_CHECK(w.numel() >= 2, ValueError, op, ": the unbiased std needs at least 2 elements, got ",
              w.numel());
}

// Saves w and the scalars mean, std, eps; forward gets the moments computed
// by its caller (which hands the std on to the rescale). Per element both
// directions work in T, with the scalars rounded to T once: the mean (the
// centred w - mu is exact when w and mu are within a factor 2, Sterbenz, and
// within an ulp of w - mean otherwise), 1 / D, and backward's coefficients.
struct WeightStandardizeFn : Function<WeightStandardizeFn> {
  static constexpr const char* name = "WeightStandardizeBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& w, double eps, Moments m) {
    const std::size_t n = w.numel();
    const T* pw = w.data().data();
    const T mu = static_cast<T>(m.mean), inv = static_cast<T>(1.0 / (m.std + eps));
    xt::xarray<T> out = xgrad::detail::new_array<T>(w.shape());
    T* po = out.data();
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) po[i] = (pw[i] - mu) * inv;
    });
    if (ctx.recording()) {
      ctx.save_for_backward({w});
      ctx.saved_scalars = {m.mean, m.std, eps};
    }
    return out;
  }

  // With d = w - mean, D = std + eps:
  //   dW = (g - mean(g)) / D - sum(g d) d / (D^2 (n - 1) std)
  //      = g / D - mean(g) / D - k d,   k = sum(g d) / (D^2 (n - 1) std),
  // one pass for the two sums, one writing a g + b + c (w - mu).
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const double mean = ctx.saved_scalars[0], s = ctx.saved_scalars[1], eps = ctx.saved_scalars[2];
    const T* pw = ctx.saved(0).data();
    T* pg = grad.data();
    const std::size_t n = grad.size();
    const double D = s + eps;
    const T mu = static_cast<T>(mean);
    double gsum = 0, gd = 0;
    for (const auto& [s0, s1] :
         over_chunks<std::pair<double, double>>(n, [pg, pw, mu](std::size_t b, std::size_t e) {
           return chunk_sums(b, e, pg, pw,
                             [mu](auto g, auto v) { return std::pair(g, g * (v - mu)); });
         })) {
      gsum += s0;
      gd += s1;
    }
    const double k = s > 0 ? gd / (D * D * double(n - 1) * s) : 0.0;
    const T a = static_cast<T>(1.0 / D), b = static_cast<T>(-gsum / double(n) / D),
            c = static_cast<T>(-k);
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain,
                                [&](std::size_t lo, std::size_t hi) {
                                  for (std::size_t i = lo; i < hi; ++i)
                                    pg[i] = a * pg[i] + b + c * (pw[i] - mu);
                                });
    return gradients(std::move(grad));
  }
};

}  // namespace

template <class T>
Tensor<T> weight_standardize(const Tensor<T>& weight, double eps) {
  return weight_standardize_with_std(weight, eps).normalized;
}

template <class T>
StandardizedWeight<T> weight_standardize_with_std(const Tensor<T>& weight, double eps) {
  const char* op = "weight_standardize";
  require_weight(weight, op);
  XGRAD_CHECK(eps >= 0 && std::isfinite(eps), ValueError, op, ": eps must be finite and >= 0, got ",
              eps);
  const Moments m = moments(weight.data().data(), weight.numel());
  return {WeightStandardizeFn::apply(weight, eps, m), static_cast<T>(m.std)};
}

template <class T>
T weight_std(const Tensor<T>& weight) {
  require_weight(weight, "weight_std");
  return static_cast<T>(moments(weight.data().data(), weight.numel()).std);
}

template <class T>
Tensor<T> rescale_by_weight_std(const Tensor<T>& quantized, const Tensor<T>& weight) {
  require_defined(quantized, "rescale_by_weight_std", "the quantized weight");
  return mul(quantized, weight_std(weight));
}

#define XGRAD_WEIGHT_NORM_INSTANTIATE(T)                                                \
  template Tensor<T> weight_standardize(const Tensor<T>&, double);                      \
  template StandardizedWeight<T> weight_standardize_with_std(const Tensor<T>&, double); \
  template T weight_std(const Tensor<T>&);                                              \
  template Tensor<T> rescale_by_weight_std(const Tensor<T>&, const Tensor<T>&);

XGRAD_WEIGHT_NORM_INSTANTIATE(float)
XGRAD_WEIGHT_NORM_INSTANTIATE(double)

}  // namespace xgrad::quant
