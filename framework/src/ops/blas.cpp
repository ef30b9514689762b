#include "blas.hpp"

#include <algorithm>
#include <climits>
#include <string>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "xgrad/errors.hpp"

namespace xgrad {
namespace blas {

// xt::blas::gemm wants whole 2-D containers; the pointer-level cxxblas::gemm
// it forwards to (cblas_sgemm / cblas_dgemm) takes raw slices.
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
          T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects a leading dimension of 0; the product is 0
    if (beta == T(0)) std::fill(c, c + m * n, T(0));
    return;
  }
  using cxxblas::Transpose;
  using Index = xt::blas_index_t;
  cxxblas::gemm<Index>(cxxblas::StorageOrder::RowMajor, ta ? Transpose::Trans : Transpose::NoTrans,
                       tb ? Transpose::Trans : Transpose::NoTrans, static_cast<Index>(m),
                       static_cast<Index>(n), static_cast<Index>(k), T(1), a,
                       static_cast<Index>(ta ? m : k), b, static_cast<Index>(tb ? k : n), beta, c,
                       static_cast<Index>(n));
}

namespace {

// out = op(a) ones for a [rows, cols]; op transposes when `columns`.
template <class T>
void sums(const T* a, std::size_t rows, std::size_t cols, bool columns, T* out) {
  const std::size_t n_out = columns ? cols : rows;
  if (rows == 0 || cols == 0) {  // BLAS returns early without writing out
    std::fill(out, out + n_out, T(0));
    return;
  }
  using Index = xt::blas_index_t;
  const std::vector<T> ones(columns ? rows : cols, T(1));
  cxxblas::gemv<Index>(cxxblas::StorageOrder::RowMajor,
                       columns ? cxxblas::Transpose::Trans : cxxblas::Transpose::NoTrans,
                       static_cast<Index>(rows), static_cast<Index>(cols), T(1), a,
                       static_cast<Index>(cols), ones.data(), Index(1), T(0), out, Index(1));
}

}  // namespace

template <class T>
void column_sums(const T* a, std::size_t rows, std::size_t cols, T* out) {
  sums(a, rows, cols, true, out);
}

template <class T>
void row_sums(const T* a, std::size_t rows, std::size_t cols, T* out) {
  sums(a, rows, cols, false, out);
}

void check_extent(std::size_t extent, const char* op, const char* what) {
  if (extent > static_cast<std::size_t>(INT_MAX)) {
    throw ValueError(std::string(op) + ": " + what + " " + std::to_string(extent) +
                     " exceeds what BLAS can index");
  }
}

void check_extents(const Shape& shape, const char* op) {
  for (auto d : shape) {
    if (d > static_cast<std::size_t>(INT_MAX)) {
      throw ValueError(std::string(op) + ": extent " + std::to_string(d) + " of shape " +
                       to_string(shape) + " exceeds what BLAS can index");
    }
  }
}

#define XGRAD_INSTANTIATE_BLAS(T)                                                                 \
  template void gemm<T>(bool, bool, std::size_t, std::size_t, std::size_t, const T*, const T*, T, \
                        T*);                                                                      \
  template void column_sums<T>(const T*, std::size_t, std::size_t, T*);                           \
  template void row_sums<T>(const T*, std::size_t, std::size_t, T*);
XGRAD_INSTANTIATE_BLAS(float)
XGRAD_INSTANTIATE_BLAS(double)
#undef XGRAD_INSTANTIATE_BLAS

}  // namespace blas
}  // namespace xgrad
