#include "xgrad/node.hpp"

#include "xgrad/detail/array_cache.hpp"

#include <atomic>
#include <string>

namespace xgrad {

namespace {
std::atomic<std::int64_t> live_nodes{0};

// Destroying a long chain node by node would recurse once per node and
// overflow the stack. Instead, a dying node hands its edges to this
// thread-local list and the outermost destructor releases them in a loop.
template <class T>
struct DeferredRelease {
  std::vector<std::shared_ptr<AutogradMeta<T>>> pending;
  bool draining = false;
};
template <class T>
DeferredRelease<T>& deferred() {
  thread_local DeferredRelease<T> d;
  return d;
}
}  // namespace

std::int64_t live_node_count() { return live_nodes.load(); }

template <class T>
void Context<T>::save_for_backward(std::initializer_list<Tensor<T>> tensors) {
  for (const auto& t : tensors) {
    XGRAD_CHECK(t.defined(), ValueError, op_name, ": save_for_backward got an undefined tensor");
    saved_.push_back({t.storage(), t.version()});
  }
}

template <class T>
const xt::xarray<T>& Context<T>::saved(std::size_t i) const {
  XGRAD_CHECK(!released_, StateError, op_name,
              ": saved tensors were already freed. Trying to backward through the graph a second "
              "time? Pass retain_graph=true to the first backward.");
  XGRAD_CHECK(i < saved_.size(), ValueError, op_name, ": saved tensor ", i, " requested but only ",
              saved_.size(), " were saved");
  const SavedTensor& s = saved_[i];
  XGRAD_CHECK(
      s.storage->version == s.version, StateError, op_name, ": saved tensor ", i,
      " needed for gradient computation was modified by an in-place operation (it is at version ",
      s.storage->version, "; expected version ", s.version, ")");
  return s.storage->data;
}

template <class T>
const xt::xarray<T>& Context<T>::output() const {
  XGRAD_CHECK(output_.storage, StateError, op_name,
              ": output() used without save_output() in forward");
  XGRAD_CHECK(output_.storage->version == output_.version, StateError, op_name,
              ": the output needed for gradient computation was modified by an in-place operation "
              "(it is at version ",
              output_.storage->version, "; expected version ", output_.version, ")");
  return output_.storage->data;
}

template <class T>
void Context<T>::add_input(const Shape& shape, bool needs_grad) {
  inputs_.push_back(Input{shape, needs_grad});
}

template <class T>
void Context<T>::set_output(std::shared_ptr<Storage<T>> output) {
  output_.version = output->version;
  output_.storage = std::move(output);
}

template <class T>
void Context<T>::release() {
  saved_.clear();
  saved_.shrink_to_fit();
  output_ = SavedTensor{};
  // Large saved arrays go back to the array cache like a tensor's storage:
  // freed, the next step would fault the same pages in again.
  for (auto& a : saved_arrays) detail::recycle(a);
  saved_arrays.clear();
  saved_arrays.shrink_to_fit();
  // saved_ints can be as large as the output (max's argmax, labels).
  saved_ints.clear();
  saved_ints.shrink_to_fit();
  saved_scalars.clear();
  params_.reset();
  released_ = true;
}

template <class T>
Node<T>::Node() {
  ++live_nodes;
}

template <class T>
Node<T>::~Node() {
  --live_nodes;
  auto& d = deferred<T>();
  for (auto& edge : next) {
    if (edge) d.pending.push_back(std::move(edge));
  }
  if (d.draining) return;
  d.draining = true;
  while (!d.pending.empty()) {
    auto edge = std::move(d.pending.back());
    d.pending.pop_back();
    edge.reset();  // may destroy a node, which only appends to `pending`
  }
  d.draining = false;
}

XGRAD_INSTANTIATE_CLASS(Context);
XGRAD_INSTANTIATE_CLASS(Node);

}  // namespace xgrad
