// Internal: nearest-level search for APoT quantization, exact to PyTorch's rule
// (distance fl(|level - x|) computed in T, the lowest level among equal
// distances), in two forms:
//
// - nearest_rank: a branch-free binary search over the sorted levels, then the
//   upper neighbour by the same rounded distances, then (rarely) a walk down
//   over lower levels at the very same rounded distance. O(log L) per element,
//   no setup: used for small inputs.
// - NearestTable: for large inputs. Between two neighbouring distinct levels
//   a < b the decision "b is nearer" is monotone in x (fl(b - x) falls and
//   fl(x - a) rises), so it switches at one exact threshold t (the smallest
//   float choosing b), found once by bisection over the float ordering. A
//   uniform bucket grid over [lowest, highest level] then gives, per element,
//   the number of thresholds below the element's bucket, and at most m
//   branch-free comparisons finish the count. The bucket index is a monotone
//   function of x, so thresholds in lower buckets are <= x and thresholds in
//   higher ones > x; only the element's own bucket needs comparisons. Level
//   sets where a lower level can tie by rounding (duplicates are merged first;
//   near-duplicates are detected conservatively) or where buckets would hold
//   too many thresholds fall back to nearest_rank.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace xgrad::quant::detail {

#define XGRAD_UNLIKELY(x) __builtin_expect(static_cast<bool>(x), 0)

// Rank of the level nearest to c. c must lie in [lv[0], lv[L-1]] or be NaN
// (then some rank is returned; callers handle NaN). lv[L] must exist and be
// +inf. Data-dependent branches would mispredict half the time, hence the
// arithmetic selects.
template <class T>
inline std::size_t nearest_rank(T c, const T* lv, std::size_t L) {
  std::size_t base = 0, len = L;
  while (len > 1) {
    const std::size_t half = len >> 1;
    base += half & (std::size_t(0) - static_cast<std::size_t>(lv[base + half] <= c));
    len -= half;
  }
  const T dlo = c - lv[base];
  const T dhi = lv[base + 1] - c;
  const std::size_t up = static_cast<std::size_t>(dhi < dlo);
  const std::size_t below = base - (base != 0);  // base - 1, or 0
  if (XGRAD_UNLIKELY(!up & (base != 0) & (c - lv[below] == dlo))) {
    while (base > 0 && c - lv[base - 1] == dlo) --base;
  }
  return base + up;
}

// Clips to [lo, hi]; NaN maps to lo (a valid index; callers restore NaN).
template <class T>
inline T clip_nan_lo(T v, T lo, T hi) {
  T c = v > lo ? v : lo;
  return c < hi ? c : hi;
}

// Monotone map between floats (non-NaN) and integers: key(a) < key(b) iff a < b
// (+0 and -0 share key 0).
template <class T>
struct FloatKey {
  using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  using UBits = std::make_unsigned_t<Bits>;
  static std::int64_t key(T v) {
    Bits b;
    std::memcpy(&b, &v, sizeof b);
    if (b >= 0) return static_cast<std::int64_t>(b);
    // Negative floats: larger magnitude -> smaller key; -0 -> 0.
    return -static_cast<std::int64_t>(static_cast<UBits>(b) & ~(UBits(1) << (8 * sizeof(T) - 1)));
  }
  static T value(std::int64_t k) {
    UBits u;
    if (k >= 0)
      u = static_cast<UBits>(k);
    else
      u = static_cast<UBits>(-k) | (UBits(1) << (8 * sizeof(T) - 1));
    T v;
    std::memcpy(&v, &u, sizeof v);
    return v;
  }
};

template <class T>
class NearestTable {
 public:
  // levels ascending, size L >= 1, finite.
  NearestTable(const T* levels, std::size_t L) { build(levels, L); }
  bool usable() const { return usable_; }

  // Rank (in the original level array) of the nearest level; c = clipped x.
  template <int M>
  inline std::uint32_t unique_rank(T c) const {
    // Signed conversion: one instruction (unsigned needs a range branch).
    std::size_t bk = static_cast<std::size_t>(static_cast<std::int64_t>((c - lo_) * inv_w_));
    bk = bk < buckets_ ? bk : buckets_ - 1;
    std::uint32_t r = start_[bk];
    for (int j = 0; j < M; ++j) r += static_cast<std::uint32_t>(c >= thr_[r]);
    return r;
  }

  int m() const { return m_; }
  T lo() const { return lo_; }
  T hi() const { return hi_; }
  const T* unique_values() const { return values_.data(); }
  std::size_t unique_count() const { return values_.size(); }
  const std::uint32_t* first_rank() const { return first_.data(); }
  // For the SIMD kernels: the U - 1 thresholds ascending, followed by at
  // least kMaxM + 1 entries of +inf; the bucket grid.
  const T* thresholds() const { return thr_.data(); }
  const std::uint32_t* bucket_start() const { return start_.data(); }
  std::size_t buckets() const { return buckets_; }
  T inv_bucket_width() const { return inv_w_; }

 private:
  void build(const T* lv, std::size_t L) {
    // Merge duplicates: a value's first rank is the one PyTorch's scan finds.
    for (std::size_t i = 0; i < L; ++i) {
      if (i == 0 || lv[i] != lv[i - 1]) {
        values_.push_back(lv[i]);
        first_.push_back(static_cast<std::uint32_t>(i));
      }
    }
    const std::size_t U = values_.size();
    if (U < 2) return;
    lo_ = values_.front();
    hi_ = values_.back();
    const T inf = std::numeric_limits<T>::infinity();
    // A lower level could tie by rounding only if the gap below a level is
    // under two ulps of the largest distance that can reach it.
    for (std::size_t r = 1; r + 1 < U; ++r) {
      const T span = values_[r + 1] - values_[r - 1];
      const T ulp = std::nextafter(span, inf) - span;
      if (!(values_[r] - values_[r - 1] >= 2 * ulp)) return;
    }
    // Exact thresholds.
    std::vector<T> thr(U - 1);
    for (std::size_t r = 0; r + 1 < U; ++r) {
      const T a = values_[r], b = values_[r + 1];
      std::int64_t klo = FloatKey<T>::key(a),
                   khi = FloatKey<T>::key(b);  // up(klo) false, up(khi) true
      while (static_cast<std::uint64_t>(khi - klo) > 1) {
        const std::int64_t mid =
            klo + static_cast<std::int64_t>(static_cast<std::uint64_t>(khi - klo) / 2);
        const T x = FloatKey<T>::value(mid);
        if ((b - x) < (x - a))
          khi = mid;
        else
          klo = mid;
      }
      thr[r] = FloatKey<T>::value(khi);
    }
    // Bucket grid: the smallest one with the fewest comparisons per element
    // (one when reachable), at most max(2^16, 4 U) buckets (4 bytes each).
    const T range = hi_ - lo_;
    if (!std::isfinite(range) || !(range > 0)) return;
    const std::size_t max_buckets = std::max<std::size_t>(std::size_t(1) << 16, 4 * U);
    std::size_t best_b = 0;
    int best_m = kMaxM + 1;
    for (std::size_t B = 4 * U; B <= max_buckets && best_m > 1; B *= 2) {
      const int m = max_per_bucket(thr, B, range);
      if (m < best_m) {
        best_m = m;
        best_b = B;
      }
    }
    if (best_m > kMaxM) return;
    buckets_ = best_b;
    inv_w_ = static_cast<T>(best_b) / range;
    if (!std::isfinite(inv_w_)) return;
    start_.assign(best_b, 0);
    for (const T t : thr) ++start_[bucket(t)];
    std::uint32_t below = 0;
    for (std::size_t k = 0; k < best_b; ++k) {
      const std::uint32_t c = start_[k];
      start_[k] = below;
      below += c;
    }
    m_ = best_m;
    thr_ = thr;
    thr_.resize(thr.size() + static_cast<std::size_t>(kMaxM) + 1, inf);
    usable_ = true;
  }
  // Largest number of thresholds sharing a bucket of a B-bucket grid.
  int max_per_bucket(const std::vector<T>& thr, std::size_t B, T range) {
    buckets_ = B;
    inv_w_ = static_cast<T>(B) / range;
    if (!std::isfinite(inv_w_)) return kMaxM + 1;
    int m = 0, run = 0;
    std::size_t prev = static_cast<std::size_t>(-1);
    for (const T t : thr) {  // thresholds ascending -> bucket indices ascending
      const std::size_t k = bucket(t);
      run = k == prev ? run + 1 : 1;
      prev = k;
      m = std::max(m, run);
    }
    return m;
  }
  std::size_t bucket(T c) const {
    const std::size_t bk = static_cast<std::size_t>(static_cast<std::int64_t>((c - lo_) * inv_w_));
    return bk < buckets_ ? bk : buckets_ - 1;
  }

  static constexpr int kMaxM = 4;
  bool usable_ = false;
  std::vector<T> values_;
  std::vector<std::uint32_t> first_;
  T lo_ = 0, hi_ = 0, inv_w_ = 0;
  std::size_t buckets_ = 0;
  int m_ = 0;
  std::vector<std::uint32_t> start_;
  std::vector<T> thr_;
};

// Use the table when its setup (about 40 steps per level plus the grid) is
// small against the per-element work it saves.
inline bool worth_a_table(std::size_t n, std::size_t L) { return n >= 64 * L + 1024; }

}  // namespace xgrad::quant::detail
