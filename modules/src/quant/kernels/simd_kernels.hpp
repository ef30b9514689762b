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

}  // namespace
}  // namespace xgrad::quant::detail
