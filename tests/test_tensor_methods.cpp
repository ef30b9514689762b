// Method forms (t.sum(), t.matmul(b), ...) are aliases of the free functions:
// same values, same graph; plus the call forms a libtorch user types first
// (concat({a, b}, 0), sum(a, 1, true)).
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/ops/slicing.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_tensor_methods)

using namespace xgrad;
using xgrad_test::array_of;
using xgrad_test::equal_arrays;

namespace {

Tensor<double> sample(std::uint64_t seed, const Shape& shape) {
  Generator gen(seed);
  return rand<double>(shape, gen, 0.5, 2.0, true);  // positive: log and sqrt are defined
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_method_equals_its_free_function_forward_and_backward) {
  const Tensor<double> a = sample(1, {2, 3}), b = sample(2, {3, 4});
  using Fn = std::function<Tensor<double>(const Tensor<double>&)>;
  struct Case {
    const char* what;
    Fn method, free;
  };
  const std::vector<Case> cases = {
      {"sum()", [](auto& t) { return t.sum(); }, [](auto& t) { return sum(t); }},
      {"sum(dim, keepdim)", [](auto& t) { return t.sum(1, true); },
       [](auto& t) { return sum(t, Axes{1}, true); }},
      {"sum(dims)",
       [](auto& t) {
         return t.sum({0, 1});
       },
       [](auto& t) {
         return sum(t, Axes{0, 1});
       }},
      {"mean()", [](auto& t) { return t.mean(); }, [](auto& t) { return mean(t); }},
      {"mean(dim)", [](auto& t) { return t.mean(-1); }, [](auto& t) { return mean(t, Axes{-1}); }},
      {"max(dim)", [](auto& t) { return t.max(0); }, [](auto& t) { return max(t, 0); }},
      {"matmul", [&](auto& t) { return t.matmul(b); }, [&](auto& t) { return matmul(t, b); }},
      {"reshape",
       [](auto& t) {
         return t.reshape({3, -1});
       },
       [](auto& t) {
         return reshape(t, {3, -1});
       }},
      {"t()", [](auto& t) { return t.t(); }, [](auto& t) { return transpose(t); }},
      {"permute",
       [](auto& t) {
         return t.permute({1, 0});
       },
       [](auto& t) {
         return transpose(t, {1, 0});
       }},
      {"slice", [](auto& t) { return t.slice(1, 0, 3, 2); },
       [](auto& t) { return slice(t, 1, 0, 3, 2); }},
      {"narrow", [](auto& t) { return t.narrow(1, 1, 2); },
       [](auto& t) { return narrow(t, 1, 1, 2); }},
      {"select", [](auto& t) { return t.select(0, 1); }, [](auto& t) { return select(t, 0, 1); }},
      {"index_select",
       [](auto& t) {
         return t.index_select(1, {2, 0});
       },
       [](auto& t) {
         return index_select(t, 1, {2, 0});
       }},
      {"relu", [](auto& t) { return t.relu(); }, [](auto& t) { return relu(t); }},
      {"sigmoid", [](auto& t) { return t.sigmoid(); }, [](auto& t) { return sigmoid(t); }},
      {"tanh", [](auto& t) { return t.tanh(); }, [](auto& t) { return tanh(t); }},
      {"softmax", [](auto& t) { return t.softmax(1); }, [](auto& t) { return softmax(t, 1); }},
      {"log_softmax", [](auto& t) { return t.log_softmax(0); },
       [](auto& t) { return log_softmax(t, 0); }},
      {"exp", [](auto& t) { return t.exp(); }, [](auto& t) { return exp(t); }},
      {"log", [](auto& t) { return t.log(); }, [](auto& t) { return log(t); }},
      {"sqrt", [](auto& t) { return t.sqrt(); }, [](auto& t) { return sqrt(t); }},
      {"abs", [](auto& t) { return t.abs(); }, [](auto& t) { return abs(t); }},
      {"neg", [](auto& t) { return t.neg(); }, [](auto& t) { return neg(t); }},
      {"pow", [](auto& t) { return t.pow(3.0); }, [](auto& t) { return pow(t, 3.0); }},
      {"clamp", [](auto& t) { return t.clamp(0.8, 1.5); },
       [](auto& t) { return clamp(t, 0.8, 1.5); }},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      const Tensor<double> x1 = sample(1, {2, 3}), x2 = sample(1, {2, 3});
      const Tensor<double> y1 = c.method(x1), y2 = c.free(x2);
      BOOST_TEST(equal_arrays(y1.data(), y2.data()));
      BOOST_TEST(std::string(y1.grad_fn_name()) == y2.grad_fn_name());
      sum(y1).backward();
      sum(y2).backward();
      BOOST_TEST(equal_arrays(x1.grad().data(), x2.grad().data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(argmax_and_detach_methods) {
  const auto a = tensor<float>({{1, 3}, {4, 2}}, true);
  BOOST_TEST(equal_arrays(a.argmax(1), xt::xarray<std::int64_t>{1, 0}));
  BOOST_TEST(!a.detach().requires_grad());
  BOOST_TEST(a.detach().storage() == a.storage());  // shares the data
}

BOOST_AUTO_TEST_CASE(concat_deduces_from_a_braced_list) {
  const auto a = tensor<float>({{1, 2}}), b = tensor<float>({{3, 4}});
  BOOST_TEST(equal_arrays(concat({a, b}, 0).data(), xt::xarray<float>{{1, 2}, {3, 4}}));
  BOOST_TEST(equal_arrays(concat({a, b}, 1).data(), xt::xarray<float>{{1, 2, 3, 4}}));
  BOOST_TEST(equal_arrays(concat({a, b}).data(), concat(std::vector<Tensor<float>>{a, b}).data()));
}

BOOST_AUTO_TEST_CASE(sum_and_mean_take_one_integer_axis_with_keepdim) {
  const auto a = tensor<double>({{1, 2, 3}, {4, 5, 6}});
  BOOST_TEST(equal_arrays(sum(a, 1, true).data(), array_of({2, 1}, {6, 15})));
  BOOST_TEST(equal_arrays(sum(a, 0).data(), xt::xarray<double>{5, 7, 9}));
  BOOST_TEST(equal_arrays(mean(a, -1, true).data(), array_of({2, 1}, {2, 5})));
  // A braced list is still a list of axes; {} reduces nothing (NumPy's axis=()).
  BOOST_TEST(equal_arrays(sum(a, {}).data(), a.data()));
  BOOST_TEST(equal_arrays(a.sum({}).data(), a.data()));
  BOOST_TEST(equal_arrays(sum(a, {1}).data(), xt::xarray<double>{6, 15}));
  BOOST_CHECK_THROW(sum(a, 2), ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()  // test_tensor_methods
