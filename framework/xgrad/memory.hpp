// The array cache: large arrays that tensors, gradients and the engine free
// are kept for reuse instead of going back to the C library.
//
// A training step frees its activations and gradients and the next step asks
// for arrays of the same sizes again. Freed to glibc, the megabyte-sized ones
// shrink its heap and come back as fresh pages, each page faulting on first
// write (about 1,200 faults, over a tenth of a LeNet step). Kept here, they
// are handed back out as they are, with no system call and no page fault.
//
// What is cached: arrays of at least 128 KiB (smaller ones stay with malloc,
// which reuses them without the kernel), reused for any shape with the same
// number of elements and element type. At most cache_limit() bytes are held;
// past it the oldest go first. The memory stays mapped to the process, as
// with libtorch's CUDA caching allocator: empty_cache() gives it back.
// Thread-safe; the cached contents are never read (new arrays are
// uninitialized or zero-filled by the op that takes them).
#pragma once

#include <cstddef>

namespace xgrad {

// Bytes currently held for reuse.
std::size_t cached_bytes();

// Frees every cached array.
void empty_cache();

// The most bytes the cache holds (default 256 MiB). 0 turns caching off;
// lowering the limit frees the oldest arrays at once.
void set_cache_limit(std::size_t bytes);
std::size_t cache_limit();

}  // namespace xgrad
