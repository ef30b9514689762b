// The backward pass: walks the recorded graph from a root in topological order.
#pragma once

#include "xgrad/tensor.hpp"

namespace xgrad {

// Back-propagates `gradient` (shape of `root`) to every leaf that requires
// grad, accumulating into their grad(). Intermediate gradients are not kept.
// Without retain_graph the graph's saved tensors are released afterwards and a
// second backward through it throws StateError.
//
// Each leaf's hooks (Tensor::register_hook) run once, as soon as its gradient
// of this backward is complete, before anything is committed. The commit comes
// last: it adds each leaf's gradient to its existing grad() in place (one
// version bump) or gives it a new one. On any exception (from a node, a hook
// or a shape check) no leaf gradient has changed and the graph is left as it
// was, but the hooks that ran before it have run; running out of memory is a
// ResourceError.
template <class T>
void run_backward(const Tensor<T>& root, xt::xarray<T> gradient, bool retain_graph);

}  // namespace xgrad
