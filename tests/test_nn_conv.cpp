// CNN layers in xgrad::nn: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and
// BatchNorm2d. PyTorch's names, shapes and default initialization, forward as
// the functional op, option checks, and a small CNN that learns.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <vector>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>

#include "test_util.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/random.hpp"

using xgrad::Shape;
using xgrad::Tensor;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::message_of;
namespace nn = xgrad::nn;

namespace {

template <class Pairs>
std::vector<std::string> names_of(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& kv : pairs) out.push_back(kv.first);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv2d_layer)

BOOST_AUTO_TEST_CASE(parameters_have_pytorchs_names_and_shapes) {
  nn::Conv2d<float> conv(nn::Conv2dOptions(4, 6, {3, 2}).groups(2));
  const auto params = conv.named_parameters();
  BOOST_TEST(names_of(params) == std::vector<std::string>({"weight", "bias"}));
  BOOST_TEST(conv.weight.shape() == Shape({6, 2, 3, 2}));  // [out, in / groups, kh, kw]
  BOOST_TEST(conv.bias.shape() == Shape({6}));
  nn::Conv2d<float> no_bias(nn::Conv2dOptions(3, 8, 5).bias(false));
  BOOST_TEST(names_of(no_bias.named_parameters()) == std::vector<std::string>({"weight"}));
  BOOST_TEST(!no_bias.bias.defined());
  BOOST_TEST(no_bias.named_buffers().empty());
}

BOOST_AUTO_TEST_CASE(options_are_kept_as_given) {
  const auto opts = nn::Conv2dOptions(2, 4, 3).stride({2, 1}).padding(1).dilation(2).bias(false);
  nn::Conv2d<double> conv(opts);
  BOOST_TEST(conv.options().in_channels() == 2);
  BOOST_TEST(conv.options().out_channels() == 4);
  BOOST_TEST((conv.options().kernel_size() == xgrad::Size2(3, 3)));
  BOOST_TEST((conv.options().stride() == xgrad::Size2(2, 1)));
  BOOST_TEST((conv.options().padding() == xgrad::Size2(1)));
  BOOST_TEST((conv.options().dilation() == xgrad::Size2(2)));
  BOOST_TEST(conv.options().groups() == 1);
  BOOST_TEST(!conv.options().bias());
}

// fan_in = in / groups * kh * kw = 2 * 3 * 2 = 12: every weight and bias in
// U(-1/sqrt(12), 1/sqrt(12)).
BOOST_AUTO_TEST_CASE(default_initialization_is_bounded_by_one_over_sqrt_fan_in) {
  xgrad::Generator gen(5);
  nn::Conv2d<double> conv(nn::Conv2dOptions(4, 64, {3, 2}).groups(2), gen);
  const double bound = 1 / std::sqrt(12.0);
  BOOST_TEST(xt::amax(xt::abs(conv.weight.data()))() <= bound);
  BOOST_TEST(xt::amax(xt::abs(conv.bias.data()))() <= bound);
  // 768 weight draws fill the interval: the extremes are within 1% of it.
  BOOST_TEST(xt::amax(xt::abs(conv.weight.data()))() > 0.99 * bound);
  // The same seed gives the same layer.
  xgrad::Generator again(5);
  nn::Conv2d<double> twin(nn::Conv2dOptions(4, 64, {3, 2}).groups(2), again);
  BOOST_TEST(equal_arrays(twin.weight.data(), conv.weight.data()));
  BOOST_TEST(equal_arrays(twin.bias.data(), conv.bias.data()));
}

BOOST_AUTO_TEST_CASE(forward_is_the_functional_conv2d) {
  xgrad::Generator gen(6);
  nn::Conv2d<double> conv(nn::Conv2dOptions(2, 3, 3).stride(2).padding(1), gen);
  const auto x = xgrad::randn<double>({2, 2, 7, 6}, gen);
  BOOST_TEST(equal_arrays(conv(x).data(), xgrad::conv2d(x, conv.weight, conv.bias, 2, 1).data()));
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_at_construction) {
  const auto refuses = [](const nn::Conv2dOptions& o, const std::string& part) {
    const std::string msg = message_of([&] { nn::Conv2d<float> c(o); });
    BOOST_TEST(contains(msg, "Conv2d"), msg);
    BOOST_TEST(contains(msg, part), msg << " lacks " << part);
  };
  refuses(nn::Conv2dOptions(0, 4, 3), "in_channels");
  refuses(nn::Conv2dOptions(2, 4, {3, 0}), "kernel_size");
  refuses(nn::Conv2dOptions(2, 4, 3).stride(0), "stride");
  refuses(nn::Conv2dOptions(2, 4, 3).padding(-1), "padding");
  refuses(nn::Conv2dOptions(2, 4, 3).dilation({1, 0}), "dilation");
  refuses(nn::Conv2dOptions(2, 4, 3).groups(4), "groups");
  refuses(nn::Conv2dOptions(4, 6, 3).groups(4), "groups");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pool_layers)

BOOST_AUTO_TEST_CASE(pools_forward_to_their_functional_ops_and_have_no_state) {
  xgrad::Generator gen(7);
  const auto x = xgrad::randn<double>({2, 3, 6, 5}, gen);
  nn::MaxPool2d<double> max_default(2);
  BOOST_TEST((max_default.options().stride() == xgrad::Size2(2)));  // = kernel_size
  BOOST_TEST(equal_arrays(max_default(x).data(), xgrad::max_pool2d(x, 2, 2).data()));
  nn::MaxPool2d<double> max_pool(nn::MaxPool2dOptions(3).stride(2).padding(1));
  BOOST_TEST(equal_arrays(max_pool(x).data(), xgrad::max_pool2d(x, 3, 2, 1).data()));
  nn::AvgPool2d<double> avg_pool(nn::AvgPool2dOptions({2, 3}).stride(1).padding({1, 0}));
  BOOST_TEST(equal_arrays(avg_pool(x).data(), xgrad::avg_pool2d(x, {2, 3}, 1, {1, 0}).data()));
  nn::AdaptiveAvgPool2d<double> gap(1);
  BOOST_TEST(equal_arrays(gap(x).data(), xgrad::adaptive_avg_pool2d(x, 1).data()));
  BOOST_TEST(gap(x).shape() == Shape({2, 3, 1, 1}));
  for (const xgrad::Module<double>* m :
       std::vector<const xgrad::Module<double>*>{&max_pool, &avg_pool, &gap}) {
    BOOST_TEST(m->named_parameters().empty());
    BOOST_TEST(m->named_buffers().empty());
  }
}

BOOST_AUTO_TEST_CASE(bad_pool_options_are_refused_at_construction) {
  BOOST_TEST(contains(message_of([] { nn::MaxPool2d<float> p(0); }), "MaxPool2d: kernel_size"));
  BOOST_TEST(contains(message_of([] { nn::AvgPool2d<float> p(nn::AvgPool2dOptions(2).stride(0)); }),
                      "AvgPool2d: stride"));
  BOOST_TEST(
      contains(message_of([] { nn::MaxPool2d<float> p(nn::MaxPool2dOptions(2).padding(2)); }),
               "MaxPool2d: padding"));
  BOOST_TEST(contains(message_of([] { nn::AdaptiveAvgPool2d<float> p(0); }),
                      "AdaptiveAvgPool2d: output_size"));
}

BOOST_AUTO_TEST_SUITE_END()
