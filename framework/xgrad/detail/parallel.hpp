// parallel_for: the one place where xgrad's kernels go parallel (internal;
// both libraries use it, users need not).
//
//   detail::parallel_for(n, grain, [&](std::size_t begin, std::size_t end) {
//     for (std::size_t i = begin; i < end; ++i) out[i] = f(in[i]);
//   });
//
// The body gets a range, so its inner loop stays a plain loop the compiler
// vectorizes. Ranges are contiguous, disjoint and cover [0, n), one per
// thread at most; each holds about n / threads >= `grain` indices (boundaries
// rounded down to multiples of 16 when grain >= 16), so n < 2 * grain (or one thread) runs the
// body once, on the calling thread, with no synchronization at all. Split only
// independent elements or rows, never a reduction axis: then results do not
// depend on the thread count. The body must not throw (an exception from a
// worker is rethrown on the caller, but other ranges may have run).
#pragma once

#include <cstddef>

namespace xgrad::detail {

// Elements of a cheap elementwise op worth one thread's wake-up (tens of us).
constexpr std::size_t kElementGrain = std::size_t(1) << 15;

// Grain in rows for rows of `row_cost` elements each (at least 1).
constexpr std::size_t row_grain(std::size_t row_cost) {
  return row_cost >= kElementGrain ? 1 : kElementGrain / (row_cost ? row_cost : 1);
}

using RangeBody = void (*)(const void* body, std::size_t begin, std::size_t end);

// Out of line: splits [0, n) over the threads (OpenMP) and calls run(body, ...).
void parallel_run(std::size_t n, std::size_t grain, RangeBody run, const void* body);

template <class F>
inline void parallel_for(std::size_t n, std::size_t grain, const F& f) {
  if (n < 2 * grain || n < 2) {
    if (n > 0) f(std::size_t(0), n);
    return;
  }
  parallel_run(
      n, grain,
      [](const void* body, std::size_t begin, std::size_t end) {
        (*static_cast<const F*>(body))(begin, end);
      },
      &f);
}

}  // namespace xgrad::detail
