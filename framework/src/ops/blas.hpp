// BLAS calls on contiguous row-major data (private to src/ops). blas.cpp is
// the only file that includes xtensor-blas; every op that multiplies matrices
// (linalg, conv) goes through these. OpenBLAS runs single-threaded: gemm
// cuts large products into blocks, by their shape alone, and xgrad's threads
// take the blocks, so results do not depend on the thread count.
#pragma once

#include <cstddef>

#include "xgrad/shape.hpp"

namespace xgrad::blas {

// Multiply-adds worth one thread's wake-up (256K: tens of us on one core,
// against a few us to wake a thread): the grain of work split over threads
// around many small products (conv2d's chunks of samples).
constexpr std::size_t kGemmGrain = std::size_t(1) << 18;

// C[m, n] = op(A) op(B) + beta C, where op(A) is [m, k] (A stored [k, m] when
// ta) and op(B) is [k, n] (B stored [n, k] when tb). Pointers may address
// batch slices or flattened leading axes: no views are built. k == 0 gives 0
// (BLAS itself rejects a leading dimension of 0).
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
          T beta, T* c);

// out[j] = sum over i of a[i, j] for a [rows, cols] (a gemv with ones, because
// GCC at -O2 leaves the plain reduction loop unvectorized).
template <class T>
void column_sums(const T* a, std::size_t rows, std::size_t cols, T* out);

// out[i] = sum over j of a[i, j] for a [rows, cols].
template <class T>
void row_sums(const T* a, std::size_t rows, std::size_t cols, T* out);

// BLAS takes int extents: ValueError naming `op` when an extent of `shape`
// exceeds INT_MAX.
void check_extents(const Shape& shape, const char* op);
// The same for one product extent (a row count, a flattened size).
void check_extent(std::size_t extent, const char* op, const char* what);

}  // namespace xgrad::blas
