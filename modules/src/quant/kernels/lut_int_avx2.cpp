// The integer lookup-table kernels for AVX2 (vpmaddubsw + vpmaddwd), compiled
// with -mavx2. Tiles: 4 batch columns x 1 row group (8 accumulators);
// batch 1: 2 row groups.
#include "lut_int_impl.hpp"

namespace xgrad {
namespace quant {
namespace kernels {

IntKernels int_avx2_kernels() {
  return {&int_tile_any<IntAvx2, 4, 2>, 4, 1, 2, IntAvx2::max_weight};
}

}  // namespace kernels
}  // namespace quant
}  // namespace xgrad
