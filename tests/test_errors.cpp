// The error helper of errors.hpp: XGRAD_CHECK, throw_error and the one
// formatter every message goes through.
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "xgrad/errors.hpp"
#include "xgrad/ops/size2.hpp"
#include "xgrad/shape.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_errors)

using namespace xgrad;

BOOST_AUTO_TEST_CASE(text_and_integers_are_written_as_they_are) {
  const std::string s = "weight";
  BOOST_TEST(format_message("linear: ", s, " of ", std::string_view("layer"), ' ', 'x') ==
             "linear: weight of layer x");
  BOOST_TEST(format_message(-3, " ", 7u, " ", std::size_t(18446744073709551615u), " ",
                            std::int64_t(-9223372036854775807 - 1)) ==
             "-3 7 18446744073709551615 -9223372036854775808");
  BOOST_TEST(format_message(true, " ", false) == "true false");
  enum class Reduction { none, mean, sum };
  BOOST_TEST(format_message(Reduction::sum) == "2");
}

BOOST_AUTO_TEST_CASE(floating_point_is_the_shortest_text_that_reads_back) {
  BOOST_TEST(format_message(0.5) == "0.5");
  BOOST_TEST(format_message(1.0) == "1");
  BOOST_TEST(format_message(-2.0) == "-2");
  BOOST_TEST(format_message(0.1) == "0.1");
  BOOST_TEST(format_message(1.0 / 3.0) == "0.3333333333333333");
  BOOST_TEST(format_message(1e30) == "1e+30");
  BOOST_TEST(format_message(1e-7) == "1e-07");
  BOOST_TEST(format_message(123456.0) == "123456");
  // A float in its own precision: 0.1f is not printed as its double.
  BOOST_TEST(format_message(0.1f) == "0.1");
  BOOST_TEST(format_message(16777217.0f) == "16777216");
  const double inf = std::numeric_limits<double>::infinity();
  BOOST_TEST(format_message(inf, " ", -inf, " ", std::numeric_limits<float>::quiet_NaN()) ==
             "inf -inf nan");
  // Round trip: the text parses back to the very same value.
  for (const double v : {0.1 + 0.2, 1e-310, 6.02214076e23, -0.0, 2.0 / 3.0}) {
    BOOST_TEST(std::strtod(format_message(v).c_str(), nullptr) == v);
  }
}

BOOST_AUTO_TEST_CASE(shapes_ranges_and_size2_print_in_brackets) {
  BOOST_TEST(format_message(Shape{2, 3}) == "[2, 3]");
  BOOST_TEST(format_message(Shape{}) == "[]");
  BOOST_TEST(format_message(std::vector<std::int64_t>{-1, 4}) == "[-1, 4]");
  BOOST_TEST(format_message(std::vector<double>{0.5, 1.0}) == "[0.5, 1]");
  BOOST_TEST(format_message(Size2(1, -1)) == "[1, -1]");
  BOOST_TEST(to_string(Shape{4}) == format_message(Shape{4}));
}

BOOST_AUTO_TEST_CASE(check_throws_the_given_type_with_the_parts_as_message) {
  const double p = 1.5;
  try {
    XGRAD_CHECK(p < 1, ValueError, "dropout: p must be in [0, 1), got ", p);
    BOOST_ERROR("no error");
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()) == "dropout: p must be in [0, 1), got 1.5");
  }
  BOOST_CHECK_THROW(throw_error<ShapeError>("x ", Shape{1}), ShapeError);
  BOOST_CHECK_THROW(throw_error<IOError>("x"), Error);
}

BOOST_AUTO_TEST_CASE(a_passing_check_does_not_evaluate_its_message) {
  int evaluated = 0;
  auto part = [&evaluated] {
    ++evaluated;
    return std::string("expensive");
  };
  XGRAD_CHECK(true, ValueError, "never ", part());
  BOOST_TEST(evaluated == 0);
  BOOST_CHECK_THROW(XGRAD_CHECK(false, ValueError, "now ", part()), ValueError);
  BOOST_TEST(evaluated == 1);
}

BOOST_AUTO_TEST_CASE(require_defined_names_the_op_and_the_argument) {
  try {
    require_defined(Tensor<float>(), "conv2d", "weight");
    BOOST_ERROR("no error");
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()) == "conv2d: weight is undefined");
  }
  require_defined(zeros<float>({1}), "conv2d", "weight");
}

BOOST_AUTO_TEST_SUITE_END()
