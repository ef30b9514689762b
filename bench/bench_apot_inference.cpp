// Low-bit inference kernels (project issue 21): LutMatrix::forward, the
// lookup-table product of packed 2- and 4-bit codes, against OpenBLAS on the
// same weights decoded to float (the peer, registered as "blas/<case>"):
//   apot_gemv: batch 1 at 4096x4096 (codes 8 MB / 4 MB, float 64 MB) and
//              1024x1024 (in cache), vs cblas_sgemv;
//   apot_gemv_batch8: batch 8 at 4096x4096 (the small-batch tiles), vs
//              cblas_sgemm;
//   apot_gemm: batch 64 at 784 -> 512 and 4096 -> 4096, vs cblas_sgemm
//              (X W^T, the float weight as stored), with FLOP/s;
// each at 1 and 2 threads (OpenBLAS's own threads for the peer), on the
// default path (2-bit batch 1: the T-MAC-style pair path). Variants at one
// thread: every instruction set the CPU has ("/isa:<name>"), for 2-bit batch
// 1 both paths ("/decode/isa:<name>", "/pairs/isa:<name>"), and the integer path
// (u8 activations, int8 levels: "/int8/isa:<name>"). The ratio table at the
// end is time xgrad / time OpenBLAS (< 1: xgrad is faster).
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../modules/src/quant/kernels/lut_int_matrix.hpp"
#include "../modules/src/quant/kernels/lut_matrix.hpp"
#include "bench_threads.hpp"
#include "use_threads_isa.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace {

using xgrad::quant::SimdIsa;
using xgrad::quant::kernels::LutMatrix;
using xgrad::quant::kernels::LutPath;

// One weight matrix: random codes, a 2^b-level table, the float weights.
struct Weights {
  LutMatrix lut;
  std::vector<float> dense;  // [rows, cols]
};

Weights make_weights(std::size_t rows, std::size_t cols, int bits) {
  std::mt19937 gen{static_cast<unsigned>(rows * 31 + cols * 7 + std::size_t(bits))};
  std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
  std::vector<std::uint8_t> codes(rows * cols);
  for (auto& c : codes) c = std::uint8_t(code(gen));
  std::vector<float> table(std::size_t(1) << bits);
  for (std::size_t i = 0; i < table.size(); ++i) {
    table[i] = (float(i) - float(table.size()) / 2 + 0.5f) / 8;  // symmetric, like APoT's
  }
  std::vector<float> dense(rows * cols);
  for (std::size_t i = 0; i < dense.size(); ++i) dense[i] = table[codes[i]];
  return {LutMatrix(xgrad::quant::kernels::pack_codes(codes, rows, cols, bits), table),
          std::move(dense)};
}

std::vector<float> activations(std::size_t n) {
  std::mt19937 gen{static_cast<unsigned>(n)};
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = u(gen);
  return x;
}

struct Setup {
  std::size_t rows, cols, batch;
  int bits, threads;
  SimdIsa isa;
  LutPath path;
};

void report_flops(benchmark::State& state, const Setup& s) {
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(s.rows * s.cols * s.batch),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void xgrad_case(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  const Weights w = make_weights(s.rows, s.cols, s.bits);
  const std::vector<float> x = activations(s.batch * s.cols);
  std::vector<float> y(s.batch * s.rows);
  for (auto _ : state) {
    w.lut.forward(x.data(), x.size(), s.batch, y.data(), y.size(), s.path);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
  state.SetLabel(xgrad::quant::to_string(s.isa));
}

void blas_case(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  openblas_set_num_threads(s.threads);
  const Weights w = make_weights(s.rows, s.cols, s.bits);
  const std::vector<float> x = activations(s.batch * s.cols);
  std::vector<float> y(s.batch * s.rows);
  const int m = int(s.rows), k = int(s.cols), n = int(s.batch);
  for (auto _ : state) {
    if (s.batch == 1) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, w.dense.data(), k, x.data(), 1, 0.0f,
                  y.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m, k, 1.0f, x.data(), k,
                  w.dense.data(), k, 0.0f, y.data(), m);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
}

// The integer path on the same codes: int8 levels (APoT's at 4 bits k = 2
// reach 48), u8 activations.
void xgrad_int8_case(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  std::mt19937 gen{static_cast<unsigned>(s.rows * 31 + s.cols * 7 + std::size_t(s.bits))};
  std::uniform_int_distribution<int> code(0, (1 << s.bits) - 1), byte(0, 255);
  std::vector<std::uint8_t> codes(s.rows * s.cols), a(s.batch * s.cols);
  for (auto& c : codes) c = std::uint8_t(code(gen));
  for (auto& v : a) v = std::uint8_t(byte(gen));
  std::vector<int> table(std::size_t(1) << s.bits);
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = int(i * 6) - 45;  // within +-48
  const xgrad::quant::kernels::LutMatrixInt8 m(
      xgrad::quant::kernels::pack_codes(codes, s.rows, s.cols, s.bits), table, {0.01f});
  std::vector<float> y(s.batch * s.rows);
  for (auto _ : state) {
    m.forward(a.data(), a.size(), s.batch, 0.02f, 128, y.data(), y.size());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
  state.SetLabel(xgrad::quant::to_string(s.isa));
}

#if defined(__x86_64__)
// The other GEMM design (issue 21 asks to measure both): decode a panel of
// 64 rows to float with AVX-512 (the table permute of the tile kernels,
// stored as the panel's transpose, K x 64), then cblas_sgemm on it; memory
// stays one panel (1 MB at K = 4096). Bench-only: it loses to the tile
// kernels' decode in registers (under load: 25.6 ms vs 19.3 ms at 4096, 585 us
// vs 512 us at 784-512; plain sgemm 32.3 ms and 566 us).
__attribute__((target("avx512f"))) void decode_panel(const xgrad::quant::kernels::PackedCodes& c,
                                                     const float* t16, std::size_t g0,
                                                     std::size_t groups, float* panel) {
  const __m512 table = _mm512_loadu_ps(t16);
  const std::size_t per_word = c.codes_per_word(), w = 32 / per_word, ld = groups * 16;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::uint32_t* words = c.words.data() + (g0 + g) * c.group_stride();
    for (std::size_t wc = 0; wc < c.word_cols(); ++wc) {
      const __m512i v = _mm512_loadu_si512(words + wc * 16);
      for (std::size_t p = 0; p < per_word; ++p) {
        const __m512i idx = _mm512_srl_epi32(v, _mm_cvtsi64_si128(long(p * w)));
        _mm512_storeu_ps(panel + (wc * per_word + p) * ld + g * 16,
                         _mm512_permutexvar_ps(idx, table));
      }
    }
  }
}

void panel_sgemm_case(benchmark::State& state, Setup s) {
  const bench::UseThreadsAndIsa use(s.threads, s.isa);
  const Weights w = make_weights(s.rows, s.cols, s.bits);
  const auto& c = w.lut.codes();
  std::vector<float> t16(16);
  for (std::size_t i = 0; i < 16; ++i) t16[i] = w.lut.table()[s.bits == 2 ? i & 3 : i];
  const std::vector<float> x = activations(s.batch * s.cols);
  std::vector<float> y(s.batch * s.rows);
  const std::size_t kPanelGroups = 4, pcols = c.padded_cols();
  std::vector<float> panel(pcols * kPanelGroups * 16);
  for (auto _ : state) {
    for (std::size_t g0 = 0; g0 < c.groups(); g0 += kPanelGroups) {
      const std::size_t groups = std::min(kPanelGroups, c.groups() - g0);
      decode_panel(c, t16.data(), g0, groups, panel.data());
      const std::size_t o0 = g0 * 16, m = std::min(s.rows, o0 + groups * 16) - o0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(s.batch), int(m), int(s.cols),
                  1.0f, x.data(), int(s.cols), panel.data(), int(groups * 16), 0.0f, y.data() + o0,
                  int(s.rows));
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_flops(state, s);
}
#endif

std::string shape_name(const Setup& s) {
  return std::to_string(s.cols) + "-" + std::to_string(s.rows) + "/b" + std::to_string(s.bits);
}

const bool registered = [] {
  const SimdIsa best = xgrad::quant::simd_isa();
  struct Shape {
    const char* op;
    std::size_t rows, cols, batch;
  };
  const Shape shapes[] = {{"apot_gemv", 4096, 4096, 1},
                          {"apot_gemv", 1024, 1024, 1},
                          {"apot_gemv_batch8", 4096, 4096, 8},
                          {"apot_gemm", 512, 784, 64},
                          {"apot_gemm", 4096, 4096, 64}};
  for (const Shape& sh : shapes) {
    for (int bits : {4, 2}) {
      for (int t : bench::kThreadCounts) {
        const Setup s{sh.rows, sh.cols, sh.batch, bits, t, best, LutPath::automatic};
        const std::string name = std::string(sh.op) + "/" + shape_name(s);
        bench::add_case(bench::with_threads("xgrad/" + name, t), benchmark::kMicrosecond,
                        xgrad_case, s);
        bench::add_case(bench::with_threads("blas/" + name, t), benchmark::kMicrosecond, blas_case,
                        s);
      }
      const std::string name = std::string(sh.op) + "/" +
                               shape_name({sh.rows, sh.cols, 1, bits, 1, best, LutPath::decode});
      for (SimdIsa isa : xgrad::quant::supported_simd_isas()) {
        if (isa == SimdIsa::scalar && sh.rows * sh.cols * sh.batch > (std::size_t(1) << 24)) {
          continue;  // seconds per iteration
        }
        const std::string v = std::string("/isa:") + xgrad::quant::to_string(isa);
        bench::add_case("xgrad/" + name + v, benchmark::kMicrosecond, xgrad_case,
                        Setup{sh.rows, sh.cols, sh.batch, bits, 1, isa, LutPath::automatic});
        bench::add_case("xgrad/" + name + "/int8" + v, benchmark::kMicrosecond, xgrad_int8_case,
                        Setup{sh.rows, sh.cols, sh.batch, bits, 1, isa, LutPath::automatic});
#if defined(__x86_64__)
        if (isa == SimdIsa::avx512 && sh.batch == 64) {
          bench::add_case("xgrad/" + name + "/panel_sgemm", benchmark::kMicrosecond,
                          panel_sgemm_case,
                          Setup{sh.rows, sh.cols, sh.batch, bits, 1, isa, LutPath::automatic});
        }
#endif
        if (sh.batch == 1 && bits == 2) {  // automatic picks one of these
          bench::add_case("xgrad/" + name + "/decode" + v, benchmark::kMicrosecond, xgrad_case,
                          Setup{sh.rows, sh.cols, 1, bits, 1, isa, LutPath::decode});
          bench::add_case("xgrad/" + name + "/pairs" + v, benchmark::kMicrosecond, xgrad_case,
                          Setup{sh.rows, sh.cols, 1, bits, 1, isa, LutPath::pairs});
        }
      }
    }
  }
  return true;
}();

}  // namespace
