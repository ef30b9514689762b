// Shape ops: transpose (2-D, two dims, general permutations), reshape with one -1
// and the reshapes libtorch names (unsqueeze, squeeze, flatten, unflatten),
// concat (and its libtorch name cat) along any axis; exact values, gradients, errors.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_shape)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

using xgrad_test::contains;
using xgrad_test::message_of;

namespace {

// 0, 1, ..., n-1 in `shape` (row-major), so every element names its position.
Tensor<double> counting(const Shape& shape, bool requires_grad = false) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
  return Tensor<double>(a, requires_grad);
}

xt::xarray<double> array_of(const Shape& shape, std::initializer_list<double> values) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  std::copy(values.begin(), values.end(), a.begin());
  return a;
}

}  // namespace

// ---- transpose ----

BOOST_AUTO_TEST_CASE(transpose_swaps_the_axes_of_a_matrix) {
  const auto t = transpose(tensor<double>({{1, 2, 3}, {4, 5, 6}}));
  BOOST_TEST(equal_arrays(t.data(), xt::xarray<double>({{1, 4}, {2, 5}, {3, 6}})));
}

// 70 x 45 is not a multiple of the kernel's 32 x 32 tiles.
BOOST_AUTO_TEST_CASE(transpose_of_a_matrix_larger_than_a_tile) {
  const auto a = counting({70, 45});
  const auto t = transpose(a);
  BOOST_TEST(t.shape() == Shape({45, 70}));
  bool all = true;
  for (std::size_t i = 0; i < 70; ++i) {
    for (std::size_t j = 0; j < 45; ++j) all = all && t.data()(j, i) == a.data()(i, j);
  }
  BOOST_TEST(all);
}

BOOST_AUTO_TEST_CASE(transpose_by_permutation_table) {
  const auto a = counting({2, 3, 4});
  const std::vector<std::vector<std::size_t>> perms = {{0, 1, 2}, {2, 1, 0}, {1, 0, 2},
                                                       {0, 2, 1}, {2, 0, 1}, {1, 2, 0}};
  for (const auto& p : perms) {
    BOOST_TEST_CONTEXT("perm " << p[0] << p[1] << p[2]) {
      const auto t = transpose(a, p);
      BOOST_TEST(t.shape() == Shape({a.shape()[p[0]], a.shape()[p[1]], a.shape()[p[2]]}));
      // out[i0, i1, i2] = a[idx] with idx[p[k]] = i_k.
      bool all = true;
      for (std::size_t i0 = 0; i0 < t.shape()[0]; ++i0) {
        for (std::size_t i1 = 0; i1 < t.shape()[1]; ++i1) {
          for (std::size_t i2 = 0; i2 < t.shape()[2]; ++i2) {
            std::size_t idx[3];
            idx[p[0]] = i0;
            idx[p[1]] = i1;
            idx[p[2]] = i2;
            all = all && t.data()(i0, i1, i2) == a.data()(idx[0], idx[1], idx[2]);
          }
        }
      }
      BOOST_TEST(all);
    }
  }
}

BOOST_AUTO_TEST_CASE(transpose_by_permutation_exact_values) {
  // [2, 1, 2] -> [2, 2, 1] by swapping the last two axes.
  const auto t = transpose(counting({2, 1, 2}), {0, 2, 1});
  BOOST_TEST(equal_arrays(t.data(), array_of({2, 2, 1}, {0, 1, 2, 3})));
  // [1, 2, 3] -> [3, 2, 1]
  const auto r = transpose(counting({1, 2, 3}), {2, 1, 0});
  BOOST_TEST(equal_arrays(r.data(), array_of({3, 2, 1}, {0, 3, 1, 4, 2, 5})));
}

BOOST_AUTO_TEST_CASE(transpose_of_0d_and_1d_by_identity_permutation) {
  BOOST_TEST(transpose(scalar<double>(7.0), {}).item() == 7.0);
  BOOST_TEST(equal_arrays(transpose(counting({3}), {0}).data(), array_of({3}, {0, 1, 2})));
}

BOOST_AUTO_TEST_CASE(transpose_of_two_dims_swaps_those_axes) {
  // libtorch's transpose(t, 0, 2): out[k][j][i] = t[i][j][k].
  const auto a = counting({2, 3, 4});
  const auto t = transpose(a, 0, 2);
  BOOST_TEST(t.shape() == Shape({4, 3, 2}));
  BOOST_TEST(t.data()(3, 1, 0) == a.data()(0, 1, 3));
  BOOST_TEST(equal_arrays(t.data(), transpose(a, {2, 1, 0}).data()));
}

BOOST_AUTO_TEST_CASE(transpose_of_two_dims_counts_negative_dims_from_the_end) {
  const auto a = counting({2, 3, 4});
  BOOST_TEST(equal_arrays(transpose(a, -1, -2).data(), transpose(a, {0, 2, 1}).data()));
  BOOST_TEST(equal_arrays(a.transpose(1, 1).data(), a.data()));  // the same dim: unchanged
}

BOOST_AUTO_TEST_CASE(transpose_of_two_dims_sends_the_gradient_back) {
  const auto a = counting({2, 3}, true);
  (transpose(a, 0, 1) * counting({3, 2})).sum().backward();
  // d/da[i][j] of sum_k,l t[k][l] c[k][l] with t[k][l] = a[l][k] is c[j][i].
  BOOST_TEST(equal_arrays(a.grad().data(), transpose(counting({3, 2})).data()));
}

BOOST_AUTO_TEST_CASE(cat_is_concat) {
  const auto a = counting({2, 3}), b = counting({2, 1});
  BOOST_TEST(equal_arrays(cat({a, b}, 1).data(), concat({a, b}, 1).data()));
  BOOST_TEST(equal_arrays(cat(std::vector<Tensor<double>>{a, a}).data(), concat({a, a}).data()));
}

BOOST_AUTO_TEST_CASE(transpose_passes_gradcheck) {
  Generator gen(3);
  const auto m = randn<double>({3, 5}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck([](const auto& in) { return transpose(in[0]); }, {m}));
  const auto x = randn<double>({2, 3, 4}, gen, 0.0, 1.0, true);
  for (const std::vector<std::size_t>& p :
       {std::vector<std::size_t>{2, 0, 1}, std::vector<std::size_t>{1, 0, 2},
        std::vector<std::size_t>{0, 2, 1}}) {
    BOOST_TEST(passes_gradcheck([&](const auto& in) { return transpose(in[0], p); }, {x}));
  }
}

BOOST_AUTO_TEST_CASE(transpose_names_its_node) {
  const auto t = transpose(counting({2, 2}, true));
  BOOST_TEST(std::string(t.grad_fn_name()) == "TransposeBackward");
}

BOOST_AUTO_TEST_CASE(transpose_of_a_non_matrix_throws_shape_error) {
  BOOST_CHECK_THROW(transpose(counting({3})), ShapeError);
  BOOST_CHECK_THROW(transpose(counting({2, 3, 4})), ShapeError);
  BOOST_CHECK_THROW(transpose(scalar<double>(1.0)), ShapeError);
}

BOOST_AUTO_TEST_CASE(bad_permutations_throw_shape_error) {
  const auto a = counting({2, 3, 4});
  BOOST_CHECK_THROW(transpose(a, {0, 1}), ShapeError);        // too short
  BOOST_CHECK_THROW(transpose(a, {0, 1, 2, 3}), ShapeError);  // too long
  BOOST_CHECK_THROW(transpose(a, {0, 0, 1}), ShapeError);     // repeated
  BOOST_CHECK_THROW(transpose(a, {0, 1, 3}), ShapeError);     // out of range
  const std::string msg = message_of([&] { transpose(a, {0, 0, 1}); });
  BOOST_TEST(contains(msg, "transpose"));
  BOOST_TEST(contains(msg, "[0, 0, 1]"));
  BOOST_TEST(contains(msg, "[2, 3, 4]"));
}

// ---- reshape ----

BOOST_AUTO_TEST_CASE(reshape_table_keeps_row_major_order) {
  struct Case {
    std::vector<std::ptrdiff_t> spec;
    Shape shape;
  };
  const Case cases[] = {{{3, 2}, {3, 2}},       {{6}, {6}},        {{-1}, {6}},
                        {{3, -1}, {3, 2}},      {{-1, 2}, {3, 2}}, {{1, 6, 1}, {1, 6, 1}},
                        {{1, -1, 3}, {1, 2, 3}}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("to " << to_string(c.shape)) {
      const auto r = reshape(counting({2, 3}), c.spec);
      BOOST_TEST(equal_arrays(r.data(), array_of(c.shape, {0, 1, 2, 3, 4, 5})));
    }
  }
}

BOOST_AUTO_TEST_CASE(reshape_between_0d_and_one_element) {
  BOOST_TEST(reshape(scalar<double>(4.0), {1, 1}).shape() == Shape({1, 1}));
  const auto s = reshape(tensor<double>({4.0}), {});
  BOOST_TEST(s.dim() == 0u);
  BOOST_TEST(s.item() == 4.0);
  BOOST_TEST(reshape(scalar<double>(4.0), {-1}).shape() == Shape({1}));
}

BOOST_AUTO_TEST_CASE(reshape_of_empty_tensors) {
  BOOST_TEST(reshape(zeros<double>({0, 3}), {3, 0}).shape() == Shape({3, 0}));
  BOOST_TEST(reshape(zeros<double>({0, 3}), {-1, 3}).shape() == Shape({0, 3}));
}

BOOST_AUTO_TEST_CASE(reshape_gradient_has_the_input_shape) {
  auto a = counting({2, 3}, true);
  reshape(a, {3, 2}).backward(array_of({3, 2}, {1, 2, 3, 4, 5, 6}));
  BOOST_TEST(equal_arrays(a.grad().data(), array_of({2, 3}, {1, 2, 3, 4, 5, 6})));
  Generator gen(4);
  const auto x = randn<double>({2, 3, 2}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck([](const auto& in) { return reshape(in[0], {4, -1}); }, {x}));
}

BOOST_AUTO_TEST_CASE(reshape_errors_throw_shape_error) {
  const auto a = counting({2, 3});
  BOOST_CHECK_THROW(reshape(a, {4, 2}), ShapeError);                       // 8 != 6
  BOOST_CHECK_THROW(reshape(a, {-1, -1}), ShapeError);                     // two -1
  BOOST_CHECK_THROW(reshape(a, {-1, 4}), ShapeError);                      // 6 not divisible by 4
  BOOST_CHECK_THROW(reshape(a, {-2, -3}), ShapeError);                     // negative extents
  BOOST_CHECK_THROW(reshape(a, {}), ShapeError);                           // 0-d holds one element
  BOOST_CHECK_THROW(reshape(zeros<double>({0, 3}), {-1, 0}), ShapeError);  // ambiguous
  const std::string msg = message_of([&] { reshape(a, {4, 2}); });
  BOOST_TEST(contains(msg, "reshape"));
  BOOST_TEST(contains(msg, "[2, 3]"));
  BOOST_TEST(contains(msg, "[4, 2]"));
}

// Extents whose product wraps around size_t to the element count (0 here)
// must not be accepted: the result would index far past its data.
BOOST_AUTO_TEST_CASE(reshape_to_an_overflowing_shape_throws_shape_error) {
  const std::ptrdiff_t big = std::ptrdiff_t{1} << 32;
  BOOST_CHECK_THROW(reshape(zeros<double>({0}), {big, big}), ShapeError);
  BOOST_CHECK_THROW(reshape(zeros<double>({0}), {big, big, -1}), ShapeError);
  BOOST_TEST(reshape(zeros<double>({0}), {big, big, 0}).shape() ==
             Shape({1ull << 32, 1ull << 32, 0}));
}

// ---- concat ----

BOOST_AUTO_TEST_CASE(concat_table) {
  const auto a = tensor<double>({{1, 2}});
  const auto b = tensor<double>({{3, 4}, {5, 6}});
  const auto c = tensor<double>({{1, 2}, {3, 4}});
  const auto d = Tensor<double>(array_of({2, 1}, {5, 6}));
  BOOST_TEST(
      equal_arrays(concat<double>({a, b}, 0).data(), xt::xarray<double>({{1, 2}, {3, 4}, {5, 6}})));
  BOOST_TEST(
      equal_arrays(concat<double>({c, d}, 1).data(), xt::xarray<double>({{1, 2, 5}, {3, 4, 6}})));
  BOOST_TEST(equal_arrays(concat<double>({d, c, d}, -1).data(),
                          xt::xarray<double>({{5, 1, 2, 5}, {6, 3, 4, 6}})));
  BOOST_TEST(equal_arrays(concat<double>({b}, 0).data(), b.data()));
  BOOST_TEST(equal_arrays(concat<double>({tensor<double>({1, 2}), tensor<double>({3})}).data(),
                          xt::xarray<double>({1, 2, 3})));
}

BOOST_AUTO_TEST_CASE(concat_along_the_middle_axis_of_3d) {
  // [2, 1, 2] and [2, 2, 2] along axis 1 -> [2, 3, 2]
  const auto r = concat<double>({counting({2, 1, 2}), counting({2, 2, 2})}, 1);
  BOOST_TEST(equal_arrays(r.data(), array_of({2, 3, 2}, {0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 6, 7})));
}

BOOST_AUTO_TEST_CASE(concat_with_an_empty_part) {
  const auto r = concat<double>({zeros<double>({0, 2}), tensor<double>({{1, 2}})}, 0);
  BOOST_TEST(equal_arrays(r.data(), xt::xarray<double>({{1, 2}})));
}

BOOST_AUTO_TEST_CASE(concat_gradient_is_split_back) {
  auto a = tensor<double>({{1, 2}, {3, 4}}, true);
  const auto b = Tensor<double>(array_of({2, 1}, {5, 6}));  // needs no gradient
  auto c = Tensor<double>(array_of({2, 1}, {7, 8}), true);
  const auto r = concat<double>({a, b, c}, 1);
  BOOST_TEST(std::string(r.grad_fn_name()) == "CatBackward");
  r.backward(xt::xarray<double>({{10, 20, 30, 40}, {50, 60, 70, 80}}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{10, 20}, {50, 60}})));
  BOOST_TEST(!b.grad().defined());
  BOOST_TEST(equal_arrays(c.grad().data(), array_of({2, 1}, {40, 80})));
}

BOOST_AUTO_TEST_CASE(concat_of_the_same_tensor_twice_adds_its_gradients) {
  auto a = tensor<double>({1, 2}, true);
  concat<double>({a, a}).backward(xt::xarray<double>({1, 2, 3, 4}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({4, 6})));
}

BOOST_AUTO_TEST_CASE(concat_passes_gradcheck) {
  Generator gen(5);
  const auto a = randn<double>({2, 3}, gen, 0.0, 1.0, true);
  const auto b = randn<double>({1, 3}, gen, 0.0, 1.0, true);
  const auto c = randn<double>({2, 2}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck(
      [](const auto& in) {
        return concat<double>({in[0], in[1]}, 0);
      },
      {a, b}));
  BOOST_TEST(passes_gradcheck(
      [](const auto& in) {
        return concat<double>({in[0], in[1]}, 1);
      },
      {a, c}));
  const auto x = randn<double>({2, 1, 3}, gen, 0.0, 1.0, true);
  const auto y = randn<double>({2, 2, 3}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck(
      [](const auto& in) {
        return concat<double>({in[0], in[1], in[0]}, -2);
      },
      {x, y}));
}

BOOST_AUTO_TEST_CASE(concat_errors) {
  const auto a = tensor<double>({{1, 2}});
  BOOST_CHECK_THROW(concat<double>({}, 0), ShapeError);
  BOOST_CHECK_THROW(concat<double>({a, tensor<double>({{1, 2, 3}})}, 0), ShapeError);
  BOOST_CHECK_THROW(concat<double>({a, tensor<double>({1, 2})}, 0), ShapeError);  // ranks
  BOOST_CHECK_THROW(concat<double>({a, a}, 2), ShapeError);
  BOOST_CHECK_THROW(concat<double>({a, a}, -3), ShapeError);
  BOOST_CHECK_THROW(concat<double>({scalar<double>(1), scalar<double>(2)}, 0), ShapeError);
  BOOST_CHECK_THROW(concat<double>({a, Tensor<double>()}, 0), ValueError);
  const std::string msg = message_of([&] { concat<double>({a, tensor<double>({{1, 2, 3}})}, 0); });
  BOOST_TEST(contains(msg, "concat"));
  BOOST_TEST(contains(msg, "[1, 2]"));
  BOOST_TEST(contains(msg, "[1, 3]"));
  BOOST_TEST(contains(message_of([] { concat<double>({}, 0); }), "empty"));
}

// ---- unsqueeze, squeeze, flatten, unflatten ----

// Each is a reshape: the elements keep their row-major order, so the shape
// alone says what it did (the values are checked once, below).
BOOST_AUTO_TEST_CASE(reshape_family_shapes_table) {
  using Fn = std::function<Tensor<double>(const Tensor<double>&)>;
  struct Case {
    const char* what;
    Shape in;
    Fn op;
    Shape out;
  };
  const std::vector<Case> cases = {
      {"unsqueeze(0)", {2, 3}, [](auto& t) { return unsqueeze(t, 0); }, {1, 2, 3}},
      {"unsqueeze(1)", {2, 3}, [](auto& t) { return unsqueeze(t, 1); }, {2, 1, 3}},
      {"unsqueeze(-1) appends", {2, 3}, [](auto& t) { return unsqueeze(t, -1); }, {2, 3, 1}},
      {"unsqueeze(2) appends", {2, 3}, [](auto& t) { return unsqueeze(t, 2); }, {2, 3, 1}},
      {"unsqueeze of 0-d", {}, [](auto& t) { return unsqueeze(t, 0); }, {1}},
      {"squeeze() every 1", {1, 2, 1, 3, 1}, [](auto& t) { return squeeze(t); }, {2, 3}},
      {"squeeze() of [1]", {1}, [](auto& t) { return squeeze(t); }, {}},
      {"squeeze(dim) of a 1", {2, 1, 3}, [](auto& t) { return squeeze(t, 1); }, {2, 3}},
      {"squeeze(dim) of a 2 keeps it", {2, 1, 3}, [](auto& t) { return squeeze(t, 0); }, {2, 1, 3}},
      {"squeeze(-1)", {2, 1}, [](auto& t) { return squeeze(t, -1); }, {2}},
      {"squeeze(0) of 0-d", {}, [](auto& t) { return squeeze(t, 0); }, {}},
      {"flatten() all", {2, 3, 4}, [](auto& t) { return flatten(t); }, {24}},
      {"flatten(1)", {2, 3, 4}, [](auto& t) { return flatten(t, 1); }, {2, 12}},
      {"flatten(0, 1)", {2, 3, 4}, [](auto& t) { return flatten(t, 0, 1); }, {6, 4}},
      {"flatten(1, 1) unchanged", {2, 3, 4}, [](auto& t) { return flatten(t, 1, 1); }, {2, 3, 4}},
      {"flatten of 0-d", {}, [](auto& t) { return flatten(t); }, {1}},
      {"unflatten(1, {3, 4})",
       {2, 12},
       [](auto& t) {
         return unflatten(t, 1, {3, 4});
       },
       {2, 3, 4}},
      {"unflatten(-1, {-1, 2})",
       {2, 6},
       [](auto& t) {
         return unflatten(t, -1, {-1, 2});
       },
       {2, 3, 2}},
      {"unflatten(0, {1, 2})",
       {2, 3},
       [](auto& t) {
         return unflatten(t, 0, {1, 2});
       },
       {1, 2, 3}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      const auto a = counting(c.in);
      const auto out = c.op(a);
      BOOST_TEST(out.shape() == c.out);
      BOOST_TEST(std::equal(out.data().begin(), out.data().end(), a.data().begin()));
      BOOST_TEST(std::string(out.grad_fn_name()).empty());  // no grad required, no node
    }
  }
}

BOOST_AUTO_TEST_CASE(reshape_family_passes_gradcheck) {
  Generator gen(5);
  const auto x = randn<double>({2, 1, 3}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck([](const auto& in) { return unsqueeze(in[0], 1); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return squeeze(in[0]); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return squeeze(in[0], 1); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return flatten(in[0], 1); }, {x}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return unflatten(in[0], 2, {3, 1}); }, {x}));
  BOOST_TEST(std::string(flatten(x).grad_fn_name()) == "ReshapeBackward");
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D a = leaf({2, 3});
  r.push_back({"transpose: 3-D without perm",
               raises<ShapeError>("transpose", {"expected a 2-D tensor", "got shape [2, 2, 2]"}),
               [] {
                 transpose(zeros<double>({2, 2, 2}));
               }});
  r.push_back({"transpose: not a permutation",
               raises<ShapeError>("transpose", {"[0, 0] is not a permutation", "shape [2, 3]"}),
               [a] {
                 transpose(a, {0, 0});
               },
               {a}});
  r.push_back({"transpose: perm too long",
               raises<ShapeError>("transpose", {"[0, 1, 2] is not a permutation of the 2 axes"}),
               [a] {
                 transpose(a, {0, 1, 2});
               },
               {a}});
  r.push_back({"transpose: undefined", raises<ValueError>("transpose", {"input is undefined"}),
               [u] { transpose(u); }});
  r.push_back({"transpose: dim out of range",
               raises<ShapeError>("transpose", {"axis 2 is out of range", "dimension 2"}),
               [a] { transpose(a, 0, 2); },
               {a}});
  r.push_back({"transpose of two dims: undefined",
               raises<ValueError>("transpose", {"input is undefined"}),
               [u] { transpose(u, 0, 1); }});
  r.push_back({"reshape: count differs",
               raises<ShapeError>(
                   "reshape", {"shape [2, 3] (6 elements) into [4]", "the element counts differ"}),
               [a] { reshape(a, {4}); },
               {a}});
  r.push_back({"reshape: two -1",
               raises<ShapeError>("reshape", {"into [-1, -1]", "only one extent may be -1"}),
               [a] {
                 reshape(a, {-1, -1});
               },
               {a}});
  r.push_back({"reshape: negative extent",
               raises<ShapeError>("reshape", {"into [-2, 3]", "extent -2 is negative"}),
               [a] {
                 reshape(a, {-2, 3});
               },
               {a}});
  r.push_back({"reshape: -1 not dividing",
               raises<ShapeError>("reshape", {"into [-1, 4]", "not divisible"}),
               [a] {
                 reshape(a, {-1, 4});
               },
               {a}});
  r.push_back(
      {"reshape: ambiguous -1", raises<ShapeError>("reshape", {"into [0, -1]", "ambiguous"}), [] {
         reshape(zeros<double>({0}), {0, -1});
       }});
  r.push_back({"reshape: undefined", raises<ValueError>("reshape", {"input is undefined"}),
               [u] { reshape(u, {1}); }});
  r.push_back({"unsqueeze: dim beyond the new rank",
               raises<ShapeError>("unsqueeze", {"axis 3 is out of range"}),
               [a] { unsqueeze(a, 3); },
               {a}});
  r.push_back({"squeeze: dim out of range",
               raises<ShapeError>("squeeze", {"axis -3 is out of range"}),
               [a] { squeeze(a, -3); },
               {a}});
  r.push_back({"flatten: start after end",
               raises<ValueError>("flatten", {"start_dim 1 comes after end_dim 0", "[2, 3]"}),
               [a] { flatten(a, 1, 0); },
               {a}});
  r.push_back({"flatten: dim out of range",
               raises<ShapeError>("flatten", {"axis 2 is out of range"}),
               [a] { flatten(a, 2); },
               {a}});
  r.push_back({"unflatten: sizes not multiplying to the extent",
               raises<ShapeError>("unflatten", {"sizes [2, 2]", "extent 3 of dim 1", "[2, 3]"}),
               [a] {
                 unflatten(a, 1, {2, 2});
               },
               {a}});
  r.push_back({"unflatten: empty sizes",
               raises<ValueError>("unflatten", {"sizes must not be empty"}),
               [a] { unflatten(a, 1, {}); },
               {a}});
  r.push_back({"unflatten: dim out of range",
               raises<ShapeError>("unflatten", {"axis 2 is out of range"}),
               [a] { unflatten(a, 2, {1}); },
               {a}});
  r.push_back({"squeeze: undefined", raises<ValueError>("squeeze", {"input is undefined"}),
               [u] { squeeze(u); }});
  r.push_back({"concat: nothing",
               raises<ShapeError>("concat", {"at least one tensor", "got an empty list"}),
               [] { concat<double>({}, 0); }});
  r.push_back(
      {"concat: mismatched shapes",
       raises<ShapeError>("concat", {"tensor 1 has shape [2, 4]", "tensor 0 has shape [2, 3]"}),
       [a] {
         concat<double>({a, zeros<double>({2, 4})}, 0);
       },
       {a}});
  r.push_back({"concat: undefined tensor",
               raises<ValueError>("concat", {"tensor 1 is undefined"}),
               [a, u] {
                 concat<double>({a, u}, 0);
               },
               {a}});
  r.push_back({"concat: axis out of range",
               raises<ShapeError>("concat", {"axis 2 is out of range"}),
               [a] {
                 concat<double>({a, a}, 2);
               },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_shape
