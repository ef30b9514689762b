#include "uniform_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "simd/dispatch.hpp"
#include "xgrad/detail/parallel.hpp"

namespace xgrad {
namespace quant {
namespace detail {

namespace {

// The scalar reference.
template <class T>
void affine_reference(const T* x, std::size_t n, T scale, T inv_scale, T zp, T lo, T hi, T* out,
                      std::uint8_t* mask) {
  for (std::size_t i = 0; i < n; ++i) {
    const T q = zp + std::nearbyint(x[i] * inv_scale);
    const T qc = std::min(std::max(q, lo), hi);
    out[i] = std::isnan(q) ? q : (qc - zp) * scale;
    if (mask) mask[i] = static_cast<std::uint8_t>(q >= lo && q <= hi);
  }
}

}  // namespace

template <class T>
void fake_quantize_affine_kernel(const T* x, std::size_t n, T scale, T inv_scale, T zero_point,
                                 T quant_min, T quant_max, T* out, std::uint8_t* mask) {
  simd::UniformFn vectorized = nullptr;
  if constexpr (std::is_same<T, float>::value) vectorized = simd::active_kernels().uniform;
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    std::uint8_t* m = mask ? mask + b : nullptr;
    if constexpr (std::is_same<T, float>::value) {
      if (vectorized) {
        vectorized(x + b, e - b, {scale, inv_scale, zero_point, quant_min, quant_max}, out + b, m);
        return;
      }
    }
    affine_reference(x + b, e - b, scale, inv_scale, zero_point, quant_min, quant_max, out + b, m);
  });
}

template void fake_quantize_affine_kernel<float>(const float*, std::size_t, float, float, float,
                                                 float, float, float*, std::uint8_t*);
template void fake_quantize_affine_kernel<double>(const double*, std::size_t, double, double,
                                                  double, double, double, double*, std::uint8_t*);

}  // namespace detail
}  // namespace quant
}  // namespace xgrad
