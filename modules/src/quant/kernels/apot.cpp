#include "apot.hpp"

#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "apot_reference.hpp"
#include "dispatch.hpp"
#include "xgrad/detail/parallel.hpp"

namespace xgrad::quant::detail {

namespace {

// Levels followed by +inf, so the upper neighbour of the top level exists and
// never wins.
template <class T>
std::vector<T> padded_levels(const T* levels, std::size_t L) {
  std::vector<T> lv(levels, levels + L);
  lv.push_back(std::numeric_limits<T>::infinity());
  return lv;
}

// Calls f(std::integral_constant<int, M>) for the table's comparison count.
template <class F>
void dispatch_m(int m, F&& f) {
  switch (m) {
    case 1:
      f(std::integral_constant<int, 1>());
      break;
    case 2:
      f(std::integral_constant<int, 2>());
      break;
    case 3:
      f(std::integral_constant<int, 3>());
      break;
    default:
      f(std::integral_constant<int, 4>());
      break;
  }
}

}  // namespace

template <class T>
std::size_t nearest_ranks(const T* x, std::size_t n, const T* levels, std::size_t L,
                          std::int64_t* rank_out) {
  std::size_t first_nan = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) {
      first_nan = i;
      break;
    }
  }
  if (worth_a_table(n, L)) {
    const NearestTable<T> table(levels, L);
    if (table.usable()) {
      const T lo = table.lo(), hi = table.hi();
      const std::uint32_t* first = table.first_rank();
      auto run = [&](auto m_tag) {
        constexpr int M = decltype(m_tag)::value;
        xgrad::detail::parallel_for(
            n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
              for (std::size_t i = b; i < e; ++i)
                rank_out[i] = first[table.template unique_rank<M>(clip_nan_lo(x[i], lo, hi))];
            });
      };
      dispatch_m(table.m(), run);
      return first_nan;
    }
  }
  const std::vector<T> lvv = padded_levels(levels, L);
  const T* lv = lvv.data();
  const T lo = lv[0], hi = lv[L - 1];
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      rank_out[i] = static_cast<std::int64_t>(nearest_rank(clip_nan_lo(x[i], lo, hi), lv, L));
  });
  return first_nan;
}

template <class T>
struct NearestLevels<T>::Impl {
  std::unique_ptr<const NearestTable<T>> table;  // null: nearest_rank over `padded`
  std::vector<T> padded;
  ApotTable apot{};             // the table as the vector kernels see it
  ApotFn vectorized = nullptr;  // floats: the kernel table's variant, when it has one
};

template <class T>
NearestLevels<T>::NearestLevels(const T* levels, std::size_t L, std::size_t total)
    : impl_(std::make_unique<Impl>()) {
  if (worth_a_table(total, L)) {
    auto table = std::make_unique<const NearestTable<T>>(levels, L);
    if (table->usable()) {
      if constexpr (std::is_same<T, float>::value) {
        // The SIMD variant of the table search (same bits), when the CPU has one.
        if (const ApotFn vectorized = kernel_table().apot) {
          const ApotTable t{table->unique_values(),
                            table->unique_count(),
                            table->thresholds(),
                            table->lo(),
                            table->hi(),
                            table->inv_bucket_width(),
                            table->bucket_start(),
                            table->buckets(),
                            table->m()};
          if (vectorized(levels, 0, t, nullptr, nullptr, T(0), T(0))) {  // n = 0: a probe
            impl_->apot = t;
            impl_->vectorized = vectorized;
          }
        }
      }
      impl_->table = std::move(table);
      return;
    }
  }
  impl_->padded = padded_levels(levels, L);
}

template <class T>
NearestLevels<T>::~NearestLevels() = default;

template <class T>
void NearestLevels<T>::operator()(const T* x, std::size_t n, T* out, std::uint8_t* mask, T mask_lo,
                                  T mask_hi) const {
  if constexpr (std::is_same<T, float>::value) {
    if (impl_->vectorized) {
      impl_->vectorized(x, n, impl_->apot, out, mask, mask_lo, mask_hi);
      return;
    }
  }
  // One loop body for both searches: out = nearest level (NaN stays NaN)
  // and, when asked, the STE mask on the original x. The mask gets a pass of
  // its own: storing it from the search loop keeps the compiler from
  // vectorizing that loop (measured: the fused form was ~1.8x slower at 4M
  // elements).
  auto body = [&](auto&& rank_of) {
    for (std::size_t i = 0; i < n; ++i) {
      const T v = x[i];
      const T q = rank_of(v);
      out[i] = v != v ? v : q;
    }
    if (mask) {
      // Local pointers: a byte store may alias anything, including the
      // captured ones, which would then be reloaded at every element.
      const T* __restrict xs = x;
      std::uint8_t* __restrict ms = mask;
      for (std::size_t i = 0; i < n; ++i) {
        ms[i] = static_cast<std::uint8_t>((xs[i] >= mask_lo) & (xs[i] <= mask_hi));
      }
    }
  };
  if (const NearestTable<T>* table = impl_->table.get()) {
    const T lo = table->lo(), hi = table->hi();
    const T* values = table->unique_values();
    dispatch_m(table->m(), [&](auto m_tag) {
      constexpr int M = decltype(m_tag)::value;
      body([&](T v) { return values[table->template unique_rank<M>(clip_nan_lo(v, lo, hi))]; });
    });
    return;
  }
  const T* lv = impl_->padded.data();
  const std::size_t L = impl_->padded.size() - 1;
  const T lo = lv[0], hi = lv[L - 1];
  body([&](T v) { return lv[nearest_rank(clip_nan_lo(v, lo, hi), lv, L)]; });
}

template <class T>
void quant_dequant_kernel(const T* x, std::size_t n, const T* levels, std::size_t L, T* out,
                          std::uint8_t* mask, T mask_lo, T mask_hi) {
  const NearestLevels<T> search(levels, L, n);
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    search(x + b, e - b, out + b, mask ? mask + b : nullptr, mask_lo, mask_hi);
  });
}

template std::size_t nearest_ranks<float>(const float*, std::size_t, const float*, std::size_t,
                                          std::int64_t*);
template std::size_t nearest_ranks<double>(const double*, std::size_t, const double*, std::size_t,
                                           std::int64_t*);
template void quant_dequant_kernel<float>(const float*, std::size_t, const float*, std::size_t,
                                          float*, std::uint8_t*, float, float);
template void quant_dequant_kernel<double>(const double*, std::size_t, const double*, std::size_t,
                                           double*, std::uint8_t*, double, double);
template class NearestLevels<float>;
template class NearestLevels<double>;

}  // namespace xgrad::quant::detail
