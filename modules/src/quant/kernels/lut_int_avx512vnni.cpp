// The integer lookup-table kernels for AVX-512 VNNI (vpdpbusd: 64 u8 x s8
// products per instruction), compiled with -mavx512f -mavx512bw -mavx512vnni.
// Tiles: 16 batch columns x 1 row group; batch 1: 4 row groups.
#include "lut_int_impl.hpp"

namespace xgrad::quant::kernels {

IntKernels int_avx512vnni_kernels() { return int_kernels_of<IntVnni512, 16, 4>(); }

}  // namespace xgrad::quant::kernels
