// The lookup-table kernels for AVX-512 F, compiled with -mavx512f (+ BW, VL, FMA).
// Tiles: 12 batch columns x 2 row groups (24 accumulators of 32 registers);
// batch 1: 4 row groups, four independent accumulators.
#include "lut_kernels_impl.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

LutKernels lut_avx512_kernels() {
  return {&lut_tile_any<LutAvx512, 12, 2, 4>, &lut_pair_tile_any<LutAvx512, 4>, 12, 2, 4};
}

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
