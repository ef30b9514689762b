#include <boost/test/unit_test.hpp>

#include "xgrad/function.hpp"
#include "xgrad/tensor.hpp"

namespace {
struct Square : xgrad::Function<Square> {
  static constexpr const char* name = "SquareBackward";
  template <class T>
  static xt::xarray<T> forward(xgrad::Context<T>& ctx, const xgrad::Tensor<T>& x) {
    ctx.save_for_backward({x});
    return x.data() * x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(xgrad::Context<T>& ctx, const xt::xarray<T>& g) {
    return {xt::xarray<T>(T(2) * ctx.saved(0) * g)};
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(smoke) {
  auto x = xgrad::tensor<double>({1.0, 2.0, 3.0}, true);
  auto y = Square::apply(x);
  BOOST_TEST(xgrad::live_node_count() == 1);
  y.backward(xt::xarray<double>({1.0, 1.0, 1.0}));
  BOOST_TEST(x.grad().data()(2) == 6.0);
}
