// The lookup-table kernels for AVX2 + FMA, compiled with -mavx2 -mfma.
// Tiles: 8 batch columns x 1 row group, one pass per 8-row half (8
// accumulators, the two table registers, codes and a broadcast in the rest
// of the 16 registers; 1.25x the 4 x 2-half tile at batch 64); batch 1: 4 row
// groups. 2-bit batch 1: the decode tile (one permute per column: the table
// fits one register), 1.04-1.17x the pair tile (two permutes and a
// blend per 16-entry lookup).
#include "lut_kernels_impl.hpp"

namespace xgrad::quant::kernels {

LutKernels lut_avx2_kernels() { return lut_kernels_of<LutAvx2, 8, 1, 4>(false); }

}  // namespace xgrad::quant::kernels
