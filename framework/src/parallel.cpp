// The thread count and parallel_run: the only OpenMP code in xgrad.
#include "xgrad/parallel.hpp"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

// OpenBLAS's own thread pool, kept at one thread: ops/blas.cpp splits large
// products over xgrad's threads instead (cblas.h declares it; blas.cpp is the
// only file that includes the BLAS headers).
extern "C" void openblas_set_num_threads(int);

namespace xgrad {

namespace {

int default_threads() {
  if (const char* env = std::getenv("XGRAD_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 4096) return static_cast<int>(n);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores >= 1 ? static_cast<int>(cores) : 1;
}

// Set once at load time, when OpenBLAS is also set to one thread.
std::atomic<int>& thread_count() {
  static std::atomic<int> count = [] {
    openblas_set_num_threads(1);
    return default_threads();
  }();
  return count;
}

const bool initialized_at_load = (thread_count(), true);

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: n must be >= 1, got " + std::to_string(n));
  thread_count().store(n, std::memory_order_relaxed);
  openblas_set_num_threads(1);  // another library in the process may have changed it
}

int get_num_threads() { return thread_count().load(std::memory_order_relaxed); }

namespace detail {

void parallel_run(std::size_t n, std::size_t grain, RangeBody run, const void* body) {
  const std::size_t most = n / (grain ? grain : 1);  // ranges of >= grain indices
  std::size_t threads = static_cast<std::size_t>(get_num_threads());
  if (threads > most) threads = most;
#ifdef _OPENMP
  if (threads > 1 && !omp_in_parallel()) {
    std::exception_ptr error;
#pragma omp parallel num_threads(static_cast <int>(threads))
    {
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t nt = static_cast<std::size_t>(omp_get_num_threads());
      // Boundaries on multiples of 16 indices (whole cache lines of floats)
      // when ranges are that long anyway; rows (grain < 16) split evenly.
      const std::size_t align = grain >= 16 ? 16 : 1;
      const std::size_t begin = t == 0 ? 0 : n * t / nt / align * align;
      const std::size_t end = t + 1 == nt ? n : n * (t + 1) / nt / align * align;
      if (begin < end) {
        try {
          run(body, begin, end);
        } catch (...) {
#pragma omp critical(xgrad_parallel_error)
          if (!error) error = std::current_exception();
        }
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  run(body, 0, n);
}

}  // namespace detail

}  // namespace xgrad
