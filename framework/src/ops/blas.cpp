#include "blas.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <string>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::blas {

namespace {

// One block of the product: op(A) [m, k] times op(B) [k, n] into C, each with
// its own leading dimension, so a block of rows or columns of a larger matrix
// needs no copy. xt::blas::gemm wants whole 2-D containers; the pointer-level
// cxxblas::gemm it forwards to (cblas_sgemm / cblas_dgemm) takes raw slices.
template <class T>
void gemm_block(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a,
                std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  using cxxblas::Transpose;
  using Index = xt::blas_index_t;
  cxxblas::gemm<Index>(cxxblas::StorageOrder::RowMajor, ta ? Transpose::Trans : Transpose::NoTrans,
                       tb ? Transpose::Trans : Transpose::NoTrans, static_cast<Index>(m),
                       static_cast<Index>(n), static_cast<Index>(k), T(1), a,
                       static_cast<Index>(lda), b, static_cast<Index>(ldb), beta, c,
                       static_cast<Index>(ldc));
}

// How a product is cut into blocks is a function of its shape alone, never
// of the thread count: each block is one OpenBLAS call, the same call at one
// thread and at N (threads only take blocks), so every element of C comes out
// of the same call, and results do not depend on the thread count, on every
// OpenBLAS kernel set. (Cutting by the thread count and aligning the cuts with
// OpenBLAS's register tiles made a block compute like the whole product only
// on the SSE3 kernels: the AVX2 and AVX-512 sets switch to small-matrix and
// edge kernels that sum in other orders.)
//
// A block is at least kMinBlockBytes / sizeof(T) rows (or columns) of C
// (128 of floats, 256 of doubles) and kBlockWork multiply-adds: each call
// re-packs the operand it does not cut, so a cut costs one thread a little.
// Measured with OpenBLAS's AVX-512 kernels on the 784-512-10 layer's
// products (batch 128): 4 float blocks of 128 columns +2%, 2 double blocks of
// 256 +2-5%; blocks of 64 columns cost +5% (float) and +16% (double). At most
// kMaxBlocks blocks: enough for several per thread on a many-core machine, so
// a thread that runs slower (another tenant on its core) takes fewer.
constexpr std::size_t kMinBlockBytes = 512;
constexpr std::size_t kBlockWork = std::size_t(1) << 20;
constexpr std::size_t kMaxBlocks = 64;
// Cuts fall on multiples of 16 rows or columns (whole cache lines of floats).
constexpr std::size_t kBlockAlign = 16;

// The number of blocks for a product of `work` multiply-adds cut along
// `extent` rows or columns.
template <class T>
std::size_t blocks_of(std::size_t extent, std::size_t work) {
  constexpr std::size_t min_extent = kMinBlockBytes / sizeof(T);
  return std::max<std::size_t>(1, std::min({extent / min_extent, work / kBlockWork, kMaxBlocks}));
}

// Calls block(begin, end) for the `blocks` ranges covering [0, extent), on
// the threads there are: each thread takes the next block until none is left
// (on the calling thread alone, in order, at one thread or inside another
// parallel region).
template <class F>
void for_each_block(std::size_t extent, std::size_t blocks, const F& block) {
  if (blocks == 1) {
    block(std::size_t(0), extent);
    return;
  }
  // extent / blocks >= 128 > kBlockAlign: the bounds increase.
  const auto bound = [&](std::size_t b) {
    return b == blocks ? extent : extent * b / blocks / kBlockAlign * kBlockAlign;
  };
  std::atomic<std::size_t> next{0};
  detail::parallel_for(blocks, 1, [&](std::size_t, std::size_t) {
    for (std::size_t b; (b = next.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
      block(bound(b), bound(b + 1));
    }
  });
}

}  // namespace

// One thread pool: OpenBLAS runs single-threaded (parallel.cpp) and a large
// product is cut here into blocks of rows of C (or of columns, when C is
// wider than tall), one OpenBLAS call each, taken by xgrad's threads. Two
// pools, ours and OpenBLAS's, would each spin-wait for a core the other is
// using.
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
          T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects a leading dimension of 0; the product is 0
    if (beta == T(0)) std::fill(c, c + m * n, T(0));
    return;
  }
  const std::size_t lda = ta ? m : k, ldb = tb ? k : n;
  const std::size_t work = m * n * k;
  if (m >= n) {  // rows [r0, r1) of C: rows of op(A)
    for_each_block(m, blocks_of<T>(m, work), [&](std::size_t r0, std::size_t r1) {
      gemm_block(ta, tb, r1 - r0, n, k, a + (ta ? r0 : r0 * lda), lda, b, ldb, beta, c + r0 * n,
                 n);
    });
  } else {  // columns [c0, c1) of C: columns of op(B)
    for_each_block(n, blocks_of<T>(n, work), [&](std::size_t c0, std::size_t c1) {
      gemm_block(ta, tb, m, c1 - c0, k, a, lda, b + (tb ? c0 * ldb : c0), ldb, beta, c + c0, n);
    });
  }
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
  XGRAD_CHECK(extent <= static_cast<std::size_t>(INT_MAX), ValueError, op, ": ", what, " ", extent,
              " exceeds what BLAS can index");
}

void check_extents(const Shape& shape, const char* op) {
  for (auto d : shape) {
    XGRAD_CHECK(d <= static_cast<std::size_t>(INT_MAX), ValueError, op, ": extent ", d,
                " of shape ", shape, " exceeds what BLAS can index");
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

}  // namespace xgrad::blas
