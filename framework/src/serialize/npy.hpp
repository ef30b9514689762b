// The .npy format (NumPy's one-array file) as checkpoints use it: read from
// any byte source in bounded chunks, checked before anything is allocated.
// to_npy_bytes and parse_npy (serialize.hpp) are the public faces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <xtensor/xarray.hpp>

namespace xgrad::detail {

// A source of bytes for read_npy: fills dst with up to n bytes, returns how
// many (0 at the end); throws IOError on a read error.
using ReadFn = std::function<std::size_t(char* dst, std::size_t n)>;

// One .npy array from `read` (dtype T's, or uint8, converted to T exactly): the preamble and header
// first, then (only once the shape, dtype and sizes are known to be consistent) one allocation of
// exactly the array, filled by bounded reads, then a check that nothing
// follows. `total` is the source's declared size when known (0: unknown) and
// `max_data` bounds the data bytes the source can legitimately hold. Errors
// are IOError (TypeError for a dtype other than T's) naming `what`.
template <class T>
xt::xarray<T> read_npy(const ReadFn& read, const std::string& what, std::uint64_t total,
                       std::uint64_t max_data);

// The .npy bytes of `array` as uint8 ('|u1'): ValueError naming `what` and
// the element when one is not an integer in [0, 255].
template <class T>
std::string to_npy_uint8_bytes(const xt::xarray<T>& array, const std::string& what);

extern template std::string to_npy_uint8_bytes<float>(const xt::xarray<float>&, const std::string&);
extern template std::string to_npy_uint8_bytes<double>(const xt::xarray<double>&,
                                                       const std::string&);
extern template xt::xarray<float> read_npy<float>(const ReadFn&, const std::string&, std::uint64_t,
                                                  std::uint64_t);
extern template xt::xarray<double> read_npy<double>(const ReadFn&, const std::string&,
                                                    std::uint64_t, std::uint64_t);

}  // namespace xgrad::detail
