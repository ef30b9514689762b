#include "blas.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <string>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/parallel.hpp"

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

// Blocks of a split product per thread. Blocks are handed out in turn, so a
// thread that runs slower (another tenant on its core, a colder cache) takes
// fewer; one block per thread would make the faster one wait at the end.
constexpr std::size_t kBlocksPerThread = 4;

// Block boundaries fall on multiples of this many rows or columns: OpenBLAS
// then tiles every block as it tiles the whole product (its register tiles
// are 16 wide or narrower), so each element of C is computed the same way.
// Elsewhere they differ in the last bits (tests/test_parallel.cpp).
constexpr std::size_t kBlockAlign = 16;

// Calls block(begin, end) on ranges covering [0, extent), each at least
// `grain` and kBlockAlign long, over the threads; the whole extent at once
// when there is one thread or one block.
template <class F>
void split_product(std::size_t extent, std::size_t grain, const F& block) {
  const auto threads = static_cast<std::size_t>(get_num_threads());
  const std::size_t blocks =
      std::min({extent / std::max(grain, kBlockAlign), threads * kBlocksPerThread});
  if (threads == 1 || blocks < 2) {
    block(std::size_t(0), extent);
    return;
  }
  const auto bound = [&](std::size_t b) {
    return b == blocks ? extent : extent * b / blocks / kBlockAlign * kBlockAlign;
  };
  std::atomic<std::size_t> next{0};
  detail::parallel_for(blocks, 1, [&](std::size_t first, std::size_t last) {
    if (last - first == blocks) {  // not split (inside another parallel region): one call
      block(std::size_t(0), extent);
      return;
    }
    for (std::size_t b; (b = next.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
      block(bound(b), bound(b + 1));
    }
  });
}

}  // namespace

// One thread pool: OpenBLAS runs single-threaded (parallel.cpp) and a large
// product is split here into blocks of rows of C (or of columns, when C is
// wider than tall), one OpenBLAS call each. Two pools, ours and OpenBLAS's,
// would each spin-wait for a core the other is using. Every element of C is
// still one call's dot product over all of k, accumulated the same way
// whatever the split, so results do not depend on the thread count.
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
          T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects a leading dimension of 0; the product is 0
    if (beta == T(0)) std::fill(c, c + m * n, T(0));
    return;
  }
  const std::size_t lda = ta ? m : k, ldb = tb ? k : n;
  if (m >= n) {  // rows [r0, r1) of C: rows of op(A)
    split_product(m, std::max<std::size_t>(1, kGemmGrain / (n * k)),
                  [&](std::size_t r0, std::size_t r1) {
                    gemm_block(ta, tb, r1 - r0, n, k, a + (ta ? r0 : r0 * lda), lda, b, ldb, beta,
                               c + r0 * n, n);
                  });
  } else {  // columns [c0, c1) of C: columns of op(B)
    split_product(
        n, std::max<std::size_t>(1, kGemmGrain / (m * k)), [&](std::size_t c0, std::size_t c1) {
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
