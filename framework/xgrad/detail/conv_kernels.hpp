// Which kernels float conv2d runs (internal: tests and benchmarks compare the
// two). Double always runs im2col + gemm.
#pragma once

#include <string>

namespace xgrad::detail {

enum class ConvKernels {
  im2col,  // im2col / col2im + OpenBLAS gemm
  onednn,  // oneDNN's convolution primitives (when built with the onednn option)
};

// Whether xgrad was built with oneDNN.
bool onednn_built();

// The current choice for float conv2d: by default the environment variable
// XGRAD_CONV_KERNELS (im2col, or onednn when built with it) when set, else
// onednn when built with it.
ConvKernels conv_kernels();

// Process-wide; not to be changed while a conv2d runs. ValueError for onednn
// when xgrad was built without it.
void set_conv_kernels(ConvKernels kernels);

// What float conv2d runs now, for benchmark output: "im2col + OpenBLAS gemm",
// or oneDNN's version and the instruction set its kernels use.
std::string describe_conv_kernels();

}  // namespace xgrad::detail
