// The integer lookup-table kernels for AVX2 (vpmaddubsw + vpmaddwd), compiled
// with -mavx2. Tiles: 8 batch columns x 1 row group, one pass per 8-row half;
// batch 1: 4 row groups (4 x 2 halves at once measured the same: the three
// instructions of a 4-product sum bound it, not the lookups).
#include "lut_int_impl.hpp"

namespace xgrad::quant::kernels {

IntKernels int_avx2_kernels() { return int_kernels_of<IntAvx2, 8, 4>(); }

}  // namespace xgrad::quant::kernels
