// Method forms (t.sum(), t.matmul(b), ...) are aliases of the free functions:
// same values, same graph; plus the call forms a libtorch user types first
// (concat({a, b}, 0), sum(a, 1, true), sizes(), size(0), item<float>(),
// Tensor<float>(std::vector), ==, <, t[i]) and what a view-like op's copy
// refuses.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/compare.hpp"
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
      {"transpose(dim0, dim1)", [](auto& t) { return t.transpose(0, 1); },
       [](auto& t) { return transpose(t, 0, 1); }},
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
      {"t[i]", [](auto& t) { return t[1]; }, [](auto& t) { return select(t, 0, 1); }},
      {"index",
       [](auto& t) {
         return t.index({indexing::Slice(), 1});
       },
       [](auto& t) {
         return index(t, {indexing::Slice(), 1});
       }},
      {"view",
       [](auto& t) {
         return t.view({3, -1});
       },
       [](auto& t) {
         return reshape(t, {3, -1});
       }},
      {"contiguous", [](auto& t) { return t.contiguous() * 1.0; }, [](auto& t) { return t * 1.0; }},
      {"unsqueeze", [](auto& t) { return t.unsqueeze(1); },
       [](auto& t) { return unsqueeze(t, 1); }},
      {"squeeze()", [](auto& t) { return t.squeeze(); }, [](auto& t) { return squeeze(t); }},
      {"squeeze(dim)", [](auto& t) { return t.squeeze(0); }, [](auto& t) { return squeeze(t, 0); }},
      {"flatten()", [](auto& t) { return t.flatten(); }, [](auto& t) { return flatten(t); }},
      {"unflatten",
       [](auto& t) {
         return t.unflatten(1, {3, 1});
       },
       [](auto& t) {
         return unflatten(t, 1, {3, 1});
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

BOOST_AUTO_TEST_CASE(requires_grad_marks_a_leaf_as_libtorch_spells_it) {
  Tensor<float> w = zeros({2});
  BOOST_TEST(&w.requires_grad_() == &w);
  BOOST_TEST(w.requires_grad());
  w.requires_grad_(false);
  BOOST_TEST(!w.requires_grad());
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

BOOST_AUTO_TEST_CASE(sizes_and_size_as_libtorch_spells_them) {
  const auto a = zeros<float>({2, 3, 4});
  BOOST_TEST(a.sizes() == (Shape{2, 3, 4}));
  static_assert(std::is_same<decltype(a.size(0)), std::int64_t>::value, "libtorch's int64_t");
  BOOST_TEST(a.size(0) == 2);
  BOOST_TEST(a.size(-1) == 4);
  // int64_t extents fit a braced shape with -1 without a narrowing error.
  BOOST_TEST(a.view({a.size(0), -1}).sizes() == (Shape{2, 12}));
  std::ostringstream printed;
  printed << a.sizes();
  BOOST_TEST(printed.str() == "[2, 3, 4]");
}

BOOST_AUTO_TEST_CASE(item_converts_to_the_requested_type) {
  BOOST_TEST(scalar<float>(2.75f).item<float>() == 2.75f);
  BOOST_TEST(scalar<float>(2.75f).item<double>() == 2.75);
  BOOST_TEST(scalar<double>(-2.75).item<std::int64_t>() == -2);  // toward zero, as libtorch
  BOOST_TEST(scalar<double>(7.9).item<int>() == 7);
  BOOST_TEST(scalar<float>(255.5f).item<std::uint8_t>() == 255);
  BOOST_TEST(scalar<float>(0.0f).item<bool>() == false);
  BOOST_TEST(scalar<float>(-0.5f).item<bool>() == true);
}

BOOST_AUTO_TEST_CASE(a_vector_constructs_a_1d_copy) {
  std::vector<float> v = {1, 2, 3};
  const Tensor<float> a(v), b = tensor(v);
  v[0] = 9;  // copied: the tensors do not see it
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<float>({1, 2, 3})));
  BOOST_TEST(equal_arrays(b.data(), xt::xarray<float>({1, 2, 3})));
  BOOST_TEST(Tensor<double>(std::vector<double>{}, true).sizes() == (Shape{0}));
}

BOOST_AUTO_TEST_CASE(factories_default_to_float_as_libtorch) {
  static_assert(std::is_same<decltype(zeros({2})), Tensor<float>>::value, "zeros");
  static_assert(std::is_same<decltype(ones({2})), Tensor<float>>::value, "ones");
  static_assert(std::is_same<decltype(randn({2})), Tensor<float>>::value, "randn");
  static_assert(std::is_same<decltype(rand({2})), Tensor<float>>::value, "rand");
  BOOST_TEST(randn({2, 3}).sizes() == (Shape{2, 3}));
}

BOOST_AUTO_TEST_CASE(comparison_operators_are_the_mask_functions) {
  const auto a = tensor<double>({1, 2, 3}), b = tensor<double>({3, 2, 1});
  BOOST_TEST(equal_arrays(a == b, eq(a, b)));
  BOOST_TEST(equal_arrays(a != b, ne(a, b)));
  BOOST_TEST(equal_arrays(a < b, lt(a, b)));
  BOOST_TEST(equal_arrays(a <= b, le(a, b)));
  BOOST_TEST(equal_arrays(a > b, gt(a, b)));
  BOOST_TEST(equal_arrays(a >= b, ge(a, b)));
  BOOST_TEST(equal_arrays(a == 2.0, xt::xarray<bool>({false, true, false})));
  BOOST_TEST(equal_arrays(a > 1.5, xt::xarray<bool>({false, true, true})));
  BOOST_TEST(equal_arrays(1.5 < a, a > 1.5));  // a scalar on the left mirrors
  BOOST_TEST(equal_arrays(2.0 >= a, a <= 2.0));
  BOOST_TEST(equal_arrays(2.0 != a, a != 2.0));
  BOOST_TEST(count_nonzero(a >= 2.0) == 2);
}

BOOST_AUTO_TEST_CASE(assignment_only_to_a_named_tensor) {
  // t[0] = x would assign to a temporary copy and change nothing.
  static_assert(!std::is_assignable<Tensor<float>&&, Tensor<float>>::value, "rvalue");
  static_assert(std::is_assignable<Tensor<float>&, Tensor<float>>::value, "lvalue");
  static_assert(std::is_nothrow_move_constructible<Tensor<float>>::value, "cheap moves");
}

// Where libtorch returns a view, xgrad copies (tensor.hpp, Storage). Writing
// into such a copy while its source lives would silently leave the source as
// it was, so fill_, copy_ and index_put_ refuse; once the source is gone the
// copy is an ordinary tensor, and clone() makes one at any time.
BOOST_AUTO_TEST_CASE(in_place_writes_into_a_view_copy_are_refused_while_its_source_lives) {
  auto source = tensor<double>({{1, 2}, {3, 4}});
  for (auto copy : {source[0], source.select(0, 0), source.index({0}), source.view({4}),
                    source.reshape({4}), source.flatten(), source.unsqueeze(0), source.t(),
                    source.narrow(0, 0, 1), source.slice(1, 0, 1)}) {
    BOOST_CHECK_EXCEPTION(copy.fill_(0), StateError,
                          xgrad_test::mentions<StateError>("still alive"));
  }
  auto row = source[1];
  BOOST_CHECK_EXCEPTION(row.copy_(tensor<double>({0, 0})), StateError,
                        xgrad_test::mentions<StateError>("copy made by t[i]"));
  BOOST_CHECK_EXCEPTION(row.index_put_({0}, 0.0), StateError,
                        xgrad_test::mentions<StateError>("index_put_"));
  auto own = row.clone();
  own.fill_(0);  // a tensor of its own
  BOOST_TEST(equal_arrays(source.data(), xt::xarray<double>({{1, 2}, {3, 4}})));
  source = Tensor<double>();  // the source is gone: row is an ordinary tensor now
  row.fill_(5);
  BOOST_TEST(equal_arrays(row.data(), xt::xarray<double>({5, 5})));
  auto fresh = ones<double>({2, 3}).view({3, 2});  // a temporary's view: nothing to diverge from
  fresh.fill_(2);
  BOOST_TEST(fresh.data()(2, 1) == 2.0);
}

XGRAD_TEST_BAD_CALLS(r) {
  const D a = leaf({2, 3});
  r.push_back({"size: dim out of range",
               raises<ShapeError>("size", {"axis 2 is out of range"}),
               [a] { a.size(2); },
               {a}});
  r.push_back({"item<int>: NaN", raises<ValueError>("item", {"nan", "signed integer of 32 bits"}),
               [] { scalar<double>(std::nan("")).item<int>(); }});
  r.push_back({"item<int64_t>: too large",
               raises<ValueError>("item", {"1e+19", "signed integer of 64 bits"}),
               [] { scalar<double>(1e19).item<std::int64_t>(); }});
  r.push_back({"item<uint8_t>: negative",
               raises<ValueError>("item", {"-1", "unsigned integer of 8 bits"}),
               [] { scalar<float>(-1.0f).item<std::uint8_t>(); }});
  r.push_back({"item<float>: more than one element",
               raises<ShapeError>("item", {"one-element", "shape [2, 3]"}),
               [a] { a.item<float>(); },
               {a}});
  r.push_back({"fill_: a view copy of a live tensor",
               raises<StateError>("fill_", {"copy made by select", "index_put_", "clone()"}),
               [a] {
                 NoGradGuard no_grad;
                 auto row = a.detach().select(0, 0);
                 row.fill_(1);
               },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_tensor_methods
