// Printing tensors like PyTorch does, plus what PyTorch leaves implicit:
//
//   std::cout << w;   // tensor([[ 1.0000, -2.5000],
//                     //         [ 3.0000,  4.0000]], shape=[2, 2], dtype=float32,
//                     requires_grad=true)
//   std::cout << y;   // tensor([0.5000, 2.0000], shape=[2], dtype=float32, grad_fn=<MulBackward>)
//
// Values: all in one format, right-aligned to a common width, chosen as in
// PyTorch from the finite values: integers as "3." (when all are integral and
// below 1e8), otherwise 4 decimals ("%.4f"), or scientific ("%.4e") when the
// largest magnitude is >= 1e8, the smallest nonzero < 1e-4 or their ratio >
// 1000. nan / inf / -inf print as such. Tensors with more than 1000 elements
// are summarized: 3 items at each end of every axis, "..." between. Rows
// longer than 80 columns wrap.
// Then: shape=[...], dtype=float32|float64, and requires_grad=true for a leaf
// that requires grad or grad_fn=<Name> for an op's result.
// An undefined tensor prints as "tensor(undefined)".
//
// operator<< itself is declared in tensor.hpp, so `std::cout << t` needs no
// other header (as in libtorch); this header adds to_string.
#pragma once

#include <string>

#include "xgrad/tensor.hpp"

namespace xgrad {

// The same text as operator<< writes, as a string.
template <class T>
std::string to_string(const Tensor<T>& t);

}  // namespace xgrad
