// index_select: slices along any axis in the given order, repeats allowed
// (their gradients add up); index / index_put_ with integers, Slice, None and
// Ellipsis (libtorch's indexing); exact values, gradients, errors.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>
#include <xtensor/xview.hpp>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_indexing)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

using xgrad_test::array_of;
using xgrad_test::contains;
using xgrad_test::message_of;

namespace {

// [[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32]]: row r, column c holds 10 r + c.
Tensor<double> rows43(bool requires_grad = false) {
  return tensor<double>({{0, 1, 2}, {10, 11, 12}, {20, 21, 22}, {30, 31, 32}}, requires_grad);
}

// 0, 1, ..., 23 in [2, 3, 4]: every element names its row-major position.
Tensor<double> counting234(bool requires_grad = false) {
  xt::xarray<double> a = xt::xarray<double>::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
  return Tensor<double>(a, requires_grad);
}

}  // namespace

using namespace xgrad::indexing;

// ---- index ----

BOOST_AUTO_TEST_CASE(index_table_on_positions_0_to_23) {
  struct Case {
    const char* what;
    std::vector<TensorIndex> indices;
    Shape shape;
    std::initializer_list<double> values;
  };
  const Case cases[] = {
      {"{0}: the first block", {0}, {3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
      {"{-1}: the last block", {-1}, {3, 4}, {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}},
      {"{1, 2, 3}: one element", {1, 2, 3}, {}, {23}},
      {"{Slice(), 1}: row 1 of each block", {Slice(), 1}, {2, 4}, {4, 5, 6, 7, 16, 17, 18, 19}},
      {"{0, Slice(1, None), Slice(None, None, 3)}",
       {0, Slice(1, None), Slice(None, None, 3)},
       {2, 2},
       {4, 7, 8, 11}},
      {"{Ellipsis, 0}: column 0", {Ellipsis, 0}, {2, 3}, {0, 4, 8, 12, 16, 20}},
      {"{\"...\", 0}: the same", {"...", 0}, {2, 3}, {0, 4, 8, 12, 16, 20}},
      {"{1, Ellipsis, 1, 2}: Ellipsis of nothing", {1, Ellipsis, 1, 2}, {}, {18}},
      {"{0, None, 2}: an axis inserted", {0, None, 2}, {1, 4}, {8, 9, 10, 11}},
      {"{Slice(-1, None), Ellipsis, Slice(None, None, 2)}",
       {Slice(-1, None), Ellipsis, Slice(None, None, 2)},
       {1, 3, 2},
       {12, 14, 16, 18, 20, 22}},
      {"{Slice(-5, 2), 2, Slice(1, 3)}: clamped start",
       {Slice(-5, 2), 2, Slice(1, 3)},
       {2, 2},
       {9, 10, 21, 22}},
      {"{Slice(5, 10)}: empty", {Slice(5, 10)}, {0, 3, 4}, {}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(equal_arrays(index(counting234(), c.indices).data(), array_of(c.shape, c.values)));
    }
  }
  BOOST_TEST(equal_arrays(counting234().index({}).data(), counting234().data()));
}

BOOST_AUTO_TEST_CASE(subscript_is_select_on_the_first_axis_and_chains) {
  const auto a = counting234();
  BOOST_TEST(equal_arrays(a[1].data(), a.select(0, 1).data()));
  BOOST_TEST(equal_arrays(a[-1][2].data(), xt::xarray<double>({20, 21, 22, 23})));
  BOOST_TEST(a[0][1][2].item() == 6.0);
}

BOOST_AUTO_TEST_CASE(index_gradient_lands_on_the_indexed_positions) {
  auto a = counting234(true);
  index(a, {1, Slice(None, None, 2), 3}).backward(xt::xarray<double>({5, 7}));
  xt::xarray<double> want = xt::zeros<double>({2, 3, 4});
  want(1, 0, 3) = 5;
  want(1, 2, 3) = 7;
  BOOST_TEST(equal_arrays(a.grad().data(), want));
  BOOST_TEST(std::string(index(a, {0}).grad_fn_name()) == "IndexBackward");
  a.zero_grad();
  a[1].sum().backward();  // t[i] is select: its own node, the same gradient as index({i})
  want = xt::zeros<double>({2, 3, 4});
  xt::view(want, 1) = 1.0;
  BOOST_TEST(equal_arrays(a.grad().data(), want));
}

BOOST_AUTO_TEST_CASE(index_passes_gradcheck) {
  Generator gen(12);
  const auto x = randn<double>({3, 4, 2}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck(
      [](const auto& in) {
        return index(in[0], {Slice(1, None), None, Slice(None, None, 3)});
      },
      {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return index(in[0], {Ellipsis, 1}); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return in[0][-1]; }, {x}));
}

// ---- index_put_ ----

BOOST_AUTO_TEST_CASE(index_put_writes_a_scalar_into_the_region) {
  auto a = counting234();
  const auto version = a.version();
  a.index_put_({Slice(), 1, Slice(2, None)}, -1.0);
  auto want = counting234().data();
  for (std::size_t i = 0; i < 2; ++i) want(i, 1, 2) = want(i, 1, 3) = -1;
  BOOST_TEST(equal_arrays(a.data(), want));
  BOOST_TEST(a.version() == version + 1);
}

BOOST_AUTO_TEST_CASE(index_put_broadcasts_a_tensor_value_to_the_region) {
  auto a = zeros<double>({2, 3});
  a.index_put_({Slice(), Slice(1, None)}, tensor<double>({7, 8}));  // [2] over the region [2, 2]
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<double>({{0, 7, 8}, {0, 7, 8}})));
  a.index_put_({1}, a[0]);  // a value read from the same tensor
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<double>({{0, 7, 8}, {0, 7, 8}})));
  a.index_put_({0}, scalar<double>(3));
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<double>({{3, 3, 3}, {0, 7, 8}})));
}

BOOST_AUTO_TEST_CASE(index_put_into_a_parameter_needs_no_grad_mode) {
  auto w = zeros<double>({2, 2}, true);
  BOOST_CHECK_THROW(w.index_put_({0, 0}, 1.0), StateError);  // as fill_
  {
    NoGradGuard no_grad;
    w.index_put_({0, 0}, 1.0);
  }
  BOOST_TEST(w.data()(0, 0) == 1.0);
}

BOOST_AUTO_TEST_CASE(index_select_table) {
  struct Case {
    const char* what;
    std::ptrdiff_t axis;
    std::vector<std::size_t> indices;
    Shape shape;
    std::initializer_list<double> values;
  };
  const Case cases[] = {
      {"rows in order", 0, {1, 3}, {2, 3}, {10, 11, 12, 30, 31, 32}},
      {"rows reversed and repeated", 0, {3, 0, 3}, {3, 3}, {30, 31, 32, 0, 1, 2, 30, 31, 32}},
      {"one column", 1, {2}, {4, 1}, {2, 12, 22, 32}},
      {"columns by negative axis", -1, {2, 0}, {4, 2}, {2, 0, 12, 10, 22, 20, 32, 30}},
      {"no rows", 0, {}, {0, 3}, {}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(equal_arrays(index_select(rows43(), c.axis, c.indices).data(),
                              array_of(c.shape, c.values)));
    }
  }
}

BOOST_AUTO_TEST_CASE(index_select_along_the_middle_axis_of_3d) {
  // [2, 3, 2] holding 0..11; pick j = 2, 0 from each of the 2 outer blocks.
  xt::xarray<double> a = xt::xarray<double>::from_shape({2, 3, 2});
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
  const auto r = index_select(Tensor<double>(a), 1, {2, 0});
  BOOST_TEST(equal_arrays(r.data(), array_of({2, 2, 2}, {4, 5, 0, 1, 10, 11, 6, 7})));
}

BOOST_AUTO_TEST_CASE(index_select_of_a_vector_and_float) {
  BOOST_TEST(equal_arrays(index_select(tensor<double>({5, 6, 7}), 0, {2, 2, 1}).data(),
                          xt::xarray<double>({7, 7, 6})));
  BOOST_TEST(equal_arrays(index_select(tensor<float>({{1, 2}, {3, 4}}), 0, {1}).data(),
                          xt::xarray<float>({{3, 4}})));
}

BOOST_AUTO_TEST_CASE(repeated_indices_accumulate_gradients) {
  auto a = rows43(true);
  index_select(a, 0, {3, 1, 3})
      .backward(xt::xarray<double>({{1, 2, 3}, {10, 20, 30}, {100, 200, 300}}));
  BOOST_TEST(equal_arrays(
      a.grad().data(), xt::xarray<double>({{0, 0, 0}, {10, 20, 30}, {0, 0, 0}, {101, 202, 303}})));
  BOOST_TEST(std::string(index_select(a, 0, {0}).grad_fn_name()) == "IndexSelectBackward");
}

BOOST_AUTO_TEST_CASE(repeated_columns_accumulate_gradients) {
  auto a = tensor<double>({{1, 2}, {3, 4}}, true);
  index_select(a, 1, {0, 0, 1}).backward(xt::xarray<double>({{1, 2, 4}, {8, 16, 32}}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{3, 4}, {24, 32}})));
}

BOOST_AUTO_TEST_CASE(index_select_passes_gradcheck) {
  Generator gen(11);
  const auto x = randn<double>({4, 3, 2}, gen, 0.0, 1.0, true);
  const std::vector<std::size_t> picks = {2, 0, 2, 3};
  BOOST_TEST(passes_gradcheck([&](const auto& in) { return index_select(in[0], 0, picks); }, {x}));
  BOOST_TEST(passes_gradcheck(
      [](const auto& in) {
        return index_select(in[0], 1, {1, 1, 0});
      },
      {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return index_select(in[0], -1, {1}); }, {x}));
}

BOOST_AUTO_TEST_CASE(out_of_range_index_throws_value_error_naming_position_and_value) {
  const auto a = rows43();
  BOOST_CHECK_THROW(index_select(a, 0, {0, 4}), ValueError);
  BOOST_CHECK_THROW(index_select(a, 1, {3}), ValueError);
  BOOST_CHECK_THROW(index_select(zeros<double>({0, 2}), 0, {0}), ValueError);
  const std::string msg = message_of([&] { index_select(a, 0, {1, 2, 7}); });
  BOOST_TEST(contains(msg, "index_select"));
  BOOST_TEST(contains(msg, "index 7"));
  BOOST_TEST(contains(msg, "position 2"));
  BOOST_TEST(contains(msg, "[4, 3]"));
}

BOOST_AUTO_TEST_CASE(bad_axis_throws_shape_error) {
  BOOST_CHECK_THROW(index_select(rows43(), 2, {0}), ShapeError);
  BOOST_CHECK_THROW(index_select(rows43(), -3, {0}), ShapeError);
  BOOST_CHECK_THROW(index_select(scalar<double>(1), 0, {0}), ShapeError);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D a = leaf({2, 3});
  r.push_back({"index_select: index out of range",
               raises<ValueError>("index_select", {"index 5 at position 1", "axis 1 of extent 3"}),
               [a] {
                 index_select(a, 1, {0, 5});
               },
               {a}});
  r.push_back({"index_select: axis out of range",
               raises<ShapeError>("index_select", {"axis 2 is out of range"}),
               [a] { index_select(a, 2, {0}); },
               {a}});
  r.push_back({"index_select: undefined",
               raises<ValueError>("index_select", {"input is undefined"}),
               [u] { index_select(u, 0, {0}); }});
  r.push_back({"index: integer out of range",
               raises<ValueError>("index", {"index 2 is out of range for dim 0 of extent 2"}),
               [a] { index(a, {2}); },
               {a}});
  r.push_back({"index: negative integer out of range",
               raises<ValueError>("index", {"index -4 is out of range for dim 1 of extent 3"}),
               [a] {
                 index(a, {0, -4});
               },
               {a}});
  r.push_back({"index: too many indices",
               raises<ShapeError>("index", {"too many indices (3)", "shape [2, 3]"}),
               [a] {
                 index(a, {0, 0, 0});
               },
               {a}});
  r.push_back({"index: two Ellipses",
               raises<ValueError>("index", {"one Ellipsis, got 2"}),
               [a] {
                 index(a, {Ellipsis, "..."});
               },
               {a}});
  r.push_back({"index: step 0",
               raises<ValueError>("index", {"step must be >= 1, got 0"}),
               [a] { index(a, {Slice(None, None, 0)}); },
               {a}});
  r.push_back({"index: text other than ...",
               raises<ValueError>("TensorIndex", {"got \":\""}),
               [a] { index(a, {":"}); },
               {a}});
  r.push_back({"index: undefined", raises<ValueError>("index", {"input is undefined"}),
               [u] { index(u, {0}); }});
  r.push_back({"index_put_: value of a shape that does not broadcast",
               raises<ShapeError>("index_put_", {"[3]", "[2, 2]"}), [] {
                 auto t = zeros<double>({2, 3});
                 t.index_put_({Slice(), Slice(1, None)}, zeros<double>({3}));
               }});
  r.push_back({"index_put_: into a leaf that requires grad",
               raises<StateError>("index_put_", {"requires grad", "NoGradGuard"}),
               [a] {
                 auto t = a;
                 t.index_put_({0}, 1.0);
               },
               {a}});
  r.push_back({"index_put_: a value that requires grad",
               raises<StateError>("index_put_", {"value requires grad"}),
               [a] {
                 auto t = zeros<double>({2, 3});
                 t.index_put_({0}, a[1]);
               },
               {a}});
  r.push_back({"index_put_: index out of range",
               raises<ValueError>("index_put_", {"index 3 is out of range"}), [] {
                 auto t = zeros<double>({2, 3});
                 t.index_put_({0, 3}, 1.0);
               }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_indexing
