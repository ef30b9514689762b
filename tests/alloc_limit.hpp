// A replacement of the global operator new for a test executable (link
// alloc_limit.cpp into it; any of its files may include this header): records
// the largest single request and refuses (std::bad_alloc) requests above a
// limit, so that tests can assert how much memory a call asked for, and
// simulate allocation failure deterministically, without needing a machine
// that really runs out.
//
// Under AddressSanitizer and ThreadSanitizer the replacement is left out (the
// sanitizer owns operator new: with GCC's shared ASan runtime some
// allocations would still go through ASan's and then be freed by ours; clang's
// static runtimes define it, a second definition does not link);
// kAllocationLimitWorks is false there and the tests that need a limit say so
// and skip.
#pragma once

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XGRAD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define XGRAD_TEST_ASAN 1
#endif
#endif

namespace xgrad_test {

#ifdef XGRAD_TEST_ASAN
inline constexpr bool kAllocationLimitWorks = false;
#else
inline constexpr bool kAllocationLimitWorks = true;
#endif

// The decorator of a test case that needs the limit, which Boost.Test then
// skips, saying why, where the limit does not work:
//   BOOST_AUTO_TEST_CASE(name, *xgrad_test::needs_allocation_limit()) { ... }
inline boost::unit_test::precondition needs_allocation_limit() {
  return boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result works(kAllocationLimitWorks);
    works.message() << "no allocation limit under AddressSanitizer or ThreadSanitizer";
    return works;
  });
}

inline std::atomic<std::size_t>& largest_request() {
  static std::atomic<std::size_t> v{0};
  return v;
}
inline std::atomic<std::size_t>& request_limit() {
  static std::atomic<std::size_t> v{static_cast<std::size_t>(-1)};
  return v;
}

// Within its scope: requests above `limit` bytes fail, and largest() is the
// largest request made since construction.
struct AllocationLimit {
  explicit AllocationLimit(std::size_t limit = static_cast<std::size_t>(-1)) {
    largest_request() = 0;
    request_limit() = limit;
  }
  ~AllocationLimit() { request_limit() = static_cast<std::size_t>(-1); }
  AllocationLimit(const AllocationLimit&) = delete;
  AllocationLimit& operator=(const AllocationLimit&) = delete;
  std::size_t largest() const { return largest_request(); }
};

inline void* checked_allocate(std::size_t n, std::size_t align) {
  std::size_t seen = largest_request().load();
  while (n > seen && !largest_request().compare_exchange_weak(seen, n)) {
  }
  if (n > request_limit()) throw std::bad_alloc();
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(n ? n : 1);
  } else if (::posix_memalign(&p, align, n ? n : 1) != 0) {
    p = nullptr;
  }
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace xgrad_test
