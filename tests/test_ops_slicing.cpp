// slice / narrow / select (libtorch's names): exact values along every axis,
// Python's negative and clamped bounds, gradients by gradcheck and in closed
// form, and the errors.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/slicing.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_slicing)

using namespace xgrad;
using xgrad_test::array_of;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;
using xgrad_test::passes_gradcheck;

namespace {

// Row r, column c holds 10 r + c: [[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32]].
Tensor<double> rows43(bool requires_grad = false) {
  return tensor<double>({{0, 1, 2}, {10, 11, 12}, {20, 21, 22}, {30, 31, 32}}, requires_grad);
}

}  // namespace

BOOST_AUTO_TEST_CASE(slice_table) {
  struct Case {
    const char* what;
    std::ptrdiff_t dim;
    std::int64_t start, end, step;
    Shape shape;
    std::initializer_list<double> values;
  };
  const Case cases[] = {
      {"rows 1..3", 0, 1, 3, 1, {2, 3}, {10, 11, 12, 20, 21, 22}},
      {"every other row", 0, 0, 4, 2, {2, 3}, {0, 1, 2, 20, 21, 22}},
      {"step not dividing the range", 0, 0, 4, 3, {2, 3}, {0, 1, 2, 30, 31, 32}},
      {"columns from 1", 1, 1, 3, 1, {4, 2}, {1, 2, 11, 12, 21, 22, 31, 32}},
      {"negative dim and start", -1, -1, 3, 1, {4, 1}, {2, 12, 22, 32}},
      {"negative end", 0, 0, -2, 1, {2, 3}, {0, 1, 2, 10, 11, 12}},
      {"end clamped to the extent", 0, 2, 100, 1, {2, 3}, {20, 21, 22, 30, 31, 32}},
      {"start clamped to 0", 0, -100, 1, 1, {1, 3}, {0, 1, 2}},
      {"empty: start after end", 0, 3, 1, 1, {0, 3}, {}},
      {"empty: start past the extent", 1, 5, 9, 1, {4, 0}, {}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      const Tensor<double> out = slice(rows43(), c.dim, c.start, c.end, c.step);
      BOOST_TEST(equal_arrays(out.data(), array_of(c.shape, c.values)));
    }
  }
}

BOOST_AUTO_TEST_CASE(narrow_takes_length_elements_from_start) {
  BOOST_TEST(
      equal_arrays(narrow(rows43(), 0, 1, 2).data(), array_of({2, 3}, {10, 11, 12, 20, 21, 22})));
  BOOST_TEST(equal_arrays(narrow(rows43(), 1, -2, 2).data(),
                          array_of({4, 2}, {1, 2, 11, 12, 21, 22, 31, 32})));
  BOOST_TEST(narrow(rows43(), 0, 4, 0).shape() == (Shape{0, 3}));
}

BOOST_AUTO_TEST_CASE(select_removes_the_axis) {
  BOOST_TEST(equal_arrays(select(rows43(), 0, 2).data(), xt::xarray<double>{20, 21, 22}));
  BOOST_TEST(equal_arrays(select(rows43(), 1, -1).data(), xt::xarray<double>{2, 12, 22, 32}));
  // Selecting from a 1-D tensor gives a 0-d one.
  const Tensor<double> s = select(tensor<double>({5, 6, 7}), 0, 1);
  BOOST_TEST(s.dim() == 0u);
  BOOST_TEST(s.item() == 6.0);
}

BOOST_AUTO_TEST_CASE(slice_gradient_lands_on_the_selected_positions) {
  Tensor<double> a = rows43(true);
  sum(mul(slice(a, 0, 1, 4, 2), 3.0)).backward();  // rows 1 and 3, times 3
  BOOST_TEST(equal_arrays(a.grad().data(), array_of({4, 3}, {0, 0, 0, 3, 3, 3, 0, 0, 0, 3, 3, 3})));
  BOOST_TEST(std::string(slice(a, 0, 0, 1).grad_fn_name()) == "SliceBackward");
}

BOOST_AUTO_TEST_CASE(select_and_narrow_gradients_accumulate_over_overlaps) {
  Tensor<double> a = rows43(true);
  sum(add(select(a, 1, 0), narrow(a, 1, 0, 1).reshape({-1}))).backward();  // column 0 twice
  BOOST_TEST(equal_arrays(a.grad().data(), array_of({4, 3}, {2, 0, 0, 2, 0, 0, 2, 0, 0, 2, 0, 0})));
}

BOOST_AUTO_TEST_CASE(gradcheck_of_every_form_on_a_3d_tensor) {
  Generator gen(5);
  const Tensor<double> x = randn<double>({3, 4, 5}, gen, 0.0, 1.0, true);
  const Tensor<double> w = randn<double>({3, 2, 5}, gen);  // weights the output unevenly
  BOOST_TEST(passes_gradcheck(
      [&](const std::vector<Tensor<double>>& in) {
        return sum(slice(in[0], 1, 3, 1));  // an empty slice: zero gradient
      },
      {x}));
  BOOST_TEST(passes_gradcheck(
      [&](const std::vector<Tensor<double>>& in) { return sum(mul(slice(in[0], 1, 0, 4, 2), w)); },
      {x}));
  BOOST_TEST(passes_gradcheck(
      [&](const std::vector<Tensor<double>>& in) { return sum(mul(narrow(in[0], -2, 1, 2), w)); },
      {x}));
  const Tensor<double> v = randn<double>({3, 5}, gen);
  BOOST_TEST(passes_gradcheck(
      [&](const std::vector<Tensor<double>>& in) { return sum(mul(select(in[0], 1, -1), v)); },
      {x}));
}

BOOST_AUTO_TEST_CASE(errors_name_the_op_and_the_bad_value) {
  BOOST_TEST(message_of([] { slice(rows43(), 0, 0, 2, 0); }) == "slice: step must be >= 1, got 0");
  BOOST_CHECK_THROW(slice(rows43(), 0, 0, 2, -1), ValueError);
  BOOST_CHECK_THROW(slice(rows43(), 2, 0, 2), ShapeError);
  BOOST_CHECK_THROW(slice(scalar<double>(1.0), 0, 0, 1), ShapeError);
  BOOST_TEST(message_of([] { narrow(rows43(), 0, 3, 2); }) ==
             "narrow: length 2 from start 3 exceeds dim 0 of extent 4 (tensor of shape [4, 3])");
  BOOST_TEST(message_of([] { narrow(rows43(), 1, -4, 1); }) ==
             "narrow: start -4 is out of range for dim 1 of extent 3 (tensor of shape [4, 3])");
  BOOST_CHECK_THROW(narrow(rows43(), 0, 0, -1), ValueError);
  BOOST_TEST(message_of([] { select(rows43(), 0, 4); }) ==
             "select: index 4 is out of range for dim 0 of extent 4 (tensor of shape [4, 3])");
  BOOST_CHECK_THROW(select(rows43(), 1, -4), ValueError);
  BOOST_TEST(message_of([] { select(Tensor<double>(), 0, 0); }) == "select: input is undefined");
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_slicing
