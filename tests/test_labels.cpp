// Labels and masks: argmax, comparisons, checked conversion from float class
// ids, random labels, and the one-line accuracy they add up to.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/compare.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/labels.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_labels)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;

namespace {

// values as a column [n, 1] ({{1}, {0}} would be ambiguous).
Labels column(Labels values) {
  values.reshape({values.size(), 1});
  return values;
}

}  // namespace

BOOST_AUTO_TEST_CASE(argmax_along_each_axis_first_index_on_ties) {
  const auto a = tensor<double>({{1, 5, 5}, {7, 0, 2}});
  BOOST_TEST(equal_arrays(argmax(a, 1), Labels{1, 0}));  // the first of the tied 5s
  BOOST_TEST(equal_arrays(argmax(a, 0), Labels{1, 0, 0}));
  BOOST_TEST(equal_arrays(argmax(a, -1, /*keepdim=*/true), column({1, 0})));
  BOOST_TEST(equal_arrays(a.argmax(1), Labels{1, 0}));
}

BOOST_AUTO_TEST_CASE(argmax_picks_the_first_nan_as_libtorch_does) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(equal_arrays(argmax(tensor<double>({1, nan, 9, nan}), 0), Labels(1)));
}

BOOST_AUTO_TEST_CASE(argmax_errors) {
  BOOST_CHECK_THROW(argmax(zeros<float>({2, 0}), 1), ShapeError);
  BOOST_CHECK_THROW(argmax(scalar<float>(1.0f), 0), ShapeError);
  BOOST_CHECK_THROW(argmax(zeros<float>({2}), 1), ShapeError);
  BOOST_TEST(message_of([] { argmax(Tensor<float>(), 0); }) == "argmax: input is undefined");
}

BOOST_AUTO_TEST_CASE(comparison_table_with_broadcasting) {
  const auto a = tensor<float>({{1, 2, 3}, {4, 5, 6}});
  const auto b = tensor<float>({2, 2, 7});
  BOOST_TEST(equal_arrays(eq(a, b), Mask{{false, true, false}, {false, false, false}}));
  BOOST_TEST(equal_arrays(ne(a, b), Mask{{true, false, true}, {true, true, true}}));
  BOOST_TEST(equal_arrays(lt(a, b), Mask{{true, false, true}, {false, false, true}}));
  BOOST_TEST(equal_arrays(le(a, b), Mask{{true, true, true}, {false, false, true}}));
  BOOST_TEST(equal_arrays(gt(a, b), Mask{{false, false, false}, {true, true, false}}));
  BOOST_TEST(equal_arrays(ge(a, b), Mask{{false, true, false}, {true, true, false}}));
  BOOST_TEST(equal_arrays(gt(a, 3.5f), Mask{{false, false, false}, {true, true, true}}));
  BOOST_TEST(equal_arrays(eq(a, 2.0), Mask{{false, true, false}, {false, false, false}}));
}

BOOST_AUTO_TEST_CASE(nan_is_unequal_to_everything) {
  const auto a = tensor<double>({std::numeric_limits<double>::quiet_NaN()});
  BOOST_TEST(equal_arrays(eq(a, a), Mask{false}));
  BOOST_TEST(equal_arrays(ne(a, a), Mask{true}));
  BOOST_TEST(equal_arrays(ge(a, a), Mask{false}));
}

BOOST_AUTO_TEST_CASE(comparison_errors_name_the_op_and_shapes) {
  BOOST_CHECK_THROW(eq(zeros<float>({2}), zeros<float>({3})), ShapeError);
  BOOST_TEST(message_of([] { lt(zeros<float>({2}), zeros<float>({3})); }).find("lt") == 0u);
  BOOST_TEST(message_of([] { ge(zeros<float>({2}), Tensor<float>()); }) ==
             "ge: other is undefined");
}

BOOST_AUTO_TEST_CASE(masks_count_feed_where_and_become_float_tensors) {
  const auto a = tensor<float>({-1, 2, -3, 4});
  const Mask positive = gt(a, 0.0f);
  BOOST_TEST(count_nonzero(positive) == 2);
  BOOST_TEST(
      equal_arrays(where(positive, a, zeros<float>({4})).data(), xt::xarray<float>{0, 2, 0, 4}));
  BOOST_TEST(equal_arrays(tensor_from_mask<float>(positive).data(), xt::xarray<float>{0, 1, 0, 1}));
}

BOOST_AUTO_TEST_CASE(to_labels_converts_integral_float_ids) {
  BOOST_TEST(equal_arrays(to_labels(tensor<float>({2, 0, 1})), Labels{2, 0, 1}));
  BOOST_TEST(equal_arrays(to_labels(Tensor<double>(xgrad_test::array_of({2, 1}, {9, 3})), 10),
                          column({9, 3})));
}

BOOST_AUTO_TEST_CASE(to_labels_rejects_non_labels_naming_position_and_value) {
  struct Case {
    const char* what;
    Tensor<double> ids;
    std::int64_t num_classes;
    std::string message;
  };
  const Case cases[] = {
      {"fraction", tensor<double>({0, 1.5}), 0,
       "to_labels: ids element 1 (tensor of shape [2]) is not an integer: 1.5"},
      {"negative", tensor<double>({-1}), 0,
       "to_labels: ids element 0 (tensor of shape [1]) is negative: -1"},
      {"nan", tensor<double>({std::nan("")}), 0,
       "to_labels: ids element 0 (tensor of shape [1]) is not an integer: nan"},
      {"too large", tensor<double>({1, 3}), 3,
       "to_labels: ids element 1 (tensor of shape [2]) is not below num_classes: 3 "
       "(num_classes 3)"},
      {"beyond int64", tensor<double>({1e19}), 0,
       "to_labels: ids element 0 (tensor of shape [1]) is too large for int64: 1e+19"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      BOOST_TEST(message_of([&] { to_labels(c.ids, c.num_classes); }) == c.message);
      BOOST_CHECK_THROW(to_labels(c.ids, c.num_classes), ValueError);
    }
  }
  BOOST_CHECK_THROW(to_labels(tensor<double>({1}), -1), ValueError);
}

BOOST_AUTO_TEST_CASE(from_labels_is_the_inverse_and_checks_exactness) {
  BOOST_TEST(equal_arrays(from_labels<float>(Labels{3, 0}).data(), xt::xarray<float>{3, 0}));
  BOOST_CHECK_THROW(from_labels<float>(Labels{(std::int64_t{1} << 24) + 1}), ValueError);
  BOOST_TEST(from_labels<double>(Labels{(std::int64_t{1} << 24) + 1}).item() == 16777217.0);
}

BOOST_AUTO_TEST_CASE(randint_labels_match_randint_floats_for_the_same_seed) {
  Generator g1(42), g2(42);
  const Labels labels = randint(0, 10, {64}, g1);
  const Tensor<float> floats = randint<float>(0, 10, {64}, g2);
  BOOST_TEST(labels.shape() == (Shape{64}));
  BOOST_TEST(equal_arrays(from_labels<float>(labels).data(), floats.data()));
  BOOST_TEST(*std::min_element(labels.begin(), labels.end()) >= 0);
  BOOST_TEST(*std::max_element(labels.begin(), labels.end()) <= 9);
  BOOST_CHECK_THROW(randint(3, 3, {2}), ValueError);
}

BOOST_AUTO_TEST_CASE(accuracy_is_one_line) {
  const auto logits = tensor<float>({{0.1f, 2.0f}, {3.0f, 1.0f}, {0.0f, 0.5f}, {1.0f, -1.0f}});
  const Labels labels{1, 0, 0, 0};  // predictions 1, 0, 1, 0: three right
  const double acc = double(count_nonzero(eq(argmax(logits, 1), labels))) / labels.size();
  BOOST_TEST(acc == 0.75);
  BOOST_CHECK_THROW(eq(Labels{1, 2}, Labels{1}), ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()  // test_labels
