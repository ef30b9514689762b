// For the check_state of modules whose two scalar buffers stay empty until
// computed (FakeQuantize's scale and zero_point, APoTObserver's min_val and
// max_val): false when both are empty (nothing to check yet), true when both
// hold one value; otherwise ValueError naming both keys and shapes, after
// `where` ("FakeQuantize::load_state_dict: ").
#pragma once

#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/module.hpp"

namespace xgrad::quant::detail {

template <class T>
bool holds_scalar_pair(const typename Module<T>::StateCandidate& state, const std::string& where,
                       const std::string& a, const std::string& b) {
  const xt::xarray<T>&x = state[a], &y = state[b];
  if (x.size() == 0 && y.size() == 0) return false;
  XGRAD_CHECK(x.size() == 1 && y.size() == 1 && x.dimension() == 1 && y.dimension() == 1,
              ValueError, where, state.key(a), " and ", state.key(b),
              " must both have shape [0] or both [1], got ", x.shape(), " and ", y.shape());
  return true;
}

}  // namespace xgrad::quant::detail
