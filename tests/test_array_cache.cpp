// The array cache (xgrad/memory.hpp): which arrays it keeps, how it hands them
// back, its limit, and that reuse never changes a result or an array in use.
#include <boost/test/unit_test.hpp>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/memory.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_array_cache)

using namespace xgrad;
using xgrad_test::equal_arrays;

namespace {

// 64K floats = 256 KiB: above the 128 KiB threshold.
constexpr std::size_t kLarge = std::size_t(1) << 16;

// Each case starts from an empty cache at the default limit and leaves it so.
struct FreshCache {
  std::size_t saved_limit = cache_limit();
  FreshCache() {
    empty_cache();
    set_cache_limit(std::size_t(256) << 20);
  }
  ~FreshCache() {
    set_cache_limit(saved_limit);
    empty_cache();
  }
};

xt::xarray<float> filled(const Shape& shape, float value) {
  xt::xarray<float> a = xt::xarray<float>::from_shape(shape);
  a.fill(value);
  return a;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(array_cache, FreshCache)

BOOST_AUTO_TEST_CASE(the_default_limit_is_256_mib) {
  BOOST_TEST(cache_limit() == std::size_t(256) << 20);
  BOOST_TEST(cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_recycled_large_array_is_handed_back_with_its_storage) {
  xt::xarray<float> a = filled({kLarge}, 1.f);
  const float* storage = a.data();
  detail::recycle(a);
  BOOST_TEST(a.size() == 0u);  // taken
  BOOST_TEST(cached_bytes() == kLarge * sizeof(float));
  // Any shape with the same element count reuses it.
  const xt::xarray<float> b = detail::new_array<float>({256, 256});
  BOOST_TEST(b.data() == storage);
  BOOST_TEST((b.shape() == Shape{256, 256}));
  BOOST_TEST(cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(arrays_under_128_kib_are_not_cached) {
  xt::xarray<float> a = filled({32 * 1024 - 1}, 1.f);  // 4 bytes short of 128 KiB
  detail::recycle(a);
  BOOST_TEST(a.size() == 32u * 1024 - 1);  // left with its owner
  BOOST_TEST(cached_bytes() == 0u);
  xt::xarray<float> b = filled({32 * 1024}, 1.f);  // exactly 128 KiB
  detail::recycle(b);
  BOOST_TEST(cached_bytes() == 128u * 1024);
}

BOOST_AUTO_TEST_CASE(another_element_count_or_type_gets_a_new_array) {
  xt::xarray<float> a = filled({kLarge}, 1.f);
  const float* storage = a.data();
  detail::recycle(a);
  const xt::xarray<float> longer = detail::new_array<float>({kLarge + 1});
  BOOST_TEST(longer.data() != storage);
  const xt::xarray<double> as_double = detail::new_array<double>({kLarge});
  BOOST_TEST(static_cast<const void*>(as_double.data()) != static_cast<const void*>(storage));
  BOOST_TEST(cached_bytes() == kLarge * sizeof(float));  // still cached
}

BOOST_AUTO_TEST_CASE(new_zeros_clears_a_reused_array) {
  xt::xarray<float> a = filled({kLarge}, 7.f);
  detail::recycle(a);
  const xt::xarray<float> z = detail::new_zeros<float>({kLarge});
  BOOST_TEST(cached_bytes() == 0u);  // it was the reused one
  BOOST_TEST(equal_arrays(z, xt::xarray<float>(xt::zeros<float>({kLarge}))));
}

BOOST_AUTO_TEST_CASE(the_newest_array_of_a_size_is_taken_first) {
  xt::xarray<float> older = filled({kLarge}, 1.f), newer = filled({kLarge}, 2.f);
  const float* newer_storage = newer.data();
  detail::recycle(older);
  detail::recycle(newer);
  BOOST_TEST(detail::new_array<float>({kLarge}).data() == newer_storage);
}

BOOST_AUTO_TEST_CASE(limit_zero_turns_caching_off) {
  set_cache_limit(0);
  xt::xarray<float> a = filled({kLarge}, 1.f);
  detail::recycle(a);
  BOOST_TEST(a.size() == kLarge);
  BOOST_TEST(cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(an_array_above_the_limit_is_not_cached) {
  set_cache_limit(kLarge * sizeof(float) - 1);
  xt::xarray<float> a = filled({kLarge}, 1.f);
  detail::recycle(a);
  BOOST_TEST(a.size() == kLarge);
  BOOST_TEST(cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(past_the_limit_the_oldest_arrays_of_either_type_go_first) {
  set_cache_limit(2 * kLarge * sizeof(double));
  xt::xarray<double> oldest = xt::xarray<double>::from_shape({kLarge});
  xt::xarray<float> middle = filled({kLarge}, 1.f);
  xt::xarray<float> newest = filled({kLarge}, 2.f);
  xt::xarray<double> last = xt::xarray<double>::from_shape({kLarge});
  const float* middle_storage = middle.data();
  detail::recycle(oldest);
  detail::recycle(middle);
  detail::recycle(newest);
  BOOST_TEST(cached_bytes() == 2 * kLarge * sizeof(double));  // exactly at the limit
  detail::recycle(last);  // over by one double array: the oldest, a double, goes
  BOOST_TEST(cached_bytes() == kLarge * (sizeof(double) + 2 * sizeof(float)));
  detail::recycle(last);                                       // already taken: nothing changes
  set_cache_limit(kLarge * (sizeof(double) + sizeof(float)));  // lowering evicts at once
  BOOST_TEST(cached_bytes() == kLarge * (sizeof(double) + sizeof(float)));
  // `middle` was the oldest left: gone, so a float request gets `newest`.
  BOOST_TEST(detail::new_array<float>({kLarge}).data() != middle_storage);
  BOOST_TEST(cached_bytes() == kLarge * sizeof(double));
}

BOOST_AUTO_TEST_CASE(empty_cache_frees_everything) {
  xt::xarray<float> a = filled({kLarge}, 1.f);
  xt::xarray<double> b = xt::xarray<double>::from_shape({kLarge});
  detail::recycle(a);
  detail::recycle(b);
  BOOST_TEST(cached_bytes() > 0u);
  empty_cache();
  BOOST_TEST(cached_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(a_tensor_s_data_is_recycled_when_its_last_handle_goes) {
  const float* storage = nullptr;
  {
    Tensor<float> t(filled({kLarge}, 3.f));
    storage = t.data().data();
    Tensor<float> alias = t;
    { const Tensor<float> gone = std::move(alias); }  // t still holds the storage
    BOOST_TEST(cached_bytes() == 0u);
    // A new array of that size must not get t's storage while t lives.
    const xt::xarray<float> other = detail::new_array<float>({kLarge});
    BOOST_TEST(other.data() != storage);
    BOOST_TEST(t.data()(0) == 3.f);
  }
  BOOST_TEST(cached_bytes() == kLarge * sizeof(float));
  BOOST_TEST(detail::new_array<float>({kLarge}).data() == storage);
}

BOOST_AUTO_TEST_CASE(a_training_step_reuses_the_previous_step_s_arrays) {
  // conv -> relu -> max pool -> sum of squares, batch 8: every activation and
  // gradient of the first conv is 8*4*32*32 floats = 128 KiB.
  const Tensor<float> x = randn<float>({8, 1, 32, 32});
  Tensor<float> w = randn<float>({4, 1, 3, 3}, 0.f, 1.f, true);
  const auto step = [&] {
    w.zero_grad();
    auto y = max_pool2d(relu(conv2d(x, w, Tensor<float>(), 1, 1)), 2);
    sum(y * y).backward();
  };
  step();
  const std::size_t after_first = cached_bytes();
  BOOST_TEST(after_first > 0u);
  step();  // takes what the first step left and gives it back
  BOOST_TEST(cached_bytes() == after_first);
}

BOOST_AUTO_TEST_CASE(reuse_does_not_change_results) {
  const auto train = [] {
    Tensor<float> x(xt::xarray<float>(xt::linspace<float>(-1.f, 1.f, 8 * 2 * 24 * 24)));
    x = x.reshape({8, 2, 24, 24});
    xt::xarray<float> w0 = xt::linspace<float>(-0.5f, 0.5f, 6 * 2 * 5 * 5);
    w0.reshape({6, 2, 5, 5});
    Tensor<float> w(w0, true);
    const Labels labels = {0, 1, 2, 3, 0, 1, 2, 3};
    for (int s = 0; s < 3; ++s) {
      w.zero_grad();
      auto h = max_pool2d(relu(conv2d(x, w, Tensor<float>(), 1, 2)), 4);  // [8, 6, 6, 6]
      auto logits = mean(h.reshape({8, 6, 36}), 2);
      auto loss = cross_entropy(logits.narrow(1, 0, 4), labels);
      loss.backward();
      NoGradGuard no_grad;
      w.copy_(w - w.grad() * 0.5f);
    }
    return xt::xarray<float>(w.data());
  };
  set_cache_limit(0);
  const xt::xarray<float> without = train();
  set_cache_limit(std::size_t(256) << 20);
  const xt::xarray<float> with = train();
  BOOST_TEST(equal_arrays(with, without));
}

BOOST_AUTO_TEST_CASE(threads_may_recycle_and_take_at_once) {
  // Under ThreadSanitizer (CI stage 5) a missing lock is a reported race.
  const auto churn = [](float value) {
    for (int i = 0; i < 200; ++i) {
      xt::xarray<float> a = detail::new_array<float>({kLarge});
      a(0) = value;
      detail::recycle(a);
    }
  };
  std::thread other(churn, 1.f);
  churn(2.f);
  other.join();
  // Each thread holds at most one array at a time: at most two are cached.
  BOOST_TEST(cached_bytes() <= 2 * kLarge * sizeof(float));
  BOOST_TEST(cached_bytes() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // test_array_cache
