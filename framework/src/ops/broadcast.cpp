#include "xgrad/ops/broadcast.hpp"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xreducer.hpp>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/errors.hpp"

namespace xgrad {

template <class T>
xt::xarray<T> reduce_to_shape(xt::xarray<T> grad, const Shape& target) {
  if (grad.shape() == target) return grad;
  XGRAD_CHECK(grad.dimension() >= target.size(), ShapeError, "reduce_to_shape: gradient of shape ",
              grad.shape(), " has fewer axes than the target shape ", target);
  const std::size_t extra = grad.dimension() - target.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < grad.dimension(); ++i) {
    XGRAD_CHECK(i < extra || target[i - extra] == 1 || target[i - extra] == grad.shape()[i],
                ShapeError, "reduce_to_shape: target shape ", target,
                " does not broadcast to the gradient's shape ", grad.shape());
    if (i < extra || (target[i - extra] == 1 && grad.shape()[i] != 1)) axes.push_back(i);
  }
  // An empty gradient sums to zeros (xt::sum over an axis of extent 0 crashes).
  if (grad.size() == 0) return detail::new_zeros<T>(target);
  xt::xarray<T> summed =
      axes.empty() ? std::move(grad)
                   : xt::xarray<T>(xt::sum(grad, axes, xt::evaluation_strategy::immediate));
  summed.reshape(target);
  return summed;
}

template xt::xarray<float> reduce_to_shape(xt::xarray<float>, const Shape&);
template xt::xarray<double> reduce_to_shape(xt::xarray<double>, const Shape&);

}  // namespace xgrad
