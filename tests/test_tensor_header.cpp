// What a program that includes only <xgrad/tensor.hpp> can do, as a libtorch
// program can with <torch/torch.h>: print a tensor, build one from a vector,
// index it, read sizes and items. Its own executable (tests/meson.build):
// in the unity-built suite executable other files' includes would hide a
// missing one.
#include <boost/test/unit_test.hpp>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/tensor.hpp>

BOOST_AUTO_TEST_CASE(a_tensor_prints_with_the_tensor_header_alone) {
  const xgrad::Tensor<float> t(std::vector<float>{1, 2, 3});
  std::ostringstream out;
  out << t;
  BOOST_TEST(out.str() == "tensor([1., 2., 3.], shape=[3], dtype=float32)");
}

BOOST_AUTO_TEST_CASE(indexing_sizes_and_items_with_the_tensor_header_alone) {
  using namespace xgrad::indexing;
  const xgrad::Tensor<double> t(std::vector<double>{1, 2, 3, 4});
  const auto m = t.view({2, 2});
  BOOST_TEST(m.size(0) == 2);
  BOOST_TEST(m[1][0].item<float>() == 3.0f);
  BOOST_TEST(m.index({Slice(), 1}).sizes() == (xgrad::Shape{2}));
  BOOST_TEST(m.unsqueeze(0).flatten(0, 1).squeeze().sizes() == (xgrad::Shape{2, 2}));
}

BOOST_AUTO_TEST_CASE(sizes_print_with_the_tensor_header_alone) {
  const xgrad::Tensor<float> t(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::ostringstream out;
  out << t.view({2, 3}).sizes();
  BOOST_TEST(out.str() == "[2, 3]");
}
