// conv2d: a hand-computed case, agreement with a naive loop and gradcheck over
// a table of configurations, per-input pruning, and every documented error.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>
#include <xtensor/xbuilder.hpp>

#include "test_util.hpp"
#include "xgrad/detail/conv_kernels.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/node.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_conv)

using namespace xgrad;
using xgrad_test::array_of;
using xgrad_test::close_as_sums;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;
using xgrad_test::passes_gradcheck;

namespace {

// One convolution: input [n, c, h, w], weight [o, c / groups, kh, kw].
struct Config {
  std::size_t n, c, h, w, o, kh, kw;
  Size2 stride, padding, dilation;
  std::int64_t groups;
  bool bias;
};

std::ostream& operator<<(std::ostream& os, const Config& k) {
  return os << "input [" << k.n << ", " << k.c << ", " << k.h << ", " << k.w << "] weight [" << k.o
            << ", " << k.c / k.groups << ", " << k.kh << ", " << k.kw << "] stride "
            << to_string(k.stride) << " padding " << to_string(k.padding) << " dilation "
            << to_string(k.dilation) << " groups " << k.groups << (k.bias ? " bias" : " no bias");
}

// Odd and even sizes, non-square kernels, stride > 1, padding, dilation 2,
// depthwise and grouped, 1x1, batch 1 and > 1, one channel and several,
// "same" padding (the depthwise and dilated rows too).
const Config kConfigs[] = {
    {1, 1, 3, 3, 1, 2, 2, 1, 0, 1, 1, true},
    {2, 3, 5, 4, 2, 3, 2, 1, 0, 1, 1, true},
    {2, 2, 6, 7, 3, 3, 3, 2, 1, 1, 1, false},
    {1, 2, 7, 7, 2, 3, 3, 1, 2, 2, 1, true},
    {2, 4, 5, 5, 4, 3, 3, 1, 1, 1, 4, true},   // depthwise
    {1, 3, 4, 4, 6, 2, 2, 1, 1, 1, 3, false},  // depthwise, channel multiplier 2
    {1, 4, 4, 5, 6, 1, 2, {1, 2}, {0, 1}, 1, 2, false},
    {3, 2, 4, 4, 3, 1, 1, 1, 0, 1, 1, true},  // 1x1: no im2col
    {1, 3, 5, 6, 2, 2, 3, {2, 1}, {1, 0}, {1, 2}, 1, true},
    {2, 1, 8, 6, 2, 5, 3, {3, 2}, {2, 1}, 1, 1, true},
    // "Same" padding, stride 1 (im2col copies shifted spans of the plane).
    {2, 2, 4, 6, 3, 3, 5, 1, {1, 2}, 1, 1, true},
    {1, 2, 2, 3, 2, 3, 3, 1, 1, 1, 1, false},
};

// The convolution by definition, in double, with plain loops.
xt::xarray<double> naive_conv(const xt::xarray<double>& x, const xt::xarray<double>& w,
                              const xt::xarray<double>* b, const Config& k) {
  const std::int64_t H = k.h, W = k.w;
  const std::int64_t oh =
      (H + 2 * k.padding.h - k.dilation.h * (std::int64_t(k.kh) - 1) - 1) / k.stride.h + 1;
  const std::int64_t ow =
      (W + 2 * k.padding.w - k.dilation.w * (std::int64_t(k.kw) - 1) - 1) / k.stride.w + 1;
  const std::size_t cg = k.c / k.groups, og = k.o / k.groups;
  xt::xarray<double> y = xt::zeros<double>({k.n, k.o, std::size_t(oh), std::size_t(ow)});
  for (std::size_t n = 0; n < k.n; ++n)
    for (std::size_t o = 0; o < k.o; ++o)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double s = b ? (*b)(o) : 0.0;
          for (std::size_t c = 0; c < cg; ++c)
            for (std::size_t a = 0; a < k.kh; ++a)
              for (std::size_t e = 0; e < k.kw; ++e) {
                const std::int64_t ih =
                    i * k.stride.h - k.padding.h + std::int64_t(a) * k.dilation.h;
                const std::int64_t iw =
                    j * k.stride.w - k.padding.w + std::int64_t(e) * k.dilation.w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x(n, (o / og) * cg + c, ih, iw) * w(o, c, a, e);
              }
          y(n, o, i, j) = s;
        }
  return y;
}

// The weight gradient by definition: dW[o, c, a, e] = sum over n, i, j of
// G[n, o, i, j] x[n, group's channel c, i s - p + a d, j s - p + e d].
xt::xarray<double> naive_weight_grad(const xt::xarray<double>& x, const xt::xarray<double>& g,
                                     const Config& k) {
  const std::size_t oh = g.shape()[2], ow = g.shape()[3];
  const std::size_t cg = k.c / k.groups, og = k.o / k.groups;
  xt::xarray<double> dw = xt::zeros<double>({k.o, cg, k.kh, k.kw});
  const double* px = x.data();
  const double* pg = g.data();
  for (std::size_t o = 0; o < k.o; ++o)
    for (std::size_t c = 0; c < cg; ++c)
      for (std::size_t a = 0; a < k.kh; ++a)
        for (std::size_t e = 0; e < k.kw; ++e) {
          double s = 0;
          const std::size_t channel = (o / og) * cg + c;
          for (std::size_t n = 0; n < k.n; ++n)
            for (std::size_t i = 0; i < oh; ++i)
              for (std::size_t j = 0; j < ow; ++j) {
                const std::int64_t ih =
                    std::int64_t(i) * k.stride.h - k.padding.h + std::int64_t(a) * k.dilation.h;
                const std::int64_t iw =
                    std::int64_t(j) * k.stride.w - k.padding.w + std::int64_t(e) * k.dilation.w;
                if (ih < 0 || ih >= std::int64_t(k.h) || iw < 0 || iw >= std::int64_t(k.w))
                  continue;
                s += pg[((n * k.o + o) * oh + i) * ow + j] *
                     px[((n * k.c + channel) * k.h + std::size_t(ih)) * k.w + std::size_t(iw)];
              }
          dw(o, c, a, e) = s;
        }
  return dw;
}

template <class T>
Tensor<T> conv(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>& b, const Config& k) {
  return conv2d(x, w, b, k.stride, k.padding, k.dilation, k.groups);
}

// Restores the kernels float conv2d runs.
struct ConvKernelsGuard {
  detail::ConvKernels saved = detail::conv_kernels();
  ~ConvKernelsGuard() { detail::set_conv_kernels(saved); }
};

// The kernel sets float conv2d can run in this build.
std::vector<detail::ConvKernels> float_kernel_sets() {
  std::vector<detail::ConvKernels> sets{detail::ConvKernels::im2col};
  if (detail::onednn_built()) sets.push_back(detail::ConvKernels::onednn);
  return sets;
}

const char* name_of(detail::ConvKernels k) {
  return k == detail::ConvKernels::onednn ? "onednn" : "im2col";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv2d_values)

// x = 1..9 in a 3x3 plane, kernel [[1, 2], [3, 4]], bias 1.
BOOST_AUTO_TEST_CASE(a_3x3_input_and_a_2x2_kernel_by_hand) {
  auto x = Tensor<double>(array_of({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), true);
  auto w = Tensor<double>(array_of({1, 1, 2, 2}, {1, 2, 3, 4}), true);
  auto b = tensor<double>({1}, true);
  const auto y = conv2d(x, w, b);
  // 1+4+12+20 = 37, 2+6+15+24 = 47, 4+10+21+32 = 67, 5+12+24+36 = 77; plus 1.
  BOOST_TEST(equal_arrays(y.data(), array_of({1, 1, 2, 2}, {38, 48, 68, 78})));
  sum(y).backward();
  // dx: how many windows cover each input, weighted by the kernel entry there.
  BOOST_TEST(equal_arrays(x.grad().data(), array_of({1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4})));
  // dw[a, b]: the sum of the inputs that kernel entry (a, b) touches.
  BOOST_TEST(equal_arrays(w.grad().data(), array_of({1, 1, 2, 2}, {12, 16, 24, 28})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({4})));
}

// Padding 1 on the same input: the corners see only one kernel entry.
BOOST_AUTO_TEST_CASE(padding_reads_zeros) {
  const auto x = Tensor<double>(array_of({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const auto w = Tensor<double>(array_of({1, 1, 2, 2}, {1, 2, 3, 4}));
  const auto y = conv2d(x, w, Tensor<double>(), 1, 1);
  BOOST_TEST(y.shape() == Shape({1, 1, 4, 4}));
  BOOST_TEST(y.data()(0, 0, 0, 0) == 4.0);   // only x[0, 0] under w[1, 1]
  BOOST_TEST(y.data()(0, 0, 3, 3) == 9.0);   // only x[2, 2] under w[0, 0]
  BOOST_TEST(y.data()(0, 0, 1, 1) == 37.0);  // the unpadded first window
}

BOOST_AUTO_TEST_CASE(matches_the_definition_in_float_and_double) {
  Generator gen(11);
  for (const auto& k : kConfigs) {
    BOOST_TEST_CONTEXT(k) {
      const auto x = randn<double>({k.n, k.c, k.h, k.w}, gen);
      const auto w = randn<double>({k.o, k.c / k.groups, k.kh, k.kw}, gen);
      const auto b = k.bias ? randn<double>({k.o}, gen) : Tensor<double>();
      // Each output is a sum of at most c / groups kh kw products plus the
      // bias: the gamma bounds of test_util.hpp, with sum |terms| from the
      // definition on absolute values.
      const std::size_t terms = k.c / std::size_t(k.groups) * k.kh * k.kw + 1;
      const auto definition = [&k](const xt::xarray<double>& xs, const xt::xarray<double>& ws,
                                   const xt::xarray<double>& bs) {
        return naive_conv(xs, ws, k.bias ? &bs : nullptr, k);
      };
      const auto abs_definition = [&](const xt::xarray<double>& xs, const xt::xarray<double>& ws,
                                      const xt::xarray<double>& bs) {
        return definition(xt::abs(xs), xt::abs(ws), xt::abs(bs));
      };
      const xt::xarray<double> bd = k.bias ? b.data() : xt::xarray<double>();
      BOOST_TEST(close_as_sums<double>(conv(x, w, b, k).data(), definition(x.data(), w.data(), bd),
                                       abs_definition(x.data(), w.data(), bd), terms));
      // Float: the definition in double on the same float-rounded inputs, so
      // only the float sums' rounding separates them.
      const xt::xarray<float> xf = xt::cast<float>(x.data()), wf = xt::cast<float>(w.data());
      const xt::xarray<float> bf = xt::cast<float>(bd);
      const xt::xarray<double> yf =
          xt::cast<double>(conv(Tensor<float>(xf), Tensor<float>(wf),
                                k.bias ? Tensor<float>(bf) : Tensor<float>(), k)
                               .data());
      const xt::xarray<double> xd = xt::cast<double>(xf), wd = xt::cast<double>(wf),
                               bfd = xt::cast<double>(bf);
      BOOST_TEST(
          close_as_sums<float>(yf, definition(xd, wd, bfd), abs_definition(xd, wd, bfd), terms));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_batch_gives_an_empty_output_and_zero_parameter_gradients) {
  auto w = ones<double>({2, 1, 2, 2}, true);
  auto b = ones<double>({2}, true);
  const auto y = conv2d(zeros<double>({0, 1, 3, 3}), w, b);
  BOOST_TEST(y.shape() == Shape({0, 2, 2, 2}));
  y.backward(xt::xarray<double>::from_shape({0, 2, 2, 2}));
  BOOST_TEST(equal_arrays(w.grad().data(), xt::xarray<double>(xt::zeros<double>({2, 1, 2, 2}))));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({0, 0})));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conv2d_gradients)

BOOST_AUTO_TEST_CASE(gradcheck_over_the_configuration_table) {
  Generator gen(12);
  for (const auto& k : kConfigs) {
    BOOST_TEST_CONTEXT(k) {
      const auto x = randn<double>({k.n, k.c, k.h, k.w}, gen, 0.0, 1.0, true);
      const auto w = randn<double>({k.o, k.c / k.groups, k.kh, k.kw}, gen, 0.0, 1.0, true);
      std::vector<Tensor<double>> inputs = {x, w};
      if (k.bias) inputs.push_back(randn<double>({k.o}, gen, 0.0, 1.0, true));
      const auto f = [&k](const std::vector<Tensor<double>>& in) {
        return conv(in[0], in[1], in.size() == 3 ? in[2] : Tensor<double>(), k);
      };
      BOOST_TEST(passes_gradcheck(f, inputs));
    }
  }
}

// Fewer than 8 samples whose weight-gradient product is large (>= 2M
// multiply-adds each) take the sample-by-sample path, which splits each
// sample's im2col by channel and its gemm by rows; the others sum fixed
// chunks of samples. Both against the definition.
BOOST_AUTO_TEST_CASE(the_weight_gradient_of_large_convolutions_matches_the_definition) {
  const Config large[] = {
      {2, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, false},  // shifted-span im2col
      {2, 16, 32, 32, 32, 3, 3, 1, 1, 1, 2, false},  // two groups
      {1, 16, 64, 64, 32, 3, 3, 2, 1, 1, 1, false},  // stride 2: row-by-row im2col
      {12, 3, 16, 16, 8, 3, 3, 1, 1, 1, 1, false},   // small: 8 chunks of samples
      {8, 16, 24, 24, 16, 5, 5, 1, 2, 1, 1, false},  // large, but 8 samples: 8 chunks
  };
  Generator gen(14);
  for (const auto& k : large) {
    BOOST_TEST_CONTEXT(k) {
      const auto x = randn<double>({k.n, k.c, k.h, k.w}, gen);
      auto w = randn<double>({k.o, k.c / k.groups, k.kh, k.kw}, gen, 0.0, 1.0, true);
      const auto y = conv(x, w, Tensor<double>(), k);
      const xt::xarray<double> g = randn<double>(y.shape(), gen).data();
      y.backward(g);
      // Each element is a sum over n, i, j: both in double, in other orders.
      const std::size_t terms = k.n * g.shape()[2] * g.shape()[3];
      BOOST_TEST(close_as_sums<double>(w.grad().data(), naive_weight_grad(x.data(), g, k),
                                       naive_weight_grad(xt::abs(x.data()), xt::abs(g), k), terms));
    }
  }
}

// Each input alone needing a gradient takes its own branch of backward.
BOOST_AUTO_TEST_CASE(gradcheck_with_one_input_needing_a_gradient) {
  Generator gen(13);
  const Config k = kConfigs[3];
  const auto x = randn<double>({k.n, k.c, k.h, k.w}, gen, 0.0, 1.0, true);
  const auto w = randn<double>({k.o, k.c, k.kh, k.kw}, gen, 0.0, 1.0, true);
  const auto b = randn<double>({k.o}, gen, 0.0, 1.0, true);
  const auto f = [&k](const std::vector<Tensor<double>>& in) {
    return conv(in[0], in[1], in[2], k);
  };
  BOOST_TEST(passes_gradcheck(f, {x, w.detach(), b.detach()}));
  BOOST_TEST(passes_gradcheck(f, {x.detach(), w, b.detach()}));
  BOOST_TEST(passes_gradcheck(f, {x.detach(), w.detach(), b}));
}

BOOST_AUTO_TEST_CASE(an_input_without_requires_grad_gets_no_gradient) {
  const auto x = ones<double>({1, 1, 3, 3});
  auto w = ones<double>({1, 1, 2, 2}, true);
  sum(conv2d(x, w)).backward();
  BOOST_TEST(!x.grad().defined());
  BOOST_TEST(equal_arrays(w.grad().data(), array_of({1, 1, 2, 2}, {4, 4, 4, 4})));
}

// Float forward, input, weight and bias gradients on each kernel set (im2col
// and, when built, oneDNN), against double on the same float-rounded values.
// Each element is a sum in float in some order: forward c/groups kh kw
// products plus the bias, dx at most O/groups kh kw products, dW and the bias
// gradient N OH OW; sum |terms| is the same computation on absolute values
// (double conv2d, whose own rounding the gamma_n<double> term covers). The
// table adds uneven chunks of samples (13) and LeNet's two convolutions.
BOOST_AUTO_TEST_CASE(float_results_on_every_kernel_set_match_double) {
  ConvKernelsGuard guard;
  std::vector<Config> configs(std::begin(kConfigs), std::end(kConfigs));
  configs.push_back({13, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, true});
  configs.push_back({16, 1, 28, 28, 6, 5, 5, 1, 2, 1, 1, true});
  configs.push_back({16, 6, 14, 14, 16, 5, 5, 1, 0, 1, 1, true});
  for (const auto kernels : float_kernel_sets()) {
    detail::set_conv_kernels(kernels);
    Generator gen(15);
    for (const auto& k : configs) {
      BOOST_TEST_CONTEXT(name_of(kernels) << ", " << k) {
        const auto xf = randn<float>({k.n, k.c, k.h, k.w}, gen, 0.0f, 1.0f, true);
        const auto wf = randn<float>({k.o, k.c / k.groups, k.kh, k.kw}, gen, 0.0f, 1.0f, true);
        const auto bf = randn<float>({k.o}, gen, 0.0f, 1.0f, true);
        const auto yf = conv(xf, wf, k.bias ? bf : Tensor<float>(), k);
        const xt::xarray<float> gf = randn<float>(yf.shape(), gen).data();
        yf.backward(gf);
        // The same in double, on the values and on their absolute values.
        const auto run = [&k](const xt::xarray<double>& x, const xt::xarray<double>& w,
                              const xt::xarray<double>& b, const xt::xarray<double>& g) {
          Tensor<double> xd(x, true), wd(w, true), bd(b, true);
          const auto y = conv(xd, wd, k.bias ? bd : Tensor<double>(), k);
          y.backward(g);
          return std::vector<xt::xarray<double>>{y.data(), xd.grad().data(), wd.grad().data(),
                                                 k.bias ? bd.grad().data() : xt::xarray<double>()};
        };
        const xt::xarray<double> x = xt::cast<double>(xf.data()), w = xt::cast<double>(wf.data()),
                                 b = xt::cast<double>(bf.data()), g = xt::cast<double>(gf);
        const auto def = run(x, w, b, g);
        const auto abs = run(xt::abs(x), xt::abs(w), xt::abs(b), xt::abs(g));
        const auto d = [](const xt::xarray<float>& a) {
          return xt::xarray<double>(xt::cast<double>(a));
        };
        const std::size_t og = k.o / std::size_t(k.groups);
        const std::size_t planes = k.n * g.shape()[2] * g.shape()[3];
        BOOST_TEST(close_as_sums<float>(d(yf.data()), def[0], abs[0],
                                        k.c / std::size_t(k.groups) * k.kh * k.kw + 1));
        BOOST_TEST(close_as_sums<float>(d(xf.grad().data()), def[1], abs[1], og * k.kh * k.kw));
        BOOST_TEST(close_as_sums<float>(d(wf.grad().data()), def[2], abs[2], planes));
        if (k.bias) {
          BOOST_TEST(close_as_sums<float>(d(bf.grad().data()), def[3], abs[3], planes));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  {
    const D x = leaf({1, 2, 5, 5}), w = leaf({4, 2, 3, 3}), b = leaf({4});
    r.push_back({"conv2d: 3-D input",
                 raises<ShapeError>("conv2d", {"input must be 4-D", "got [2, 5, 5]"}),
                 [w, b] {
                   conv2d(leaf({2, 5, 5}), w, b);
                 },
                 {w, b}});
    r.push_back({"conv2d: 2-D weight",
                 raises<ShapeError>("conv2d", {"weight must be 4-D", "got [4, 18]"}),
                 [x, b] {
                   conv2d(x, leaf({4, 18}), b);
                 },
                 {x, b}});
    r.push_back(
        {"conv2d: zero spatial extent",
         raises<ShapeError>("conv2d", {"input [1, 2, 0, 5]", "zero channel or spatial extent"}),
         [w, b] {
           conv2d(zeros<double>({1, 2, 0, 5}), w, b);
         },
         {w, b}});
    r.push_back({"conv2d: weight with a zero extent",
                 raises<ShapeError>("conv2d", {"weight [4, 2, 0, 3] has a zero extent"}),
                 [x] {
                   conv2d(x, zeros<double>({4, 2, 0, 3}));
                 },
                 {x}});
    r.push_back({"conv2d: undefined input",
                 raises<ValueError>("conv2d", {"input is undefined"}),
                 [u, w] { conv2d(u, w); },
                 {w}});
    r.push_back({"conv2d: undefined weight",
                 raises<ValueError>("conv2d", {"weight is undefined"}),
                 [x, u] { conv2d(x, u); },
                 {x}});
    r.push_back({"conv2d: stride 0",
                 raises<ValueError>("conv2d", {"stride must be in [1, INT_MAX]", "got [0, 0]"}),
                 [x, w, b] { conv2d(x, w, b, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: negative stride width",
                 raises<ValueError>("conv2d", {"stride must be in [1, INT_MAX]", "got [1, -1]"}),
                 [x, w, b] {
                   conv2d(x, w, b, {1, -1});
                 },
                 {x, w, b}});
    r.push_back({"conv2d: stride above INT_MAX",
                 raises<ValueError>("conv2d", {"stride must be in [1, INT_MAX]",
                                               "got [1099511627776, 1099511627776]"}),
                 [x, w, b] { conv2d(x, w, b, std::int64_t(1) << 40); },
                 {x, w, b}});
    r.push_back({"conv2d: negative padding",
                 raises<ValueError>("conv2d", {"padding must be in [0, INT_MAX]", "got [-1, 0]"}),
                 [x, w, b] {
                   conv2d(x, w, b, 1, {-1, 0});
                 },
                 {x, w, b}});
    r.push_back({"conv2d: dilation 0",
                 raises<ValueError>("conv2d", {"dilation must be in [1, INT_MAX]", "got [0, 0]"}),
                 [x, w, b] { conv2d(x, w, b, 1, 0, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: groups 0",
                 raises<ValueError>("conv2d", {"groups must be positive", "got 0"}),
                 [x, w, b] { conv2d(x, w, b, 1, 0, 1, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: groups not dividing the input channels",
                 raises<ValueError>("conv2d", {"groups 3 does not divide the 2 input channels"}),
                 [x, w, b] { conv2d(x, w, b, 1, 0, 1, 3); },
                 {x, w, b}});
    r.push_back({"conv2d: groups not dividing the output channels",
                 raises<ValueError>("conv2d", {"groups 2 does not divide the 3 output channels"}),
                 [x] {
                   conv2d(x, leaf({3, 1, 3, 3}), D(), 1, 0, 1, 2);
                 },
                 {x}});
    r.push_back({"conv2d: weight for other input channels",
                 raises<ShapeError>("conv2d", {"the input has 2 channels, the weight expects 3"}),
                 [x] {
                   conv2d(x, leaf({4, 3, 3, 3}));
                 },
                 {x}});
    r.push_back({"conv2d: bias of the wrong size",
                 raises<ShapeError>("conv2d", {"bias must be [4]", "got [3]"}),
                 [x, w] { conv2d(x, w, leaf({3})); },
                 {x, w}});
    r.push_back(
        {"conv2d: kernel larger than the input",
         raises<ShapeError>("conv2d", {"kernel [7, 7]", "larger than the padded input [5, 5]"}),
         [x] {
           conv2d(x, leaf({4, 2, 7, 7}));
         },
         {x}});
    r.push_back({"conv2d: dilated kernel larger than the input",
                 raises<ShapeError>("conv2d", {"kernel [3, 3] with dilation [3, 3]",
                                               "larger than the padded input"}),
                 [x, w, b] { conv2d(x, w, b, 1, 0, 3); },
                 {x, w, b}});
  }
  {
    // groups 2: 4 input channels, 6 output channels
    const D x = ones<double>({2, 4, 5, 5}, true), w = ones<double>({6, 2, 3, 3}, true);
    const D none;
    r.push_back({"grouped: input rank",
                 raises<ShapeError>("conv2d", {"input", "[4, 5, 5]"}),
                 [w, none] {
                   conv2d(ones<double>({4, 5, 5}), w, none, 1, 0, 1, 2);
                 },
                 {w}});
    r.push_back({"grouped: weight rank",
                 raises<ShapeError>("conv2d", {"weight", "[6, 2, 3]"}),
                 [x, none] {
                   conv2d(x, ones<double>({6, 2, 3}), none, 1, 0, 1, 2);
                 },
                 {x}});
    r.push_back({"grouped: channels",
                 raises<ShapeError>("conv2d", {"4 channels", "expects 2"}),
                 [x, w] { conv2d(x, w); },
                 {x, w}});
    r.push_back({"grouped: groups not dividing input channels",
                 raises<ValueError>("conv2d", {"groups 3", "4 input channels"}),
                 [x, none] {
                   conv2d(x, ones<double>({6, 1, 3, 3}), none, 1, 0, 1, 3);
                 },
                 {x}});
    r.push_back({"grouped: groups not dividing output channels",
                 raises<ValueError>("conv2d", {"groups 2", "5 output channels"}),
                 [x, none] {
                   conv2d(x, ones<double>({5, 2, 3, 3}), none, 1, 0, 1, 2);
                 },
                 {x}});
    r.push_back({"grouped: groups zero",
                 raises<ValueError>("conv2d", {"groups", "0"}),
                 [x, w, none] { conv2d(x, w, none, 1, 0, 1, 0); },
                 {x, w}});
    r.push_back(
        {"grouped: kernel larger than the padded input",
         raises<ShapeError>("conv2d", {"kernel [6, 3]", "[5, 5]", "output size would be 0"}),
         [x, none] {
           conv2d(x, ones<double>({6, 2, 6, 3}), none, 1, 0, 1, 2);
         },
         {x}});
    r.push_back({"grouped: dilated kernel larger than the padded input",
                 raises<ShapeError>("conv2d", {"dilation [3, 3]", "output size would be 0"}),
                 [x, w, none] { conv2d(x, w, none, 1, 0, 3, 2); },
                 {x, w}});
    r.push_back({"grouped: zero stride",
                 raises<ValueError>("conv2d", {"stride", "[1, 0]"}),
                 [x, w, none] {
                   conv2d(x, w, none, {1, 0}, 0, 1, 2);
                 },
                 {x, w}});
    r.push_back({"grouped: negative stride",
                 raises<ValueError>("conv2d", {"stride", "[-2, -2]"}),
                 [x, w, none] { conv2d(x, w, none, -2, 0, 1, 2); },
                 {x, w}});
    r.push_back({"grouped: zero dilation",
                 raises<ValueError>("conv2d", {"dilation", "[0, 0]"}),
                 [x, w, none] { conv2d(x, w, none, 1, 0, 0, 2); },
                 {x, w}});
    r.push_back({"grouped: negative padding",
                 raises<ValueError>("conv2d", {"padding", "[0, -1]"}),
                 [x, w, none] {
                   conv2d(x, w, none, 1, {0, -1}, 1, 2);
                 },
                 {x, w}});
    r.push_back({"grouped: bias shape",
                 raises<ShapeError>("conv2d", {"bias", "[5]"}),
                 [x, w] { conv2d(x, w, ones<double>({5}), 1, 0, 1, 2); },
                 {x, w}});
    r.push_back({"grouped: zero spatial extent",
                 raises<ShapeError>("conv2d", {"input", "[2, 4, 0, 5]"}),
                 [w, none] {
                   conv2d(ones<double>({2, 4, 0, 5}), w, none, 1, 1, 1, 2);
                 },
                 {w}});
    r.push_back({"grouped: undefined input",
                 raises<ValueError>("conv2d", {"input", "undefined"}),
                 [w, none] { conv2d(none, w); },
                 {w}});
    r.push_back({"grouped: undefined weight",
                 raises<ValueError>("conv2d", {"weight", "undefined"}),
                 [x, none] { conv2d(x, none); },
                 {x}});
  }
  if (!detail::onednn_built()) {  // the kernels stay im2col
    r.push_back({"set_conv_kernels: onednn without oneDNN",
                 raises<ValueError>("set_conv_kernels", {"onednn", "built without oneDNN"}),
                 [] { detail::set_conv_kernels(detail::ConvKernels::onednn); },
                 {}});
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_conv
