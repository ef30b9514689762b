// The backward pass: walks the recorded graph from a root in topological order.
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad {

// Back-propagates `gradient` (shape of `root`) to every leaf that requires
// grad, accumulating into their grad(). Intermediate gradients are not kept.
// Without retain_graph the graph's saved tensors are released afterwards and a
// second backward through it throws StateError. On any exception no leaf
// gradient has changed and the graph is left as it was; running out of memory
// is a ResourceError.
template <class T>
void run_backward(const Tensor<T>& root, xt::xarray<T> gradient, bool retain_graph);

}  // namespace xgrad
