// Peak extra heap memory of one conv_step (Conv2d(16, 32, 3, padding 1)
// forward + backward on [32, 16, 32, 32], float), relative to the input's
// size, and what forward leaves allocated (the im2col buffer must not stay).
// Counts every operator new of the process (xtensor containers and the
// im2col scratch buffer allocate through it); libtorch is not involved.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <xtensor/xbuilder.hpp>

#include "bench_conv_data.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/memory.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/tensor.hpp"

namespace {

std::size_t live = 0, peak = 0;

// Each block carries its size in a 16-byte header (keeps malloc's alignment).
void* counted_alloc(std::size_t n) {
  auto* p = static_cast<std::size_t*>(std::malloc(n + 16));
  if (!p) throw std::bad_alloc();
  *p = n;
  live += n;
  if (live > peak) peak = live;
  return reinterpret_cast<char*>(p) + 16;
}

void counted_free(void* q) {
  if (!q) return;
  auto* p = reinterpret_cast<std::size_t*>(static_cast<char*>(q) - 16);
  live -= *p;
  std::free(p);
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

int main() {
  const auto& s = bench::kConvStep;
  const auto d = bench::conv_data(s);
  xgrad::nn::Conv2d<float> conv(xgrad::nn::Conv2dOptions(s.c, s.out, s.kernel).padding(s.padding));
  xt::xarray<float> xa = xt::xarray<float>::from_shape(
      {std::size_t(s.n), std::size_t(s.c), std::size_t(s.h), std::size_t(s.w)});
  std::copy(d.x.begin(), d.x.end(), xa.begin());
  xgrad::Tensor<float> x(std::move(xa), true);
  const double input = double(x.numel() * sizeof(float));
  const std::size_t out_numel = std::size_t(s.n * s.out * s.h * s.w);

  const xt::xarray<float> seed =
      xt::ones<float>({std::size_t(s.n), std::size_t(s.out), std::size_t(s.h), std::size_t(s.w)});
  const std::size_t base = live;
  peak = live;
  std::size_t after_forward = 0;
  {
    auto y = conv(x);
    after_forward = live - base;
    y.backward(seed);
  }
  const std::size_t peak_extra = peak - base;
  const std::size_t kept = live - base;  // the gradients of x, weight and bias
  const std::size_t col = std::size_t(s.c * s.kernel * s.kernel * s.h * s.w) * sizeof(float);

  std::printf(
      "conv_step memory (float): input %.2f MB, output %.2f MB, one im2col buffer %.2f MB\n",
      input / 1e6, double(out_numel * sizeof(float)) / 1e6, double(col) / 1e6);
  std::printf("held after forward:  %8.2f MB = %.2f x input (output + graph record)\n",
              double(after_forward) / 1e6, double(after_forward) / input);
  std::printf("peak extra fwd+bwd:  %8.2f MB = %.2f x input\n", double(peak_extra) / 1e6,
              double(peak_extra) / input);
  const std::size_t cached = xgrad::cached_bytes();  // the freed output and gradient, for reuse
  std::printf(
      "held after backward: %8.2f MB = %.2f x input (gradients %.2f MB, array cache %.2f MB)\n",
      double(kept) / 1e6, double(kept) / input, double(kept - cached) / 1e6, double(cached) / 1e6);
  xgrad::empty_cache();
  std::printf("after empty_cache(): %8.2f MB = %.2f x input (gradients)\n",
              double(live - base) / 1e6, double(live - base) / input);
  // The forward keeps nothing but its output (and a small node): no column buffer.
  const bool ok = after_forward < out_numel * sizeof(float) + col / 2;
  std::printf("im2col buffer freed after forward: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}
