// The array cache (xgrad/memory.hpp): per element type, a list of cached
// arrays from oldest to newest, each stamped with its arrival, under one mutex
// and one byte count. Lists stay short (at most kMaxEntries), so a lookup is
// a linear scan, newest first.
#include "xgrad/detail/array_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/memory.hpp"

namespace xgrad {

namespace {

constexpr std::size_t kDefaultLimit = std::size_t(256) << 20;
constexpr std::size_t kMaxEntries = 256;

template <class T>
struct Entry {
  xt::xarray<T> array;
  std::uint64_t stamp;
};

struct Cache {
  std::mutex mutex;
  std::size_t limit = kDefaultLimit;
  std::size_t bytes = 0;
  std::uint64_t next_stamp = 0;
  std::vector<Entry<float>> floats;
  std::vector<Entry<double>> doubles;

  template <class T>
  std::vector<Entry<T>>& list() {
    if constexpr (std::is_same<T, float>::value) {
      return floats;
    } else {
      return doubles;
    }
  }

  // Drops the oldest arrays, of either type, until at most `max_bytes` and
  // kMaxEntries are held. Called with the mutex held.
  void shrink(std::size_t max_bytes) {
    while (!floats.empty() || !doubles.empty()) {
      if (bytes <= max_bytes && floats.size() + doubles.size() <= kMaxEntries) break;
      const bool float_oldest =
          doubles.empty() || (!floats.empty() && floats.front().stamp < doubles.front().stamp);
      if (float_oldest) {
        drop_front(floats);
      } else {
        drop_front(doubles);
      }
    }
  }

  template <class T>
  void drop_front(std::vector<Entry<T>>& entries) {
    bytes -= entries.front().array.size() * sizeof(T);
    entries.erase(entries.begin());
  }
};

// Never destroyed: tensors held in static objects may be freed at exit after
// this file's statics would have been.
Cache& cache() {
  static Cache* const instance = new Cache;
  return *instance;
}

// Moves a cached array of n elements into `out`, newest first; false if none.
template <class T>
bool take(std::size_t n, xt::xarray<T>& out) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto& entries = c.list<T>();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->array.size() == n) {
      out = std::move(it->array);
      c.bytes -= n * sizeof(T);
      entries.erase(std::next(it).base());
      return true;
    }
  }
  return false;
}

}  // namespace

std::size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.bytes;
}

void empty_cache() {
  std::vector<Entry<float>> floats;
  std::vector<Entry<double>> doubles;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    floats.swap(c.floats);
    doubles.swap(c.doubles);
    c.bytes = 0;
  }  // freed outside the lock
}

void set_cache_limit(std::size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit = bytes;
  c.shrink(bytes);
}

std::size_t cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.limit;
}

namespace detail {

template <class T>
xt::xarray<T> new_array(const Shape& shape) {
  const std::size_t n = numel_of(shape);
  if (n * sizeof(T) >= kMinCachedBytes) {
    xt::xarray<T> a;
    if (take(n, a)) {
      a.resize(shape);  // same element count: keeps the storage
      return a;
    }
    try {
      return xt::xarray<T>::from_shape(shape);
    } catch (const std::bad_alloc&) {  // what the cache holds may be enough
      if (cached_bytes() == 0) throw;
      empty_cache();
    }
  }
  return xt::xarray<T>::from_shape(shape);
}

template <class T>
xt::xarray<T> new_zeros(const Shape& shape) {
  xt::xarray<T> a = new_array<T>(shape);
  T* p = a.data();
  parallel_for(a.size(), kElementGrain,
               [p](std::size_t begin, std::size_t end) { std::fill(p + begin, p + end, T(0)); });
  return a;
}

template <class T>
void recycle(xt::xarray<T>& a) noexcept {
  const std::size_t bytes = a.size() * sizeof(T);
  if (bytes < kMinCachedBytes) return;
  try {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (bytes > c.limit) return;
    auto& entries = c.list<T>();
    if (entries.size() == entries.capacity()) entries.reserve(2 * entries.size() + 8);
    entries.push_back(Entry<T>{std::move(a), c.next_stamp++});
    c.bytes += bytes;
    c.shrink(c.limit);
  } catch (...) {  // a lock or reserve that failed: a keeps its storage, freed as usual
  }
}

#define XGRAD_INSTANTIATE_ARRAY_CACHE(T)             \
  template xt::xarray<T> new_array<T>(const Shape&); \
  template xt::xarray<T> new_zeros<T>(const Shape&); \
  template void recycle<T>(xt::xarray<T>&) noexcept;
XGRAD_INSTANTIATE_ARRAY_CACHE(float)
XGRAD_INSTANTIATE_ARRAY_CACHE(double)
#undef XGRAD_INSTANTIATE_ARRAY_CACHE

}  // namespace detail
}  // namespace xgrad
