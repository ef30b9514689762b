#include "affine.hpp"

#include <type_traits>

#include "dispatch.hpp"
#include "xgrad/detail/parallel.hpp"

namespace xgrad::quant::detail {

template <class T>
void fake_quantize_affine_kernel(const T* x, std::size_t n, const AffineGrid<T>& g, T* out,
                                 std::uint8_t* mask) {
  AffineFn vectorized = nullptr;
  if constexpr (std::is_same<T, float>::value) vectorized = kernel_table().affine;
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    std::uint8_t* m = mask ? mask + b : nullptr;
    if constexpr (std::is_same<T, float>::value) {
      if (vectorized) {
        vectorized(x + b, e - b, g, out + b, m);
        return;
      }
    }
    fake_quant_affine_kernel(x + b, e - b, g, out + b, m);
  });
}

template <class T>
void fake_quantize_per_channel_kernel(const T* x, std::size_t outer, std::size_t channels,
                                      std::size_t inner, const AffineGrid<T>* grids, T* out,
                                      std::uint8_t* mask) {
  xgrad::detail::parallel_for(outer * channels, xgrad::detail::row_grain(inner),
                              [&](std::size_t b, std::size_t e) {
                                for (std::size_t r = b; r < e; ++r) {
                                  const std::size_t at = r * inner;
                                  // On a worker thread this call runs serially (no nested split).
                                  fake_quantize_affine_kernel(x + at, inner, grids[r % channels],
                                                              out + at, mask ? mask + at : nullptr);
                                }
                              });
}

template void fake_quantize_affine_kernel<float>(const float*, std::size_t,
                                                 const AffineGrid<float>&, float*, std::uint8_t*);
template void fake_quantize_affine_kernel<double>(const double*, std::size_t,
                                                  const AffineGrid<double>&, double*,
                                                  std::uint8_t*);

template void fake_quantize_per_channel_kernel<float>(const float*, std::size_t, std::size_t,
                                                      std::size_t, const AffineGrid<float>*, float*,
                                                      std::uint8_t*);
template void fake_quantize_per_channel_kernel<double>(const double*, std::size_t, std::size_t,
                                                       std::size_t, const AffineGrid<double>*,
                                                       double*, std::uint8_t*);

}  // namespace xgrad::quant::detail
