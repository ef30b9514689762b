// Matrix products through BLAS gemm (transposes by flags, never by copying).
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad {

// [m, k] x [k, n] -> [m, n]; [b, m, k] x [b, k, n] -> [b, m, n].
template <class T> Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b);
// x [n, in] times weight [out, in] transposed, plus bias [out] (may be
// undefined): libtorch's linear, fused into one node. Like libtorch, x may
// have any leading axes ([..., in] -> [..., out]; [in] -> [out]).
template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>());

}  // namespace xgrad
