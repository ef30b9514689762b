#include "xgrad/quant/qat/weight_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../fake_quantize/rcf_common.hpp"
#include "../kernels/apot.hpp"
#include "../kernels/blocked_sums.hpp"
#include "../kernels/dispatch.hpp"
#include "../kernels/select.hpp"
#include "standardized_rcf.hpp"
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

// ---- standardize + RCF + rescale, fused (standardized_rcf.hpp) ----

struct StandardizedRcfParams {
  double mean, std, eps, grad_scale;
  bool rescale;
};

// Chunks of the fused backward: one of blocked_sums (RCF's alpha sums) is
// two of kChunk (the normalization's sums), so one pass serves both.
constexpr std::size_t kRcfChunk = detail::kBlockedSumsChunk;
static_assert(kRcfChunk == 2 * kChunk, "the fused backward's chunk holds two of kChunk");

// The kernel table's float variants of the fused loops: `member` of the table
// for float, null (the loops below) for double.
template <class T, class Fn>
Fn float_variant(Fn detail::KernelTable::*member) {
  if constexpr (std::is_same<T, float>::value) return detail::kernel_table().*member;
  return nullptr;
}

struct StandardizedRcfFn : Function<StandardizedRcfFn> {
  static constexpr const char* name = "StandardizedRCFFakeQuantizeBackward";

  // Per element, the composition's operations in its order, in T:
  //   x = (w - mu) * inv;  u = x / alpha;  q = alpha * level(u);  y = q * std.
  // Blocks of kChunk go through all of it while they are in L1.
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& w, const Tensor<T>& alpha_t,
                               const std::vector<T>& levels, StandardizedRcfParams p) {
    const std::size_t n = w.numel();
    const T* pw = w.data().data();
    const T mu = static_cast<T>(p.mean), inv = static_cast<T>(1.0 / (p.std + p.eps));
    const T s = static_cast<T>(p.std), alpha = alpha_t.data().data()[0];
    xt::xarray<T> out = xgrad::detail::new_array<T>(w.shape());
    xt::xarray<T> q;  // alpha * level, for backward
    if (ctx.recording()) q = xgrad::detail::new_array<T>(w.shape());
    T* po = out.data();
    T* pq = ctx.recording() ? q.data() : po;
    const detail::NearestLevels<T> search(levels.data(), levels.size(), n);
    const detail::RcfNormalizeFn normalize = float_variant<T>(&detail::KernelTable::rcf_normalize);
    const detail::RcfScaleFn scale = float_variant<T>(&detail::KernelTable::rcf_scale);
    detail::RcfWeightArgs args{};
    if (normalize || scale)
      args = {float(mu), float(inv), float(alpha), float(s), 0, 0, 0, p.rescale};
    xgrad::detail::parallel_for((n + kChunk - 1) / kChunk, xgrad::detail::row_grain(kChunk),
                                [&](std::size_t cb, std::size_t ce) {
                                  for (std::size_t c = cb; c < ce; ++c) {
                                    const std::size_t b = c * kChunk, e = std::min(n, b + kChunk);
                                    if (normalize) {
                                      normalize(reinterpret_cast<const float*>(pw) + b, e - b, args,
                                                reinterpret_cast<float*>(pq) + b);
                                    } else {
                                      for (std::size_t i = b; i < e; ++i)
                                        pq[i] = ((pw[i] - mu) * inv) / alpha;
                                    }
                                    search(pq + b, e - b, pq + b);
                                    if (scale) {
                                      scale(reinterpret_cast<float*>(pq) + b, e - b, args,
                                            reinterpret_cast<float*>(po) + b);
                                    } else if (p.rescale) {
                                      for (std::size_t i = b; i < e; ++i) {
                                        const T qi = alpha * pq[i];
                                        pq[i] = qi;
                                        po[i] = qi * s;
                                      }
                                    } else {
                                      for (std::size_t i = b; i < e; ++i) pq[i] = alpha * pq[i];
                                      if (pq != po) std::copy(pq + b, pq + e, po + b);
                                    }
                                  }
                                });
    if (ctx.recording()) {
      // q as a tensor of its own: its buffer returns to the array cache with
      // the node (saved_arrays are freed instead).
      ctx.save_for_backward({w, Tensor<T>(std::move(q))});
      ctx.saved_scalars = {p.mean,
                           p.std,
                           p.eps,
                           double(alpha),
                           double(levels[0]),
                           p.grad_scale,
                           p.rescale ? 1.0 : 0.0};
    }
    return out;
  }

  // One pass: g1 = g * std (the rescale's backward), the STE mask g2 =
  // inside ? g1 : 0 written over g, alpha's sums (RCF's backward), and
  // sum(g2), sum(g2 (w - mu)) (the normalization's); then one pass writing
  // dW = a g2 + b + c (w - mu) (WeightStandardizeFn's backward).
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    const std::vector<double>& sc = ctx.saved_scalars;
    const double mean = sc[0], sd = sc[1], eps = sc[2], grad_scale = sc[5];
    const T alpha = static_cast<T>(sc[3]), lo = static_cast<T>(sc[4]);
    const bool rescale = sc[6] != 0;
    const T* pw = ctx.saved(0).data();
    const T* pq = ctx.saved(1).data();
    T* pg = grad.data();
    const std::size_t n = grad.size();
    const T mu = static_cast<T>(mean), inv = static_cast<T>(1.0 / (sd + eps));
    const T s = static_cast<T>(sd);
    // Plain variables, not a structured binding: lambdas capture them (C++17).
    const detail::RcfRange<T> range = detail::rcf_range(alpha, lo);
    const T t_lo = range.t_lo, t_hi = range.t_hi;
    struct Part {
      std::pair<double, double> rcf, norm[2];
    };
    std::vector<Part> part((n + kRcfChunk - 1) / kRcfChunk);
    // Full chunks on the kernel table's variant when it has one (same bits).
    const detail::RcfChunkSumsFn chunk_sums_variant =
        float_variant<T>(&detail::KernelTable::rcf_chunk_sums);
    const detail::RcfWeightArgs args{float(mu),   float(inv),  float(alpha), float(s),
                                     float(t_lo), float(t_hi), float(lo),    rescale};
    const auto run = [&](auto rescale_tag) {
      constexpr bool kRescale = decltype(rescale_tag)::value;
      xgrad::detail::parallel_for(
          part.size(), xgrad::detail::row_grain(kRcfChunk), [&](std::size_t cb, std::size_t ce) {
            for (std::size_t c = cb; c < ce; ++c) {
              const std::size_t b = c * kRcfChunk, e = std::min(n, b + kRcfChunk);
              if (chunk_sums_variant && e - b == kRcfChunk) {
                double sums[6];
                chunk_sums_variant(reinterpret_cast<const float*>(pw) + b,
                                   reinterpret_cast<const float*>(pq) + b,
                                   reinterpret_cast<float*>(pg) + b, args, sums);
                part[c] = {{sums[0], sums[1]}, {{sums[2], sums[3]}, {sums[4], sums[5]}}};
                continue;
              }
              part[c].rcf = detail::block_sums<T>(b, e, [=](std::size_t i) {
                const T x = (pw[i] - mu) * inv;
                const T g = kRescale ? pg[i] * s : pg[i];
                const bool inside = (x >= t_lo) & (x <= t_hi);
                pg[i] = detail::keep_if(inside, g);
                return std::pair<T, T>(
                    detail::keep_if(inside, g * (pq[i] - x)),
                    detail::keep_if(x > t_hi, g) + detail::keep_if(x < t_lo, g * lo));
              });
              for (std::size_t h = 0; h < 2; ++h) {
                const std::size_t hb = b + h * kChunk, he = std::min(e, hb + kChunk);
                part[c].norm[h] =
                    hb < he
                        ? chunk_sums(hb, he, pg, pw,
                                     [mu](auto g, auto v) { return std::pair(g, g * (v - mu)); })
                        : std::pair<double, double>(0, 0);
              }
            }
          });
    };
    if (rescale) {
      run(std::true_type());
    } else {
      run(std::false_type());
    }
    // The composition's additions in its order: blocked_sums adds its chunks'
    // sums from 0, the normalization its kChunk chunks' sums from 0.
    double inside_sum = 0, clipped_sum = 0, gsum = 0, gd = 0;
    for (const Part& pt : part) {
      inside_sum += pt.rcf.first;
      clipped_sum += pt.rcf.second;
    }
    for (std::size_t c = 0, chunks = (n + kChunk - 1) / kChunk; c < chunks; ++c) {
      gsum += part[c / 2].norm[c % 2].first;
      gd += part[c / 2].norm[c % 2].second;
    }
    std::vector<xt::xarray<T>> grads(2);
    if (ctx.needs_input_grad(1)) {
      grads[1] = xt::xarray<T>::from_shape(ctx.input_shape(1));
      grads[1].fill(static_cast<T>((inside_sum / double(alpha) + clipped_sum) * grad_scale));
    }
    if (ctx.needs_input_grad(0)) {
      const double D = sd + eps;
      const double k = sd > 0 ? gd / (D * D * double(n - 1) * sd) : 0.0;
      const T a = static_cast<T>(1.0 / D), b = static_cast<T>(-gsum / double(n) / D),
              c = static_cast<T>(-k);
      const detail::RcfWeightGradFn weight_grad =
          float_variant<T>(&detail::KernelTable::rcf_weight_grad);
      // By value: the stores to pg cannot alias the coefficients.
      xgrad::detail::parallel_for(
          n, xgrad::detail::kElementGrain, [=](std::size_t lo_i, std::size_t hi_i) {
            if (weight_grad) {
              weight_grad(reinterpret_cast<float*>(pg) + lo_i,
                          reinterpret_cast<const float*>(pw) + lo_i, hi_i - lo_i, float(a),
                          float(b), float(c), float(mu));
              return;
            }
            for (std::size_t i = lo_i; i < hi_i; ++i) pg[i] = a * pg[i] + b + c * (pw[i] - mu);
          });
      grads[0] = std::move(grad);
    }
    return grads;
  }
};

void require_eps(double eps, const char* op) {
  XGRAD_CHECK(eps >= 0 && std::isfinite(eps), ValueError, op, ": eps must be finite and >= 0, got ",
              eps);
}

}  // namespace

template <class T>
Tensor<T> detail::standardized_rcf_fake_quantize(const Tensor<T>& weight, const Tensor<T>& alpha,
                                                 const std::vector<T>& levels, double grad_scale,
                                                 double eps, bool rescale) {
  const char* op = "weight_standardize";
  require_weight(weight, op);
  require_eps(eps, op);
  const Moments m = moments(weight.data().data(), weight.numel());
  return StandardizedRcfFn::apply(weight, alpha, levels,
                                  StandardizedRcfParams{m.mean, m.std, eps, grad_scale, rescale});
}

template <class T>
Tensor<T> weight_standardize(const Tensor<T>& weight, double eps) {
  return weight_standardize_with_std(weight, eps).normalized;
}

template <class T>
StandardizedWeight<T> weight_standardize_with_std(const Tensor<T>& weight, double eps) {
  const char* op = "weight_standardize";
  require_weight(weight, op);
  require_eps(eps, op);
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
  template Tensor<T> rescale_by_weight_std(const Tensor<T>&, const Tensor<T>&);         \
  template Tensor<T> detail::standardized_rcf_fake_quantize(                            \
      const Tensor<T>&, const Tensor<T>&, const std::vector<T>&, double, double, bool);

XGRAD_WEIGHT_NORM_INSTANTIATE(float)
XGRAD_WEIGHT_NORM_INSTANTIATE(double)

}  // namespace xgrad::quant
