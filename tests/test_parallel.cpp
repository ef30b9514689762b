// Intra-op threads: set_num_threads / get_num_threads, detail::parallel_for's
// contract, and, for every op family that splits its work, bit-identical
// results with 1 and 2 threads on inputs large enough to be split.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "test_util.hpp"
#include "xgrad/detail/conv_kernels.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/parallel.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_parallel)

using namespace xgrad;
using xgrad_test::equal_arrays;

namespace {

using Arrays = std::vector<xt::xarray<float>>;

// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

// Runs f with 1 thread, with 2 and with 3 (an odd count, so that threads
// take blocks of a split product unevenly); every array must match bit for
// bit.
void same_with_1_and_2_threads(const std::function<Arrays()>& f) {
  ThreadCountGuard guard;
  set_num_threads(1);
  const Arrays one = f();
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    const Arrays many = f();
    BOOST_REQUIRE_EQUAL(one.size(), many.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      BOOST_TEST_CONTEXT(threads << " threads, result " << i) {
        BOOST_TEST(equal_arrays(one[i], many[i]));
      }
    }
  }
}

// Large enough to be split: well over 2 * kElementGrain elements.
constexpr std::size_t kLarge = 5 * detail::kElementGrain + 7;

Tensor<float> random(const Shape& shape, std::uint64_t seed, bool requires_grad = false,
                     float lo = -2, float hi = 2) {
  Generator gen(seed);
  return rand<float>(shape, gen, lo, hi, requires_grad);
}

xt::xarray<float> grad_of(const Tensor<float>& t) { return t.grad().data(); }

// A per-channel parameter: value + step * c for channel c.
Tensor<float> per_channel(std::size_t channels, float value, float step, bool requires_grad) {
  xt::xarray<float> a = xt::xarray<float>::from_shape({channels});
  for (std::size_t c = 0; c < channels; ++c) a(c) = value + step * float(c);
  return Tensor<float>(std::move(a), requires_grad);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(thread_count)

// meson runs this suite twice: as is, and with XGRAD_NUM_THREADS=3
// ("parallel_env"). Every case restores the count, so it is the default here.
BOOST_AUTO_TEST_CASE(the_default_is_XGRAD_NUM_THREADS_else_the_cores) {
  const char* env = std::getenv("XGRAD_NUM_THREADS");
  const int expected =
      env ? std::atoi(env) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  BOOST_TEST(get_num_threads() == expected);
}

BOOST_AUTO_TEST_CASE(set_num_threads_sets_what_get_num_threads_returns) {
  ThreadCountGuard guard;
  for (int n : {1, 2, 3}) {
    set_num_threads(n);
    BOOST_TEST(get_num_threads() == n);
  }
}

BOOST_AUTO_TEST_CASE(set_num_threads_refuses_a_count_below_one_and_keeps_the_old_one) {
  ThreadCountGuard guard;
  set_num_threads(2);
  for (int n : {0, -1}) {
    BOOST_TEST_CONTEXT("n = " << n) {
      BOOST_CHECK_EXCEPTION(set_num_threads(n), ValueError,
                            xgrad_test::mentions<ValueError>("set_num_threads: n must be >= 1"));
      BOOST_TEST(get_num_threads() == 2);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(parallel_for_contract)

BOOST_AUTO_TEST_CASE(small_ranges_run_once_on_the_calling_thread) {
  ThreadCountGuard guard;
  set_num_threads(2);
  const std::size_t grain = 100;
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  std::vector<std::thread::id> threads;
  detail::parallel_for(2 * grain - 1, grain, [&](std::size_t b, std::size_t e) {
    calls.emplace_back(b, e);
    threads.push_back(std::this_thread::get_id());
  });
  BOOST_REQUIRE_EQUAL(calls.size(), 1u);
  BOOST_TEST(calls[0].first == 0u);
  BOOST_TEST(calls[0].second == 2 * grain - 1);
  BOOST_TEST((threads[0] == std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(an_empty_range_calls_nothing) {
  int calls = 0;
  detail::parallel_for(0, 1, [&](std::size_t, std::size_t) { ++calls; });
  BOOST_TEST(calls == 0);
}

// Each index exactly once, in ranges of at least `grain` indices (less the
// up to 15 of the alignment to 16), at most one range per thread.
BOOST_AUTO_TEST_CASE(large_ranges_cover_every_index_once) {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 3}) {
    BOOST_TEST_CONTEXT(threads << " threads") {
      set_num_threads(threads);
      const std::size_t n = 10007, grain = 1000;
      std::vector<int> hits(n, 0);
      std::vector<std::size_t> sizes;
      std::mutex m;
      detail::parallel_for(n, grain, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) ++hits[i];
        const std::lock_guard<std::mutex> lock(m);
        sizes.push_back(e - b);
      });
      BOOST_TEST(std::count(hits.begin(), hits.end(), 1) == static_cast<long>(n));
      BOOST_TEST(sizes.size() <= static_cast<std::size_t>(threads));
      for (std::size_t s : sizes) BOOST_TEST(s + 15 >= grain);
    }
  }
}

// Rows (grain below 16) are not aligned to 16: 20 rows on 2 threads are two
// ranges of 10, not one of 16 and one of 4.
BOOST_AUTO_TEST_CASE(a_few_costly_rows_split_evenly) {
  ThreadCountGuard guard;
  set_num_threads(2);
  std::vector<std::size_t> sizes;
  std::mutex m;
  detail::parallel_for(20, 1, [&](std::size_t b, std::size_t e) {
    const std::lock_guard<std::mutex> lock(m);
    sizes.push_back(e - b);
  });
  BOOST_TEST(sizes == (std::vector<std::size_t>{10, 10}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_exception_in_a_range_reaches_the_caller) {
  ThreadCountGuard guard;
  set_num_threads(2);
  // The range holding the last index throws, on whichever thread runs it.
  BOOST_CHECK_THROW(detail::parallel_for(1000, 10,
                                         [](std::size_t, std::size_t e) {
                                           if (e == 1000) throw ValueError("range");
                                         }),
                    ValueError);
}

BOOST_AUTO_TEST_SUITE_END()

// Each family on inputs past the grain: forward results and gradients equal
// bit for bit with 1 and 2 threads.
BOOST_AUTO_TEST_SUITE(one_and_two_threads_agree)

BOOST_AUTO_TEST_CASE(elementwise_maps_and_broadcasts) {
  same_with_1_and_2_threads([] {
    auto a = random({kLarge}, 1, true), b = random({kLarge}, 2, true);
    auto m = random({500, 400}, 3, true), row = random({400}, 4, true);
    auto y = exp(a * b + a) / (b * b + 1.0f);
    auto z = m * row + 0.5f;  // broadcast over rows
    sum(y).backward();
    sum(z * z).backward();
    return Arrays{y.data(), z.data(), grad_of(a), grad_of(b), grad_of(m), grad_of(row)};
  });
}

BOOST_AUTO_TEST_CASE(reductions_over_rows_columns_and_everything) {
  same_with_1_and_2_threads([] {
    auto a = random({kLarge}, 5, true);
    auto m = random({700, 300}, 6, true);
    auto total = sum(a), avg = mean(m);
    auto cols = sum(m, {0}), rows = sum(m, {1}), cube = mean(reshape(m, {70, 10, 300}), {1});
    (total + avg).backward();
    sum(cols * cols).backward();
    return Arrays{total.data(), avg.data(), cols.data(), rows.data(),
                  cube.data(),  grad_of(a), grad_of(m)};
  });
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_along_each_axis) {
  same_with_1_and_2_threads([] {
    auto x = random({800, 250}, 7, true);
    const auto w = random({800, 250}, 8);
    auto s1 = softmax(x, -1), s0 = softmax(x, 0), l1 = log_softmax(x, -1), l0 = log_softmax(x, 0);
    sum((s1 + s0 + l1 + l0) * w).backward();
    return Arrays{s1.data(), s0.data(), l1.data(), l0.data(), grad_of(x)};
  });
}

BOOST_AUTO_TEST_CASE(losses_by_rows_and_elements) {
  same_with_1_and_2_threads([] {
    auto logits = random({20000, 10}, 9, true);
    Labels labels = xt::xarray<std::int64_t>::from_shape({20000});
    for (std::size_t i = 0; i < labels.size(); ++i) labels(i) = static_cast<std::int64_t>(i % 10);
    auto x = random({kLarge}, 10, true);
    const auto target = random({kLarge}, 11);
    auto ce = cross_entropy(logits, labels), mse = mse_loss(x, target);
    (ce + mse).backward();
    return Arrays{ce.data(), mse.data(), grad_of(logits), grad_of(x)};
  });
}

// Products of 6M multiply-adds, split over rows of C when it is taller than
// wide and over columns when wider; their gradients take each transpose flag.
// Products cut into 2 and 3 blocks (by rows of the tall one, by columns of
// the wide one; blas.cpp), forward and backward.
BOOST_AUTO_TEST_CASE(matrix_products_tall_and_wide) {
  same_with_1_and_2_threads([] {
    auto a = random({300, 200}, 24, true), b = random({200, 100}, 25, true);
    auto c = random({40, 300}, 26, true), d = random({300, 500}, 27, true);
    auto w = random({120, 300}, 28, true), bias = random({120}, 29, true);
    auto tall = matmul(a, b), wide = matmul(c, d), lin = linear(c, w, bias);
    const auto s1 = random({300, 100}, 30), s2 = random({40, 500}, 31), s3 = random({40, 120}, 32);
    (sum(tall * s1) + sum(wide * s2) + sum(lin * s3)).backward();
    return Arrays{tall.data(), wide.data(), lin.data(), grad_of(a),   grad_of(b),
                  grad_of(c),  grad_of(d),  grad_of(w), grad_of(bias)};
  });
}

BOOST_AUTO_TEST_CASE(conv2d_over_samples) {
  same_with_1_and_2_threads([] {
    auto x = random({16, 3, 24, 24}, 17, true);
    auto w = random({8, 3, 3, 3}, 18, true), b = random({8}, 19, true);
    auto y = conv2d(x, w, b, 1, 1);
    const auto seed = random({16, 8, 24, 24}, 20);
    sum(y * seed).backward();
    return Arrays{y.data(), grad_of(x), grad_of(w), grad_of(b)};
  });
}

// On each kernel set float conv2d has in this build (oneDNN: single-threaded
// calls on chunks of samples set by the batch; 13 samples make uneven chunks):
// LeNet's two convolutions, a padded 3x3 one and a grouped strided one.
BOOST_AUTO_TEST_CASE(conv2d_on_every_kernel_set) {
  const detail::ConvKernels saved = detail::conv_kernels();
  std::vector<detail::ConvKernels> sets{detail::ConvKernels::im2col};
  if (detail::onednn_built()) sets.push_back(detail::ConvKernels::onednn);
  for (const auto kernels : sets) {
    detail::set_conv_kernels(kernels);
    BOOST_TEST_CONTEXT((kernels == detail::ConvKernels::onednn ? "onednn" : "im2col")) {
      same_with_1_and_2_threads([] {
        auto x1 = random({13, 1, 28, 28}, 40, true);
        auto w1 = random({6, 1, 5, 5}, 41, true), b1 = random({6}, 42, true);
        auto y1 = conv2d(x1, w1, b1, 1, 2);
        auto w2 = random({16, 6, 5, 5}, 43, true), b2 = random({16}, 44, true);
        auto y2 = conv2d(y1, w2, b2);
        auto x3 = random({13, 16, 20, 20}, 45, true), w3 = random({32, 16, 3, 3}, 46, true);
        auto y3 = conv2d(x3, w3, Tensor<float>(), 1, 1);
        auto w4 = random({8, 4, 3, 3}, 47, true);
        auto y4 = conv2d(x3, w4, Tensor<float>(), 2, 1, 1, 4);
        const auto s2 = random(y2.shape(), 48), s3 = random(y3.shape(), 49),
                   s4 = random(y4.shape(), 50);
        (sum(y2 * s2) + sum(y3 * s3) + sum(y4 * s4)).backward();
        return Arrays{y1.data(),   y2.data(),   y3.data(),   y4.data(),   grad_of(x1), grad_of(w1),
                      grad_of(b1), grad_of(w2), grad_of(b2), grad_of(x3), grad_of(w3), grad_of(w4)};
      });
    }
  }
  detail::set_conv_kernels(saved);
}

// A per-sample weight-gradient product over 2M multiply-adds: samples one at a
// time, each im2col split by channel and each gemm by rows of dW.
BOOST_AUTO_TEST_CASE(conv2d_with_a_large_product_per_sample) {
  same_with_1_and_2_threads([] {
    auto x = random({3, 16, 32, 32}, 35, true);
    auto w = random({32, 16, 3, 3}, 36, true);
    auto y = conv2d(x, w, Tensor<float>(), 1, 1);
    const auto seed = random({3, 32, 32, 32}, 37);
    sum(y * seed).backward();
    return Arrays{y.data(), grad_of(x), grad_of(w)};
  });
}

BOOST_AUTO_TEST_CASE(pooling_over_planes) {
  same_with_1_and_2_threads([] {
    auto x = random({16, 8, 32, 32}, 21, true);
    auto mx = max_pool2d(x, 2), avg = avg_pool2d(x, 3, 2, 1), ada = adaptive_avg_pool2d(x, 5);
    const auto w1 = random({16, 8, 16, 16}, 22), w2 = random({16, 8, 16, 16}, 23);
    (sum(mx * w1) + sum(avg * w2) + sum(ada)).backward();
    return Arrays{mx.data(), avg.data(), ada.data(), grad_of(x)};
  });
}

BOOST_AUTO_TEST_CASE(optimizer_updates) {
  same_with_1_and_2_threads([] {
    auto w1 = random({kLarge}, 12, true), w2 = random({kLarge}, 13, true);
    const auto g = random({kLarge}, 14);
    optim::SGD<float> sgd({w1}, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
    optim::Adam<float> adam({w2}, optim::AdamOptions(0.01).weight_decay(0.1));
    for (int step = 0; step < 3; ++step) {
      sgd.zero_grad();
      adam.zero_grad();
      sum(w1 * g).backward();
      sum(w2 * w2 * g).backward();
      sgd.step();
      adam.step();
    }
    return Arrays{w1.data(), w2.data()};
  });
}

BOOST_AUTO_TEST_CASE(apot_and_uniform_fake_quantize) {
  same_with_1_and_2_threads([] {
    auto x = random({kLarge}, 15, true, -0.2f, 1.2f);
    quant::APoTObserver<float> observer(4, 2);
    observer.set_min_val(0.0f);
    observer.set_max_val(1.0f);
    const auto q = observer.calculate_qparams(false);
    const auto seed = random({kLarge}, 16);
    auto apot = quant::fake_quantize_APoT(x, q);
    apot.backward(seed.data());
    const xt::xarray<float> apot_grad = grad_of(x);
    x.zero_grad();
    auto uniform = quant::fake_quantize_per_tensor_affine(x, 1.0 / 15, 0, 0, 15);
    uniform.backward(seed.data());
    const auto codes = quant::quantize_APoT(x.detach(), q).int_repr();
    return Arrays{apot.data(), apot_grad, uniform.data(), grad_of(x), xt::cast<float>(codes)};
  });
}

BOOST_AUTO_TEST_CASE(weight_standardization_and_its_gradient) {
  same_with_1_and_2_threads([] {
    auto w = random({kLarge}, 33, true, -0.3f, 0.5f);
    const auto seed = random({kLarge}, 34);
    auto z = quant::weight_standardize(w, 1e-5);
    z.backward(seed.data());
    return Arrays{z.data(), grad_of(w), xt::xarray<float>{quant::weight_std(w)}};
  });
}

BOOST_AUTO_TEST_CASE(rcf_and_learnable_per_tensor_fake_quantize) {
  same_with_1_and_2_threads([] {
    auto x = random({kLarge}, 24, true, -0.5f, 1.5f);
    const auto seed = random({kLarge}, 25);
    auto alpha = per_channel(1, 0.9f, 0, true);
    auto rcf =
        quant::rcf_fake_quantize(x, alpha, quant::apot_unsigned_levels(4, 2).values<float>(), 0.01);
    rcf.backward(seed.data());
    const xt::xarray<float> rcf_grad = grad_of(x);
    x.zero_grad();
    // zero_point 2.5: the forward and backward roundings of a half differ.
    auto scale = per_channel(1, 0.07f, 0, true), zero_point = per_channel(1, 2.5f, 0, true);
    auto lsq = quant::fake_quantize_learnable_per_tensor_affine(x, scale, zero_point, 0, 15, 0.02);
    lsq.backward(seed.data());
    return Arrays{rcf.data(), rcf_grad,       grad_of(alpha),     lsq.data(),
                  grad_of(x), grad_of(scale), grad_of(zero_point)};
  });
}

// Channels along a middle axis (rows of 128) and along the first (many
// channels, each a long row): both split over channels or rows.
BOOST_AUTO_TEST_CASE(per_channel_and_learnable_per_channel_fake_quantize) {
  for (const auto& [shape, axis] :
       std::vector<std::pair<Shape, std::ptrdiff_t>>{{{64, 40, 128}, 1}, {{300, 800}, 0}}) {
    BOOST_TEST_CONTEXT("shape " << to_string(shape) << ", axis " << axis) {
      same_with_1_and_2_threads([&shape = shape, axis = axis] {
        const std::size_t channels = shape[std::size_t(axis)];
        auto x = random(shape, 26, true, -1.0f, 1.0f);
        const auto seed = random(shape, 27);
        const auto fixed_scale = per_channel(channels, 0.01f, 0.0003f, false);
        const auto fixed_zp = per_channel(channels, 100, 0, false);
        auto pc = quant::fake_quantize_per_channel_affine(x, fixed_scale, fixed_zp, axis, 0, 255);
        pc.backward(seed.data());
        const xt::xarray<float> pc_grad = grad_of(x);
        x.zero_grad();
        auto scale = per_channel(channels, 0.01f, 0.0003f, true);
        auto zero_point = per_channel(channels, 100.5f, 0.25f, true);
        auto lsq = quant::fake_quantize_learnable_per_channel_affine(x, scale, zero_point, axis, 0,
                                                                     255, 0.03);
        lsq.backward(seed.data());
        return Arrays{pc.data(),  pc_grad,        lsq.data(),
                      grad_of(x), grad_of(scale), grad_of(zero_point)};
      });
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // test_parallel
