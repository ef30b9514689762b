#include "xgrad/quant/apot/quantizer.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "../kernels/apot_reference.hpp"
#include "../kernels/dispatch.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

// Indices must be exactly representable in float (module buffers store them as
// T) and usable as a dense lookup table.
constexpr std::int64_t kMaxIndex = std::int64_t(1) << 24;

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

// code -> rank, -1 where a code is not a level index (indices validated).
std::vector<std::int32_t> code_table(const xt::xarray<std::int64_t>& indices) {
  std::int64_t max_index = 0;
  for (std::size_t i = 0; i < indices.size(); ++i)
    max_index = std::max(max_index, indices.data()[i]);
  std::vector<std::int32_t> table(static_cast<std::size_t>(max_index) + 1, -1);
  for (std::size_t r = 0; r < indices.size(); ++r)
    table[static_cast<std::size_t>(indices.data()[r])] = static_cast<std::int32_t>(r);
  return table;
}

template <class T>
APoTQParams<T> make_qparams(T alpha, T gamma, const Tensor<T>& levels,
                            const xt::xarray<std::int64_t>& indices) {
  APoTQParams<T> q;
  q.alpha = alpha;
  q.gamma = gamma;
  q.quantization_levels = levels;
  q.level_indices = indices;
  return q;
}

template <class T>
void validate_all(const APoTQParams<T>& q, const char* op) {
  if (!q.quantization_levels.defined())
    throw ValueError(std::string(op) + ": quantization_levels is undefined");
  detail::validate_qparams(q.alpha, q.gamma, q.quantization_levels.data(), q.level_indices, op);
}

}  // namespace

namespace detail {

template <class T>
void validate_qparams(T alpha, T gamma, const xt::xarray<T>& levels,
                      const xt::xarray<std::int64_t>& indices, const char* op) {
  const std::string o(op);
  if (!(alpha >= 0) || !std::isfinite(alpha))
    throw ValueError(o + ": alpha must be finite and >= 0, got " + std::to_string(alpha));
  if (!std::isfinite(gamma))
    throw ValueError(o + ": gamma must be finite, got " + std::to_string(gamma));
  if (levels.dimension() != 1 || levels.size() == 0)
    throw ValueError(o + ": quantization_levels must be a non-empty 1-D tensor, got shape " +
                     to_string(Shape(levels.shape().begin(), levels.shape().end())));
  const T* lv = levels.data();
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (!std::isfinite(lv[i]))
      throw ValueError(o + ": quantization_levels[" + std::to_string(i) + "] is not finite");
    if (i > 0 && lv[i] < lv[i - 1])
      throw ValueError(o + ": quantization_levels must be sorted ascending; element " +
                       std::to_string(i) + " (" + std::to_string(lv[i]) + ") < element " +
                       std::to_string(i - 1) + " (" + std::to_string(lv[i - 1]) + ")");
  }
  if (indices.dimension() != 1 || indices.size() != levels.size())
    throw ValueError(o + ": level_indices must be 1-D with one index per level (" +
                     std::to_string(levels.size()) + "), got shape " +
                     to_string(Shape(indices.shape().begin(), indices.shape().end())));
  std::vector<bool> seen;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::int64_t c = indices.data()[i];
    if (c < 0 || c >= kMaxIndex)
      throw ValueError(o + ": level_indices[" + std::to_string(i) + "] = " + std::to_string(c) +
                       " outside [0, 2^24)");
    if (seen.size() <= static_cast<std::size_t>(c))
      seen.resize(static_cast<std::size_t>(c) + 1, false);
    if (seen[static_cast<std::size_t>(c)])
      throw ValueError(o + ": level_indices holds " + std::to_string(c) + " twice");
    seen[static_cast<std::size_t>(c)] = true;
  }
}

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
void quant_dequant_kernel(const T* x, std::size_t n, const T* levels, std::size_t L, T* out,
                          std::uint8_t* mask, T mask_lo, T mask_hi) {
  // One loop body for both searches, over element ranges split over threads:
  // out = nearest level (NaN stays NaN) and, when asked, the STE mask on the
  // original x. The mask gets a pass of its own: storing it from the search
  // loop keeps the compiler from vectorizing that loop (measured: the fused
  // form was ~1.8x slower at 4M elements).
  auto body = [&](auto&& rank_of) {
    xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        const T v = x[i];
        const T q = rank_of(v);
        out[i] = v != v ? v : q;
      }
      if (mask) {
        // Local pointers: a byte store may alias anything, including the
        // captured ones, which would then be reloaded at every element.
        const T* __restrict xs = x;
        std::uint8_t* __restrict ms = mask;
        for (std::size_t i = b; i < e; ++i) {
          ms[i] = static_cast<std::uint8_t>((xs[i] >= mask_lo) & (xs[i] <= mask_hi));
        }
      }
    });
  };
  if (worth_a_table(n, L)) {
    const NearestTable<T> table(levels, L);
    if (table.usable()) {
      if constexpr (std::is_same<T, float>::value) {
        // The SIMD variant of the table search (same bits), when the CPU has one.
        if (const simd::ApotFn vectorized = simd::active_kernels().apot) {
          const simd::ApotTable t{table.unique_values(),
                                  table.unique_count(),
                                  table.thresholds(),
                                  table.lo(),
                                  table.hi(),
                                  table.inv_bucket_width(),
                                  table.bucket_start(),
                                  table.buckets(),
                                  table.m()};
          if (vectorized(x, 0, t, out, nullptr, mask_lo, mask_hi)) {  // n = 0: a probe
            xgrad::detail::parallel_for(
                n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
                  vectorized(x + b, e - b, t, out + b, mask ? mask + b : nullptr, mask_lo, mask_hi);
                });
            return;
          }
        }
      }
      const T lo = table.lo(), hi = table.hi();
      const T* values = table.unique_values();
      auto run = [&](auto m_tag) {
        constexpr int M = decltype(m_tag)::value;
        body([&](T v) { return values[table.template unique_rank<M>(clip_nan_lo(v, lo, hi))]; });
      };
      dispatch_m(table.m(), run);
      return;
    }
  }
  const std::vector<T> lvv = padded_levels(levels, L);
  const T* lv = lvv.data();
  const T lo = lv[0], hi = lv[L - 1];
  body([&](T v) { return lv[nearest_rank(clip_nan_lo(v, lo, hi), lv, L)]; });
}

}  // namespace detail

template <class T>
TensorAPoT<T>::TensorAPoT(xt::xarray<std::int64_t> codes, APoTQParams<T> qparams)
    : codes_(std::move(codes)), qparams_(std::move(qparams)) {
  const char* op = "TensorAPoT";
  validate_all(qparams_, op);
  const std::vector<std::int32_t> table = code_table(qparams_.level_indices);
  for (std::size_t i = 0; i < codes_.size(); ++i) {
    const std::int64_t c = codes_.data()[i];
    if (c < 0 || c >= static_cast<std::int64_t>(table.size()) ||
        table[static_cast<std::size_t>(c)] < 0)
      throw ValueError(std::string(op) + ": code " + std::to_string(c) + " at flat position " +
                       std::to_string(i) + " is not one of the level_indices");
  }
}

template <class T>
Tensor<T> TensorAPoT<T>::dequantize() const {
  // Codes were checked against the level set at construction.
  const std::vector<std::int32_t> table = code_table(qparams_.level_indices);
  const T* lv = qparams_.quantization_levels.data().data();
  xt::xarray<T> out = xgrad::detail::new_array<T>(codes_.shape());
  const std::int64_t* c = codes_.data();
  T* o = out.data();
  for (std::size_t i = 0; i < codes_.size(); ++i) o[i] = lv[table[static_cast<std::size_t>(c[i])]];
  return Tensor<T>(std::move(out));
}

template <class T>
TensorAPoT<T> quantize_APoT(const Tensor<T>& x, const APoTQParams<T>& qparams) {
  const char* op = "quantize_APoT";
  if (!x.defined()) throw ValueError(std::string(op) + ": x is undefined");
  validate_all(qparams, op);
  const xt::xarray<T>& levels = qparams.quantization_levels.data();
  xt::xarray<std::int64_t> codes = xt::xarray<std::int64_t>::from_shape(x.shape());
  const std::size_t n = x.numel();
  const std::size_t bad =
      detail::nearest_ranks(x.data().data(), n, levels.data(), levels.size(), codes.data());
  if (bad < n)
    throw ValueError(std::string(op) + ": x is NaN at flat position " + std::to_string(bad) +
                     " (NaN has no APoT code)");
  std::int64_t* c = codes.data();
  const std::int64_t* idx = qparams.level_indices.data();
  for (std::size_t i = 0; i < n; ++i) c[i] = idx[c[i]];
  return TensorAPoT<T>(std::move(codes), qparams);
}

template <class T>
TensorAPoT<T> quantize_APoT(const Tensor<T>& x, scalar_t<T> alpha, scalar_t<T> gamma,
                            const Tensor<T>& quantization_levels,
                            const xt::xarray<std::int64_t>& level_indices) {
  return quantize_APoT(x, make_qparams<T>(alpha, gamma, quantization_levels, level_indices));
}

template <class T>
Tensor<T> dequantize_APoT(const TensorAPoT<T>& t) {
  return t.dequantize();
}

template <class T>
Tensor<T> quant_dequant(const Tensor<T>& x, const APoTQParams<T>& qparams) {
  if (!x.defined()) throw ValueError("quant_dequant: x is undefined");
  validate_all(qparams, "quant_dequant");
  const xt::xarray<T>& levels = qparams.quantization_levels.data();
  xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
  detail::quant_dequant_kernel(x.data().data(), x.numel(), levels.data(), levels.size(),
                               out.data());
  return Tensor<T>(std::move(out));
}

template <class T>
Tensor<T> quant_dequant(const Tensor<T>& x, scalar_t<T> alpha, scalar_t<T> gamma,
                        const Tensor<T>& quantization_levels,
                        const xt::xarray<std::int64_t>& level_indices) {
  return quant_dequant(x, make_qparams<T>(alpha, gamma, quantization_levels, level_indices));
}

#define XGRAD_APOT_TENSOR_INSTANTIATE(T)                                                          \
  template class TensorAPoT<T>;                                                                   \
  template TensorAPoT<T> quantize_APoT<T>(const Tensor<T>&, scalar_t<T>, scalar_t<T>,             \
                                          const Tensor<T>&, const xt::xarray<std::int64_t>&);     \
  template TensorAPoT<T> quantize_APoT<T>(const Tensor<T>&, const APoTQParams<T>&);               \
  template Tensor<T> dequantize_APoT<T>(const TensorAPoT<T>&);                                    \
  template Tensor<T> quant_dequant<T>(const Tensor<T>&, scalar_t<T>, scalar_t<T>,                 \
                                      const Tensor<T>&, const xt::xarray<std::int64_t>&);         \
  template Tensor<T> quant_dequant<T>(const Tensor<T>&, const APoTQParams<T>&);                   \
  template std::size_t detail::nearest_ranks<T>(const T*, std::size_t, const T*, std::size_t,     \
                                                std::int64_t*);                                   \
  template void detail::quant_dequant_kernel<T>(const T*, std::size_t, const T*, std::size_t, T*, \
                                                std::uint8_t*, T, T);                             \
  template void detail::validate_qparams<T>(T, T, const xt::xarray<T>&,                           \
                                            const xt::xarray<std::int64_t>&, const char*);

XGRAD_APOT_TENSOR_INSTANTIATE(float)
XGRAD_APOT_TENSOR_INSTANTIATE(double)

}  // namespace xgrad::quant
