// index_select: slices along any axis in the given order, repeats allowed
// (their gradients add up); exact values, gradients, errors.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
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

}  // namespace

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
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_indexing
