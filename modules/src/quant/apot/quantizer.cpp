#include "xgrad/quant/apot/quantizer.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../kernels/apot.hpp"
#include "validate_qparams.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

// Indices must be exactly representable in float (module buffers store them as
// T) and usable as a dense lookup table.
constexpr std::int64_t kMaxIndex = std::int64_t(1) << 24;

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
  XGRAD_CHECK(q.quantization_levels.defined(), ValueError, op,
              ": quantization_levels is undefined");
  detail::validate_qparams(q.alpha, q.gamma, q.quantization_levels.data(), q.level_indices, op);
}

}  // namespace

template <class T>
void detail::validate_qparams(T alpha, T gamma, const xt::xarray<T>& levels,
                              const xt::xarray<std::int64_t>& indices, const char* op) {
  const std::string o(op);
  XGRAD_CHECK(alpha >= 0 && std::isfinite(alpha), ValueError, o,
              ": alpha must be finite and >= 0, got ", alpha);
  XGRAD_CHECK(std::isfinite(gamma), ValueError, o, ": gamma must be finite, got ", gamma);
  XGRAD_CHECK(levels.dimension() == 1 && levels.size() != 0, ValueError, o,
              ": quantization_levels must be a non-empty 1-D tensor, got shape ", levels.shape());
  const T* lv = levels.data();
  for (std::size_t i = 0; i < levels.size(); ++i) {
    XGRAD_CHECK(std::isfinite(lv[i]), ValueError, o, ": quantization_levels[", i,
                "] is not finite");
    XGRAD_CHECK(i == 0 || lv[i] >= lv[i - 1], ValueError, o,
                ": quantization_levels must be sorted ascending; element ", i, " (", lv[i],
                ") < element ", i - 1, " (", lv[i - 1], ")");
  }
  XGRAD_CHECK(indices.dimension() == 1 && indices.size() == levels.size(), ValueError, o,
              ": level_indices must be 1-D with one index per level (", levels.size(),
              "), got shape ", indices.shape());
  std::vector<bool> seen;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::int64_t c = indices.data()[i];
    XGRAD_CHECK(c >= 0 && c < kMaxIndex, ValueError, o, ": level_indices[", i, "] = ", c,
                " outside [0, 2^24)");
    if (seen.size() <= static_cast<std::size_t>(c))
      seen.resize(static_cast<std::size_t>(c) + 1, false);
    XGRAD_CHECK(!seen[static_cast<std::size_t>(c)], ValueError, o, ": level_indices holds ", c,
                " twice");
    seen[static_cast<std::size_t>(c)] = true;
  }
}

template <class T>
TensorAPoT<T>::TensorAPoT(xt::xarray<std::int64_t> codes, APoTQParams<T> qparams)
    : codes_(std::move(codes)), qparams_(std::move(qparams)) {
  const char* op = "TensorAPoT";
  validate_all(qparams_, op);
  const std::vector<std::int32_t> table = code_table(qparams_.level_indices);
  for (std::size_t i = 0; i < codes_.size(); ++i) {
    const std::int64_t c = codes_.data()[i];
    XGRAD_CHECK(c >= 0 && c < static_cast<std::int64_t>(table.size()) &&
                    table[static_cast<std::size_t>(c)] >= 0,
                ValueError, op, ": code ", c, " at flat position ", i,
                " is not one of the level_indices");
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
  require_defined(x, op, "x");
  validate_all(qparams, op);
  const xt::xarray<T>& levels = qparams.quantization_levels.data();
  xt::xarray<std::int64_t> codes = xt::xarray<std::int64_t>::from_shape(x.shape());
  const std::size_t n = x.numel();
  const std::size_t bad =
      detail::nearest_ranks(x.data().data(), n, levels.data(), levels.size(), codes.data());
  XGRAD_CHECK(bad >= n, ValueError, op, ": x is NaN at flat position ", bad,
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
  require_defined(x, "quant_dequant", "x");
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

#define XGRAD_APOT_TENSOR_INSTANTIATE(T)                                                      \
  template class TensorAPoT<T>;                                                               \
  template TensorAPoT<T> quantize_APoT<T>(const Tensor<T>&, scalar_t<T>, scalar_t<T>,         \
                                          const Tensor<T>&, const xt::xarray<std::int64_t>&); \
  template TensorAPoT<T> quantize_APoT<T>(const Tensor<T>&, const APoTQParams<T>&);           \
  template Tensor<T> dequantize_APoT<T>(const TensorAPoT<T>&);                                \
  template Tensor<T> quant_dequant<T>(const Tensor<T>&, scalar_t<T>, scalar_t<T>,             \
                                      const Tensor<T>&, const xt::xarray<std::int64_t>&);     \
  template Tensor<T> quant_dequant<T>(const Tensor<T>&, const APoTQParams<T>&);               \
  template void detail::validate_qparams<T>(T, T, const xt::xarray<T>&,                       \
                                            const xt::xarray<std::int64_t>&, const char*);

XGRAD_APOT_TENSOR_INSTANTIATE(float)
XGRAD_APOT_TENSOR_INSTANTIATE(double)

}  // namespace xgrad::quant
