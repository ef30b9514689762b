// Allocation failure and impossible sizes become typed errors. An allocator
// that refuses large requests (alloc_limit.hpp, which replaces the global
// operator new and so has this executable to itself) stands in for a machine
// that runs out of memory.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "alloc_limit.hpp"
#include "test_util.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/random.hpp"

using namespace xgrad;
using xgrad_test::AllocationLimit;

namespace {
using D = Tensor<double>;
}  // namespace

BOOST_AUTO_TEST_SUITE(test_allocation)

// Requests above 1 GiB fail in these cases, as they would on a small machine.
constexpr std::size_t kLimit = std::size_t(1) << 30;

BOOST_AUTO_TEST_CASE(creating_a_tensor_too_large_for_memory_is_a_resource_error,
                     *xgrad_test::needs_allocation_limit()) {
  AllocationLimit limit(kLimit);
  Generator gen(1);
  const std::vector<std::pair<const char*, std::function<void()>>> calls = {
      {"zeros", [] { zeros<float>({std::size_t(1) << 40}); }},
      {"ones",
       [] {
         ones<double>({std::size_t(1) << 20, std::size_t(1) << 20});
       }},
      {"full", [] { full<float>({std::size_t(1) << 40}, 2.0f); }},
      {"rand", [&gen] { rand<double>({std::size_t(1) << 40}, gen); }},
      {"randn", [&gen] { randn<float>({std::size_t(1) << 40}, gen); }},
      {"randint", [&gen] { randint<float>(0, 9, {std::size_t(1) << 40}, gen); }},
      {"arange", [] { arange<double>(0.0, 1e15, 1.0); }},
  };
  for (const auto& c : calls) {
    BOOST_TEST_CONTEXT(c.first) {
      BOOST_CHECK_EXCEPTION(c.second(), ResourceError,
                            xgrad_test::mentions<ResourceError>(std::string(c.first) + ":"));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_op_whose_result_does_not_fit_is_a_resource_error_naming_the_op,
                     *xgrad_test::needs_allocation_limit()) {
  const D x = ones<double>({256, 1024}, true);  // 2 MiB
  const xgrad_test::TensorSnapshot before(x);
  AllocationLimit limit(std::size_t(1) << 20);
  BOOST_CHECK_EXCEPTION(exp(x), ResourceError, xgrad_test::mentions<ResourceError>("Exp"));
  BOOST_CHECK_EXCEPTION(matmul(x, transpose(x)), ResourceError,
                        xgrad_test::mentions<ResourceError>("memory"));
  BOOST_TEST(before.same());
}

BOOST_AUTO_TEST_CASE(backward_out_of_memory_is_a_resource_error_and_can_be_retried,
                     *xgrad_test::needs_allocation_limit()) {
  const D x = ones<double>({256, 1024}, true);
  const D y = sum(exp(x) * 2.0);
  {
    AllocationLimit limit(std::size_t(1) << 20);
    BOOST_CHECK_EXCEPTION(y.backward(), ResourceError,
                          xgrad_test::mentions<ResourceError>("backward"));
    BOOST_TEST(!x.grad().defined());
  }
  y.backward();  // the graph was left as it was
  BOOST_TEST(x.grad().data()(0, 0) == 2.0 * std::exp(1.0));
}

BOOST_AUTO_TEST_CASE(an_impossible_shape_is_a_value_error_even_when_empty) {
  // 0 elements, but the strides (products of the non-zero extents) overflow.
  BOOST_CHECK_EXCEPTION(zeros<double>({0, std::size_t(1) << 32, std::size_t(1) << 32}), ValueError,
                        xgrad_test::mentions<ValueError>("zeros: shape"));
  BOOST_CHECK_EXCEPTION(ones<float>({std::size_t(1) << 61}), ValueError,
                        xgrad_test::mentions<ValueError>("ones: shape"));
  BOOST_TEST(zeros<double>({0, std::size_t(1) << 20, std::size_t(1) << 20}).numel() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()  // test_allocation
