// Reverse-mode backward over the graph recorded by Function::apply.
//
// 1. Collect the nodes reachable from the root with an explicit stack (no
//    recursion: chains of 100,000 ops are fine) and the leaves that will
//    receive a gradient, and count, for each node and each leaf, how many
//    recorded consumers feed it a gradient. Refuse released nodes before
//    touching anything.
// 2. Kahn's algorithm: a node runs once all its consumers have run; its
//    incoming gradient is summed in node scratch space and freed after use.
//    Leaf gradients are summed in scratch space too. When a leaf's count
//    reaches zero its gradient of this backward is complete: its hooks
//    (Tensor::register_hook) run then, and may replace it.
// 3. Leaf gradients are committed only at the end, so an exception (a
//    version-counter error, a bad custom backward, a throwing hook) leaves
//    every .grad as it was. Hooks that ran before it have run, though: what
//    they did outside the engine (DistributedDataParallel starts all-reduces)
//    is theirs to undo.
// 4. Without retain_graph, each node's saved tensors are released at the end.
#include "xgrad/engine.hpp"

#include <new>
#include <string>
#include <vector>

#include "xgrad/grad_mode.hpp"
#include "xgrad/node.hpp"

namespace xgrad {

namespace {

// Set while hooks run: a hook must not start another backward, which would
// reuse the scratch space of the leaves this one is still counting.
thread_local bool running_hooks = false;

// The scope of a leaf's hooks: grad mode off, as in PyTorch's backward.
struct HookScope {
  NoGradGuard no_grad;
  HookScope() { running_hooks = true; }
  ~HookScope() { running_hooks = false; }
  HookScope(const HookScope&) = delete;
  HookScope& operator=(const HookScope&) = delete;
};

template <class T>
void accumulate(xt::xarray<T>& into, bool& has, xt::xarray<T>&& grad) {
  if (has) {
    into += grad;
    detail::recycle(grad);
  } else {
    into = std::move(grad);
    has = true;
  }
}

template <class T>
void clear_scratch(const std::vector<Node<T>*>& nodes,
                   const std::vector<AutogradMeta<T>*>& leaves) {
  for (auto* n : nodes) {
    n->has_pending_grad = false;
    n->pending_grad = xt::xarray<T>();
    n->pending_dependencies = 0;
  }
  for (auto* m : leaves) {
    m->has_pending_grad = false;
    m->pending_grad = xt::xarray<T>();
    m->pending_dependencies = 0;
  }
}

// A leaf's accumulated gradient can be resized through grad().mutable_data();
// adding a gradient of another shape to it would broadcast or throw mid-commit.
template <class T>
void check_grad_shape(const Storage<T>& grad, const Shape& shape) {
  XGRAD_CHECK(grad.data.shape() == shape, ShapeError,
              "backward: a leaf's accumulated gradient has shape ", grad.data.shape(),
              " but its new gradient has shape ", shape, " (was grad() resized in place?)");
}

// Step 2's last act for a leaf: its gradient of this backward is complete.
// Runs its hooks on a Tensor that takes the gradient's buffer, and takes the
// result back.
template <class T>
void run_hooks(AutogradMeta<T>& meta, xt::xarray<T>& gradient) {
  bool any = false;
  for (const auto& hook : meta.hooks) any = any || static_cast<bool>(hook);
  if (!any) return;
  const Shape shape = gradient.shape();
  Tensor<T> grad(std::move(gradient));
  {
    HookScope scope;
    // By index: a hook may register or remove hooks of this very tensor.
    for (std::size_t i = 0; i < meta.hooks.size(); ++i) {
      if (!meta.hooks[i]) continue;
      const auto hook = meta.hooks[i];  // a copy: the slot may be removed meanwhile
      Tensor<T> replaced = hook(grad);
      if (!replaced.defined()) continue;
      XGRAD_CHECK(replaced.shape() == shape, ShapeError, "backward: hook ", i,
                  " of a leaf of shape ", shape, " returned a gradient of shape ",
                  replaced.shape());
      grad = std::move(replaced);
    }
  }
  // Take the buffer back unless a hook kept a handle to it.
  std::shared_ptr<Storage<T>> storage = grad.storage();
  grad = Tensor<T>();
  if (storage.use_count() == 1) {
    gradient = std::move(storage->data);
  } else {
    gradient = storage->data;
  }
}

}  // namespace

template <class T>
void run_backward(const Tensor<T>& root, xt::xarray<T> gradient, bool retain_graph) {
  XGRAD_CHECK(!running_hooks, StateError,
              "backward: called from a gradient hook, which the engine does not support");
  XGRAD_CHECK(root.requires_grad(), StateError,
              "backward: the tensor does not require grad and has no grad_fn");
  XGRAD_CHECK(gradient.shape() == root.shape(), ShapeError, "backward: gradient shape ",
              gradient.shape(), " differs from the output shape ", root.shape());
  const auto& root_meta = root.autograd_meta();
  if (!root_meta->grad_fn) {  // a leaf: its gradient is the given one
    if (root_meta->grad) check_grad_shape(*root_meta->grad, gradient.shape());
    run_hooks(*root_meta, gradient);
    if (root_meta->grad) {
      root_meta->grad->data += gradient;
      ++root_meta->grad->version;
    } else {
      root_meta->grad =
          std::make_shared<Storage<T>>(Storage<T>{std::move(gradient), 0, {}, nullptr});
    }
    return;
  }

  // 1. Discover the graph and count dependencies.
  std::vector<Node<T>*> nodes;
  std::vector<AutogradMeta<T>*> leaves;  // in the order discovered
  Node<T>* root_node = root_meta->grad_fn.get();
  {
    std::vector<Node<T>*> stack{root_node};
    root_node->pending_dependencies = 0;
    nodes.push_back(root_node);
    // During discovery has_pending_grad serves as the "visited" mark.
    root_node->has_pending_grad = true;
    while (!stack.empty()) {
      Node<T>* n = stack.back();
      stack.pop_back();
      if (n->ctx.released()) {
        for (auto* m : nodes) m->has_pending_grad = false, m->pending_dependencies = 0;
        for (auto* m : leaves) m->pending_dependencies = 0;
        throw_error<StateError>(
            "backward: trying to backward through the graph a second time: the saved tensors of ",
            n->name(), " were already freed (pass retain_graph=true to the first backward)");
      }
      for (const auto& edge : n->next) {
        if (!edge) continue;
        if (!edge->grad_fn) {
          if (!edge->requires_grad) continue;  // turned off since recording: no gradient
          if (edge->pending_dependencies++ == 0) leaves.push_back(edge.get());
          continue;
        }
        Node<T>* child = edge->grad_fn.get();
        if (!child->has_pending_grad) {
          child->has_pending_grad = true;
          child->pending_dependencies = 0;
          nodes.push_back(child);
          stack.push_back(child);
        }
        ++child->pending_dependencies;
      }
    }
    for (auto* n : nodes) n->has_pending_grad = false;
  }

  // 2. Run the nodes in topological order.
  std::vector<Node<T>*> ready{root_node};
  root_node->pending_grad = std::move(gradient);
  root_node->has_pending_grad = true;
  try {
    while (!ready.empty()) {
      Node<T>* n = ready.back();
      ready.pop_back();
      xt::xarray<T> grad_out = std::move(n->pending_grad);
      n->pending_grad = xt::xarray<T>();
      n->has_pending_grad = false;
      std::vector<xt::xarray<T>> grads = n->apply(std::move(grad_out));
      XGRAD_CHECK(grads.size() == n->next.size(), ValueError, n->name(), ": backward returned ",
                  grads.size(), " gradients for ", n->next.size(), " tensor inputs");
      for (std::size_t i = 0; i < grads.size(); ++i) {
        AutogradMeta<T>* meta = n->next[i].get();
        if (!meta) continue;
        const Shape& expected = n->ctx.input_shape(i);
        XGRAD_CHECK(grads[i].shape() == expected, ShapeError, n->name(), ": gradient for input ", i,
                    " has shape ", grads[i].shape(), " but the input has shape ", expected);
        if (Node<T>* child = meta->grad_fn.get()) {
          accumulate(child->pending_grad, child->has_pending_grad, std::move(grads[i]));
          if (--child->pending_dependencies == 0) ready.push_back(child);
        } else if (meta->pending_dependencies > 0) {  // a leaf counted in step 1
          accumulate(meta->pending_grad, meta->has_pending_grad, std::move(grads[i]));
          if (--meta->pending_dependencies == 0) run_hooks(*meta, meta->pending_grad);
        }
      }
    }
    // Checked before the first commit, so that committing cannot fail halfway.
    for (auto* meta : leaves) {
      if (meta->grad) check_grad_shape(*meta->grad, meta->pending_grad.shape());
    }
  } catch (const std::bad_alloc&) {
    clear_scratch(nodes, leaves);
    throw_error<ResourceError>(
        "backward: out of memory while computing gradients (no gradient changed)");
  } catch (...) {
    clear_scratch(nodes, leaves);
    throw;
  }

  // 3. Commit leaf gradients; 4. release the graph.
  for (auto* meta : leaves) {
    if (meta->grad) {
      meta->grad->data += meta->pending_grad;
      ++meta->grad->version;
      detail::recycle(meta->pending_grad);
    } else {
      meta->grad = std::make_shared<Storage<T>>();
      meta->grad->data = std::move(meta->pending_grad);
    }
    meta->pending_grad = xt::xarray<T>();
    meta->has_pending_grad = false;
  }
  if (!retain_graph) {
    for (auto* n : nodes) n->ctx.release();
  }
}

template void run_backward(const Tensor<float>&, xt::xarray<float>, bool);
template void run_backward(const Tensor<double>&, xt::xarray<double>, bool);

}  // namespace xgrad
