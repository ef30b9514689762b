// The global operator new and delete of alloc_limit.hpp: linked into each
// test executable whose suites use AllocationLimit (once per executable: a
// replacement cannot be inline).
#include "alloc_limit.hpp"

#ifndef XGRAD_TEST_ASAN
void* operator new(std::size_t n) { return xgrad_test::checked_allocate(n, 0); }
void* operator new[](std::size_t n) { return xgrad_test::checked_allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return xgrad_test::checked_allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return xgrad_test::checked_allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif  // XGRAD_TEST_ASAN
