// Printing tensors (operator<<, PyTorch's layout plus shape and dtype) and
// module summaries: the exact text for each format rule.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include "test_util.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/print.hpp"
#include "xgrad/summary.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_print)

using namespace xgrad;

namespace {

template <class T>
std::string printed(const Tensor<T>& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(fixed_point_values_are_right_aligned_rows_with_shape_dtype_and_grad) {
  const auto w = tensor<float>({{1.0f, -2.5f}, {3.0f, 4.0f}}, true);
  BOOST_TEST(printed(w) ==
             "tensor([[ 1.0000, -2.5000],\n"
             "        [ 3.0000,  4.0000]], shape=[2, 2], dtype=float32, requires_grad=true)");
}

BOOST_AUTO_TEST_CASE(format_table) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* what;
    Tensor<double> t;
    const char* text;
  };
  const Case cases[] = {
      {"integral values", tensor<double>({1, -2, 3}),
       "tensor([ 1., -2.,  3.], shape=[3], dtype=float64)"},
      {"a small magnitude: scientific", tensor<double>({1e-5, 1.0}),
       "tensor([1.0000e-05, 1.0000e+00], shape=[2], dtype=float64)"},
      {"a range over 1000: scientific", tensor<double>({0.5, 600.25}),
       "tensor([5.0000e-01, 6.0025e+02], shape=[2], dtype=float64)"},
      {"large integers: scientific", tensor<double>({1e8, 1}),
       "tensor([1.0000e+08, 1.0000e+00], shape=[2], dtype=float64)"},
      {"non-finite values keep the finite ones' format", tensor<double>({nan, inf, -inf, 1.5}),
       "tensor([   nan,    inf,   -inf, 1.5000], shape=[4], dtype=float64)"},
      {"0-d", scalar<double>(3.5), "tensor(3.5000, shape=[], dtype=float64)"},
      {"empty", zeros<double>({0}), "tensor([], shape=[0], dtype=float64)"},
      {"empty rows", zeros<double>({2, 0}),
       "tensor([[],\n        []], shape=[2, 0], dtype=float64)"},
      {"3-d: blocks separated by a blank line", tensor<double>({{{1, 2}}, {{3, 4}}}),
       "tensor([[[1., 2.]],\n\n        [[3., 4.]]], shape=[2, 1, 2], dtype=float64)"},
      {"undefined", Tensor<double>(), "tensor(undefined)"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) { BOOST_TEST(printed(c.t) == c.text); }
  }
}

BOOST_AUTO_TEST_CASE(an_op_result_shows_its_grad_fn_not_requires_grad) {
  const auto a = tensor<float>({1.0f, 2.0f}, true);
  BOOST_TEST(printed(mul(a, 2.0f)) ==
             "tensor([2., 4.], shape=[2], dtype=float32, grad_fn=<MulBackward>)");
  BOOST_TEST(printed(a.detach()) == "tensor([1., 2.], shape=[2], dtype=float32)");
}

BOOST_AUTO_TEST_CASE(more_than_1000_elements_are_summarized_with_three_edge_items) {
  BOOST_TEST(printed(arange<double>(0, 1001)) ==
             "tensor([   0.,    1.,    2., ...,  998.,  999., 1000.], shape=[1001], "
             "dtype=float64)");
  // 1000 elements are still printed in full.
  BOOST_TEST(printed(zeros<double>({1000})).find("...") == std::string::npos);

  xt::xarray<float> a = xt::xarray<float>::from_shape({40, 30});
  for (std::size_t r = 0; r < 40; ++r)
    for (std::size_t c = 0; c < 30; ++c) a(r, c) = static_cast<float>(100 * r + c);
  BOOST_TEST(printed(Tensor<float>(a)) ==
             "tensor([[   0.,    1.,    2., ...,   27.,   28.,   29.],\n"
             "        [ 100.,  101.,  102., ...,  127.,  128.,  129.],\n"
             "        [ 200.,  201.,  202., ...,  227.,  228.,  229.],\n"
             "        ...,\n"
             "        [3700., 3701., 3702., ..., 3727., 3728., 3729.],\n"
             "        [3800., 3801., 3802., ..., 3827., 3828., 3829.],\n"
             "        [3900., 3901., 3902., ..., 3927., 3928., 3929.]], shape=[40, 30], "
             "dtype=float32)");
}

BOOST_AUTO_TEST_CASE(long_rows_wrap_at_80_columns_aligned_under_the_first_item) {
  // 30 items of width 7 ("29.5000"): (80 - 8) / (7 + 2) = 8 per line, 4 lines.
  const std::string text = printed(add(arange<double>(0, 30), 0.5));
  std::istringstream lines(text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    BOOST_TEST(line.size() <= 80u + 40u * (count == 4), line);  // the last carries shape, dtype
    if (count > 1) BOOST_TEST(line.rfind("        ", 0) == 0u, line);
  }
  BOOST_TEST(count == 4);
  BOOST_TEST(text.find(" 7.5000,\n         8.5000") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(to_string_equals_the_streamed_text) {
  const auto t = tensor<double>({0.25, 0.5});
  BOOST_TEST(to_string(t) == printed(t));
}

BOOST_AUTO_TEST_CASE(summary_lists_the_tree_with_shapes_and_counts) {
  Generator gen(0);
  nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(2, 4, true, gen),
                              std::make_shared<nn::ReLU<float>>(),
                              std::make_shared<nn::Linear<float>>(4, 3, true, gen)};
  // Counts right-aligned after the widest line (38 columns) plus two spaces.
  const std::string expected =
      "Sequential                              27\n"
      "  (0): Linear  weight [4, 2], bias [4]  12\n"
      "  (1): ReLU\n"
      "  (2): Linear  weight [3, 4], bias [3]  15\n"
      "total: 27 parameters (27 trainable) in 4 modules\n";
  BOOST_TEST(summary(model) == expected);
  std::ostringstream out;
  out << model;
  BOOST_TEST(out.str() == expected);
}

BOOST_AUTO_TEST_CASE(summary_counts_frozen_and_shared_parameters_once) {
  auto shared = std::make_shared<nn::Linear<double>>(1, 1);  // 2 parameters
  nn::Sequential<double> model{shared, shared};
  model.parameters()[1].set_requires_grad(false);  // freeze the bias
  const std::string text = summary(model);
  BOOST_TEST(text.find("total: 2 parameters (1 trainable)") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()  // test_print
