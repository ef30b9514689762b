// Which instruction set the quantization kernels use (APoT's nearest level in
// quant_dequant / fake_quantize_APoT, uniform fake_quantize_per_tensor_affine,
// the lookup-table products of converted layers). Chosen once, at load time, as the widest
// the CPU supports: AVX-512 (F, BW, VL), AVX2 (with BMI2), else the scalar
// reference (also the only path for double and off x86-64). The build needs
// no -march flag. Every path gives the same bits; tests and benchmarks switch
// between them with set_simd_isa. The kernels themselves are private
// (src/quant/kernels/: scalar references, one file per instruction set, one
// dispatch table); this is their one public switch.
#pragma once

#include <vector>

namespace xgrad::quant {

enum class SimdIsa { scalar, avx2, avx512 };

const char* to_string(SimdIsa isa);

// The instruction sets usable on this CPU with this build, scalar first.
std::vector<SimdIsa> supported_simd_isas();

// The one in use.
SimdIsa simd_isa();

// Switches the kernels to `isa` (ValueError when this CPU or build cannot run
// it). Not to be called while another thread runs quantization kernels.
void set_simd_isa(SimdIsa isa);

}  // namespace xgrad::quant
