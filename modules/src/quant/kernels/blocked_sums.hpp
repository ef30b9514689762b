// Deterministic sums for the learnable quantizers' gradients (internal): the
// same bits for any thread count, and loops that vectorize without
// reassociation flags.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "xgrad/detail/parallel.hpp"

namespace xgrad::quant::detail {

// Sums of the two terms term(i) -> std::pair<T, T> over i in [begin, end):
// eight T lanes per block of 512 elements (so the loop vectorizes without
// reassociation flags), the blocks added in double. term by value: a local
// copy the gradient stores cannot alias, so its captures stay in registers.
template <class T, class F>
inline std::pair<double, double> block_sums(std::size_t begin, std::size_t end, F term) {
  constexpr std::size_t W = 8, kBlock = 512;
  double s0 = 0, s1 = 0;
  for (std::size_t start = begin; start < end; start += kBlock) {
    const std::size_t stop = start + kBlock < end ? start + kBlock : end;
    T a[W] = {}, b[W] = {};
    std::size_t i = start;
    for (; i + W <= stop; i += W) {
      for (std::size_t j = 0; j < W; ++j) {
        const std::pair<T, T> t = term(i + j);
        a[j] += t.first;
        b[j] += t.second;
      }
    }
    for (; i < stop; ++i) {
      const std::pair<T, T> t = term(i);
      a[0] += t.first;
      b[0] += t.second;
    }
    for (std::size_t j = 0; j < W; ++j) {
      s0 += double(a[j]);
      s1 += double(b[j]);
    }
  }
  return {s0, s1};
}

// block_sums over chunks of a fixed size (eight blocks), the chunks split
// over threads and their sums added in chunk order: the same bits for any
// thread count. term may also write per-element results (gradients) for i,
// and is called from several threads at once.
// blocked_sums' chunk: a fused loop that sums chunk by chunk itself (adding
// the chunks' sums in order from 0) gets blocked_sums' bits.
constexpr std::size_t kBlockedSumsChunk = 8 * 512;

template <class T, class F>
inline std::pair<double, double> blocked_sums(std::size_t begin, std::size_t end, F term) {
  constexpr std::size_t kChunk = kBlockedSumsChunk;
  const std::size_t chunks = end > begin ? (end - begin + kChunk - 1) / kChunk : 0;
  if (chunks <= 1) return block_sums<T>(begin, end, term);
  std::vector<std::pair<double, double>> part(chunks);
  xgrad::detail::parallel_for(chunks, xgrad::detail::row_grain(kChunk),
                              [&](std::size_t cb, std::size_t ce) {
                                for (std::size_t c = cb; c < ce; ++c) {
                                  const std::size_t b = begin + c * kChunk;
                                  part[c] = block_sums<T>(b, std::min(b + kChunk, end), term);
                                }
                              });
  double s0 = 0, s1 = 0;
  for (const auto& p : part) {
    s0 += p.first;
    s1 += p.second;
  }
  return {s0, s1};
}

}  // namespace xgrad::quant::detail
