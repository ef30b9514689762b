// The vector quantization kernels, written once against an instruction-set
// struct V of isa_ops.hpp and instantiated by each per-ISA file. Each step
// is the scalar reference's expression (apot_reference.hpp,
// affine_reference.hpp) lane by lane, so the results are bit-identical to it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "isa_ops.hpp"
#include "kernel_table.hpp"

namespace xgrad::quant::detail {
namespace {

// Runs body(x, out, mask) on whole vectors, then once on the tail copied into
// a full vector (padded with `pad`), so every element takes the same path.
template <class V, class Body>
inline void for_vectors(const float* x, std::size_t n, float* out, std::uint8_t* mask, float pad,
                        Body body) {
  std::size_t i = 0;
  for (; i + V::lanes <= n; i += V::lanes) body(x + i, out + i, mask ? mask + i : nullptr);
  if (i == n) return;
  float xs[V::lanes], os[V::lanes];
  std::uint8_t ms[V::lanes];
  const std::size_t rest = n - i;
  for (std::size_t k = 0; k < V::lanes; ++k) xs[k] = k < rest ? x[i + k] : pad;
  body(xs, os, mask ? ms : nullptr);
  for (std::size_t k = 0; k < rest; ++k) {
    out[i + k] = os[k];
    if (mask) mask[i + k] = ms[k];
  }
}

// APoT nearest level. The rank of c = clip(x) is the number of thresholds
// <= c (NearestTable's invariant). Up to V::table unique levels: a binary
// search over the thresholds held in registers; more: the bucket grid with
// gathers, exactly NearestTable::unique_rank.
template <class V>
bool apot_kernel(const float* x, std::size_t n, const ApotTable& t, float* out, std::uint8_t* mask,
                 float mask_lo, float mask_hi) {
  using F = typename V::F;
  using I = typename V::I;
  const F lo = V::set(t.lo), hi = V::set(t.hi), mlo = V::set(mask_lo), mhi = V::set(mask_hi);
  const auto finish = [&](F xv, F level, float* po, std::uint8_t* pm) {
    V::store(po, V::select(V::isnan(xv), xv, level));
    if (pm) V::store_mask(pm, V::both(V::ge(xv, mlo), V::le(xv, mhi)));
  };
  if (t.unique <= V::table) {
    float thr[V::table], values[V::table];
    for (std::size_t k = 0; k < V::table; ++k) {
      thr[k] = k + 1 < t.unique ? t.thr[k] : __builtin_inff();
      values[k] = k < t.unique ? t.values[k] : 0.0f;
    }
    const typename V::Table tt = V::table_of(thr), tv = V::table_of(values);
    int steps = 0;
    while ((std::size_t(1) << steps) < t.unique) ++steps;
    for_vectors<V>(x, n, out, mask, t.lo, [&](const float* px, float* po, std::uint8_t* pm) {
      const F xv = V::load(px);
      const F c = V::min(V::max(xv, lo), hi);  // clip_nan_lo
      I r = V::seti(0);
      for (int k = steps; k-- > 0;) {
        const int step = 1 << k;
        const F probe = V::lookup(tt, V::addi(r, V::seti(step - 1)));
        r = V::add_where(r, V::ge(c, probe), V::seti(step));
      }
      finish(xv, V::lookup(tv, r), po, pm);
    });
    return true;
  }
  if (!V::fast_gather) return false;
  const F inv_w = V::set(t.inv_w);
  const I last = V::seti(static_cast<int>(t.buckets) - 1), one = V::seti(1);
  for_vectors<V>(x, n, out, mask, t.lo, [&](const float* px, float* po, std::uint8_t* pm) {
    const F xv = V::load(px);
    const F c = V::min(V::max(xv, lo), hi);
    I r = V::gather(t.start, V::mini(V::trunc(V::mul(V::sub(c, lo), inv_w)), last));
    for (int j = 0; j < t.m; ++j) r = V::add_where(r, V::ge(c, V::gather(t.thr, r)), one);
    finish(xv, V::gather(t.values, r), po, pm);
  });
  return true;
}

// q = zero_point + nearbyint(x * inv_scale); out = NaN q ? q :
// (clamp(q) - zero_point) * scale; mask = quant_min <= q <= quant_max.
template <class V>
void affine_kernel(const float* x, std::size_t n, const AffineGrid<float>& p, float* out,
                   std::uint8_t* mask) {
  using F = typename V::F;
  const F zp = V::set(p.zero_point), inv = V::set(p.inv_scale), scale = V::set(p.scale);
  const F qlo = V::set(p.quant_min), qhi = V::set(p.quant_max);
  for_vectors<V>(x, n, out, mask, 0.0f, [&](const float* px, float* po, std::uint8_t* pm) {
    const F q = V::add(zp, V::nearbyint(V::mul(V::load(px), inv)));
    const F qc = V::min(V::max(q, qlo), qhi);
    V::store(po, V::select(V::isnan(q), q, V::mul(V::sub(qc, zp), scale)));
    if (pm) V::store_mask(pm, V::both(V::ge(q, qlo), V::le(q, qhi)));
  });
}

// The QAT RCF weight path's forward before the level search, per element
// weight_norm.cpp's ((w - mu) * inv) / alpha.
template <class V>
void rcf_normalize_kernel(const float* w, std::size_t n, const RcfWeightArgs& a, float* out) {
  using F = typename V::F;
  const F mu = V::set(a.mu), inv = V::set(a.inv), alpha = V::set(a.alpha);
  for_vectors<V>(w, n, out, nullptr, 0.0f, [&](const float* pw, float* po, std::uint8_t*) {
    V::store(po, V::div(V::mul(V::sub(V::load(pw), mu), inv), alpha));
  });
}

// After the level search, per element weight_norm.cpp's qi = alpha * q,
// q = qi, out = qi * std (rescale) or qi.
template <class V>
void rcf_scale_kernel(float* q, std::size_t n, const RcfWeightArgs& a, float* out) {
  using F = typename V::F;
  const F alpha = V::set(a.alpha), sd = V::set(a.std);
  std::size_t i = 0;
  for (; i + V::lanes <= n; i += V::lanes) {
    const F qi = V::mul(alpha, V::load(q + i));
    V::store(q + i, qi);
    V::store(out + i, a.rescale ? V::mul(qi, sd) : qi);
  }
  for (; i < n; ++i) {
    const float qi = a.alpha * q[i];
    q[i] = qi;
    out[i] = a.rescale ? qi * a.std : qi;
  }
}

// The dW pass, per element weight_norm.cpp's a * g + b + c * (w - mu).
template <class V>
void rcf_weight_grad_kernel(float* g, const float* w, std::size_t n, float a, float b, float c,
                            float mu) {
  using F = typename V::F;
  const F av = V::set(a), bv = V::set(b), cv = V::set(c), muv = V::set(mu);
  std::size_t i = 0;
  for (; i + V::lanes <= n; i += V::lanes) {
    V::store(g + i, V::add(V::add(V::mul(av, V::load(g + i)), bv),
                           V::mul(cv, V::sub(V::load(w + i), muv))));
  }
  for (; i < n; ++i) g[i] = a * g[i] + b + c * (w[i] - mu);
}

// The RCF weight path's backward sums over one full chunk of 4096 (see
// RcfChunkSumsFn), per element weight_norm.cpp's scalar term:
//   x = (w - mu) * inv, g = rescale ? g * std : g, inside = t_lo <= x <= t_hi,
//   g2 = keep_if(inside, g) (written back),
//   alpha terms keep_if(inside, g (q - x)), keep_if(x > t_hi, g) + keep_if(x < t_lo, g lo),
//   normalization terms g2, g2 (w - mu).
// Lanes as the scalar sums: block_sums' eight float lanes per block of 512
// (element i in lane i % 8), its blocks added in double from 0; chunk_sums'
// four 4-float accumulators per 2048 (element i in accumulator (i / 4) % 4,
// lane i % 4: here two 8-lane vectors, lanes 0..7 = a0, a1 and a2, a3), their
// lanes added in double in that order. So the same bits.
template <bool kRescale>
void rcf_chunk_sums_body(const float* w, const float* q, float* g, const RcfWeightArgs& a,
                         double* sums) {
  using V = Lanes8;
  using F = V::F;
  const F mu = V::set(a.mu), inv = V::set(a.inv), sd = V::set(a.std);
  const F t_lo = V::set(a.t_lo), t_hi = V::set(a.t_hi), lo = V::set(a.lo);
  constexpr std::size_t kHalf = 2048, kBlock = 512;
  const auto lanes_sum = [](F v, double& r) {
    alignas(32) float l[8];
    _mm256_store_ps(l, v);
    for (float x : l) r += double(x);
  };
  double s0 = 0, s1 = 0;
  // One group of eight: its alpha terms added to (ra, rb), its normalization
  // terms to (na, nb).
  const auto group = [&](std::size_t i, F& ra, F& rb, F& na, F& nb) {
    const F d = V::sub(V::load(w + i), mu);
    const F x = V::mul(d, inv);
    const F gi = kRescale ? V::mul(V::load(g + i), sd) : V::load(g + i);
    const F inside = V::both(V::ge(x, t_lo), V::le(x, t_hi));
    const F g2 = V::keep_if(inside, gi);
    V::store(g + i, g2);
    ra = V::add(ra, V::keep_if(inside, V::mul(gi, V::sub(V::load(q + i), x))));
    rb = V::add(rb,
                V::add(V::keep_if(V::gt(x, t_hi), gi), V::keep_if(V::lt(x, t_lo), V::mul(gi, lo))));
    na = V::add(na, g2);
    nb = V::add(nb, V::mul(g2, d));
  };
  for (std::size_t h = 0; h < 2; ++h) {
    F n0 = V::zero(), n1 = V::zero(), m0 = V::zero(), m1 = V::zero();
    for (std::size_t blk = h * kHalf; blk < (h + 1) * kHalf; blk += kBlock) {
      F ra = V::zero(), rb = V::zero();
      for (std::size_t i = blk; i < blk + kBlock; i += 16) {
        group(i, ra, rb, n0, m0);
        group(i + 8, ra, rb, n1, m1);
      }
      lanes_sum(ra, s0);
      lanes_sum(rb, s1);
    }
    double r0 = 0, r1 = 0;
    lanes_sum(n0, r0);
    lanes_sum(n1, r0);
    lanes_sum(m0, r1);
    lanes_sum(m1, r1);
    sums[2 + 2 * h] = r0;
    sums[3 + 2 * h] = r1;
  }
  sums[0] = s0;
  sums[1] = s1;
}

inline void rcf_chunk_sums_kernel(const float* w, const float* q, float* g, const RcfWeightArgs& a,
                                  double* sums) {
  if (a.rescale) {
    rcf_chunk_sums_body<true>(w, q, g, a, sums);
  } else {
    rcf_chunk_sums_body<false>(w, q, g, a, sums);
  }
}

}  // namespace
}  // namespace xgrad::quant::detail
