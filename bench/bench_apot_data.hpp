// Data and qparams shared by bench_apot.cpp and its libtorch peer, so both
// sides fake-quantize identical numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_data.hpp"
#include "bench_threads.hpp"

namespace bench {

constexpr std::size_t kFakeQuantSize = std::size_t(4) << 20;  // 4M elements
constexpr std::size_t kInCacheSize = std::size_t(64) << 10;   // 64K elements (256 KB)
constexpr int kApotK = 2;

// Values in [-0.1, 1.1): mostly inside the quantized range [0, 1], some
// clipped on either side.
inline std::vector<float> fake_quant_input(std::size_t n = kFakeQuantSize) {
  const auto u = uniform(n, 0.6, 21);  // [-0.6, 0.6)
  std::vector<float> v(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) v[i] = float(u[i] + 0.5);
  return v;
}

// "4M" or "64K" in case names.
inline std::string size_name(std::size_t n) {
  return n >= (std::size_t(1) << 20) ? std::to_string(n >> 20) + "M"
                                     : std::to_string(n >> 10) + "K";
}

// "b4/4M/f32": bits, size and type in case names.
inline std::string fq_case(int b, std::size_t n) {
  return "b" + std::to_string(b) + "/" + size_name(n) + "/f32";
}

// Registers a fake-quantize case; its settings s (with a size s.n) go to fn.
template <class Fn, class Setup>
void add_fq_case(const std::string& name, Fn fn, Setup s) {
  add_case(name, s.n < kFakeQuantSize ? benchmark::kMicrosecond : benchmark::kMillisecond, fn, s);
}

// The learnable fake-quantize cases of bench_qat.cpp and its libtorch peer,
// named alike on both sides: "<side>/<op>_fq_fwd[_bwd]/b<b>/4M/f32/t<threads>"
// for op "rcf" and "lsq" and b 4 and 8; fn_of(op) measures op, given (b,
// backward, threads).
template <class FnOf>
void add_learnable_fq_cases(const std::string& side, FnOf fn_of) {
  for (int b : {4, 8}) {
    for (bool bwd : {false, true}) {
      for (const std::string op : {"rcf", "lsq"}) {
        const std::string pass = bwd ? "_fq_fwd_bwd/" : "_fq_fwd/";
        for (int t : kThreadCounts) {
          add_case(with_threads(side + "/" + op + pass + fq_case(b, kFakeQuantSize), t),
                   benchmark::kMillisecond, fn_of(op), b, bwd, t);
        }
      }
    }
  }
}

// Uniform b-bit affine quantization of [0, 1]: 2^b levels, zero_point 0.
struct UniformQParams {
  double scale;
  std::int64_t quant_max;
};
inline UniformQParams uniform_qparams(int b) {
  const std::int64_t qmax = (std::int64_t(1) << b) - 1;
  return {double(1.0f / float(qmax)), qmax};
}

}  // namespace bench
