// Tensors from flat data (std::vector, pointer + size), to and from
// xt::xarray, and between float and double.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/factory.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_factory)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;

BOOST_AUTO_TEST_CASE(from_vector_fills_the_shape_row_major) {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  const Tensor<float> a = from_vector(v, {2, 3});
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<float>{{1, 2, 3}, {4, 5, 6}}));
  BOOST_TEST(!a.requires_grad());
  BOOST_TEST(from_vector(v).shape() == (Shape{6}));
  BOOST_TEST(from_vector(v, {6}).shape() == (Shape{6}));  // {6} is a shape, not a flag
  BOOST_TEST(from_vector(v, {3, 2}, /*requires_grad=*/true).requires_grad());
  BOOST_TEST(from_vector(std::vector<double>{7}, {}).item() == 7.0);  // 0-d
}

BOOST_AUTO_TEST_CASE(from_blob_copies_so_the_buffer_may_go_away) {
  std::vector<double> buffer = {1, 2, 3, 4};
  const Tensor<double> a = from_blob(buffer.data(), buffer.size(), {2, 2});
  buffer.assign(4, 0.0);
  BOOST_TEST(equal_arrays(a.data(), xt::xarray<double>{{1, 2}, {3, 4}}));
  BOOST_TEST(from_blob<float>(nullptr, 0, {0, 3}).shape() == (Shape{0, 3}));
}

BOOST_AUTO_TEST_CASE(factory_errors_name_the_counts) {
  const std::vector<float> v = {1, 2, 3};
  BOOST_TEST(message_of([&] {
               from_vector(v, {2, 2});
             }) == "from_vector: 3 values do not fill shape [2, 2] (4 elements)");
  BOOST_CHECK_THROW(from_vector(v, {2, 2}), ShapeError);
  BOOST_TEST(message_of([&] { from_blob(v.data(), 3, {4}); }) ==
             "from_blob: 3 elements do not fill shape [4] (4 elements)");
  BOOST_CHECK_THROW(from_blob<float>(nullptr, 2, {2}), ValueError);
}

BOOST_AUTO_TEST_CASE(xarray_round_trip) {
  xt::xarray<double> a{{1.5, 2.5}};
  const Tensor<double> t(a, /*requires_grad=*/true);
  BOOST_TEST(equal_arrays(t.data(), a));
  a(0, 0) = 9;  // the tensor holds its own copy
  BOOST_TEST(t.data()(0, 0) == 1.5);
  const xt::xarray<double> back = t.data();
  BOOST_TEST(equal_arrays(back, xt::xarray<double>{{1.5, 2.5}}));
}

BOOST_AUTO_TEST_CASE(float_double_conversion_free_and_method_forms) {
  const auto f = tensor<float>({0.1f, -2.0f});
  const Tensor<double> d = to<double>(f);
  BOOST_TEST(d.data()(0) == static_cast<double>(0.1f));  // exact widening
  BOOST_TEST(equal_arrays(f.to<double>().data(), d.data()));
  const Tensor<float> back = d.to<float>();
  BOOST_TEST(equal_arrays(back.data(), f.data()));
  BOOST_TEST(tensor<double>({0.1}).to<float>().item() == 0.1f);  // rounds to nearest
  BOOST_TEST(!d.requires_grad());
}

BOOST_AUTO_TEST_CASE(converting_a_tensor_that_requires_grad_refuses_to_drop_the_gradient) {
  const auto w = tensor<float>({1.0f}, true);
  BOOST_CHECK_THROW(to<double>(w), StateError);
  BOOST_CHECK_THROW(to<double>(mul(w, 2.0f)), StateError);
  BOOST_TEST(to<double>(w.detach()).item() == 1.0);
  NoGradGuard no_grad;
  BOOST_TEST(to<double>(w).item() == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()  // test_factory
