// The lookup-table kernels for AVX-512 F, compiled with -mavx512f (+ BW, VL, FMA).
// Tiles: 16 batch columns x 1 row group (16 accumulators, one table permute
// per 16 FMAs; measured at batch 64 against 12 x 2, 8 x 2 and 20 x 1: 12 x 2
// spills and is 10% slower, 20 x 1 no faster); batch 1: 4 row groups, four
// independent accumulators. 2-bit batch 1: the pair tile (one permute per two
// columns; 1.4x the decode tile at 4096 x 4096, under load).
#include "lut_kernels_impl.hpp"

namespace xgrad::quant::kernels {

LutKernels lut_avx512_kernels() { return lut_kernels_of<LutAvx512, 16, 1, 4>(true); }

}  // namespace xgrad::quant::kernels
