// Tensor<T>: a cheap, copyable handle to an n-d array of T (float or double)
// plus its autograd state. Copying a Tensor aliases it (both handles see the
// same data and gradient); clone() makes a deep, differentiable copy and
// detach() shares the data without history.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/instantiate.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/shape.hpp"
#include "xgrad/tensor_index.hpp"

namespace xgrad {

template <class T>
class Node;
template <class T>
class Tensor;

// The data and a version counter bumped by every in-place write, so that a
// backward can tell that a tensor it saved was modified after saving. Large
// data goes to the array cache when the last tensor using it is gone.
//
// Ops that libtorch implements as views of their input (select, slice,
// narrow, index, view, reshape, squeeze, unsqueeze, flatten, transpose ...)
// copy here: a tensor owns one contiguous array whose shape is part of it, so
// two shapes cannot share one buffer. Such a copy remembers its source and the
// op (view_source, view_op): while the source is alive, an in-place write into
// the copy (fill_, copy_, index_put_) is refused, because in libtorch it would
// have written into the source too.
template <class T>
struct Storage {
  xt::xarray<T> data;
  std::uint64_t version = 0;
  std::weak_ptr<Storage> view_source;
  const char* view_op = nullptr;
  ~Storage() { detail::recycle(data); }
};

// Autograd state of one tensor. Nodes point at their inputs' AutogradMeta,
// never at their own output's: that keeps the graph free of cycles.
template <class T>
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<Storage<T>> grad;  // accumulated gradient of a leaf, or null
  std::shared_ptr<Node<T>> grad_fn;  // the op that produced it, null for leaves
  // Gradient hooks of a leaf (Tensor::register_hook), in registration order; a
  // removed one leaves an empty slot, so that positions stay valid.
  std::vector<std::function<Tensor<T>(const Tensor<T>&)>> hooks;
  // Scratch space of one backward call (see engine.cpp).
  xt::xarray<T> pending_grad;
  bool has_pending_grad = false;
  int pending_dependencies = 0;  // consumers that have not passed their gradient yet
};

template <class T>
class Tensor {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "xgrad tensors hold float or double");

 public:
  using value_type = T;

  // An undefined tensor (like a missing gradient); most calls on it throw.
  Tensor() = default;
  explicit Tensor(xt::xarray<T> data, bool requires_grad = false);
  // A 1-D copy of `values` (libtorch's torch::tensor(values)); from_vector in
  // factory.hpp takes a shape too. A template, so that it takes part only for
  // an actual std::vector<T> (a braced list is not one).
  template <class V, std::enable_if_t<std::is_same<V, std::vector<T>>::value, int> = 0>
  explicit Tensor(const V& values, bool requires_grad = false)
      : Tensor(xt::xarray<T>::from_shape(Shape{values.size()}), requires_grad) {
    std::copy(values.begin(), values.end(), impl_->storage->data.begin());
  }

  // A handle: copying aliases. Assignment only to a named tensor: `t[0] = x`
  // or `t.select(0, 0) = x` would assign to a temporary copy and change
  // nothing (libtorch writes through its view), so they do not compile; use
  // t.index_put_({0}, x).
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(const Tensor&) & = default;
  Tensor& operator=(Tensor&&) & noexcept = default;
  ~Tensor() = default;

  bool defined() const { return impl_ != nullptr; }

  // Queries.
  const Shape& shape() const { return data().shape(); }
  Sizes sizes() const { return shape(); }  // libtorch's name; prints as [2, 3]
  // The extent of axis `dim` (negative counts from the end), as libtorch's
  // int64_t so that t.view({t.size(0), -1}) compiles. ShapeError on a bad dim.
  std::int64_t size(std::ptrdiff_t dim) const;
  std::size_t numel() const { return data().size(); }
  std::size_t dim() const { return data().dimension(); }
  // The single element; throws ShapeError when numel() != 1.
  T item() const;
  // The single element as U (libtorch's item<float>()): a floating-point U
  // converts it; an integer U truncates it toward zero (ValueError for NaN, an
  // infinity or a value outside U's range); bool is value != 0.
  template <class U>
  U item() const {
    static_assert(std::is_arithmetic<U>::value, "item<U>(): U must be a number type");
    const T v = item();
    if constexpr (std::is_same<U, bool>::value) {
      return v != T(0);
    } else if constexpr (std::is_integral<U>::value) {
      check_integer_item(static_cast<double>(v), std::numeric_limits<U>::is_signed,
                         std::numeric_limits<U>::digits);
      return static_cast<U>(v);
    } else {
      return static_cast<U>(v);
    }
  }
  const xt::xarray<T>& data() const;
  // Writable access for in-place updates (optimizers, initializers). Bumps the
  // version counter, so any backward that saved this tensor will refuse to run.
  xt::xarray<T>& mutable_data();
  std::uint64_t version() const;

  // Autograd.
  bool requires_grad() const;
  // Only for leaves (tensors not produced by a recorded op). Returns *this.
  Tensor& set_requires_grad(bool requires_grad);
  // libtorch's spelling of the same: w.requires_grad_() marks a leaf.
  Tensor& requires_grad_(bool requires_grad = true) { return set_requires_grad(requires_grad); }
  bool is_leaf() const;
  // Accumulated gradient of a leaf; undefined until a backward reached it.
  Tensor grad() const;
  // Drops the accumulated gradient (grad() becomes undefined).
  void zero_grad();
  // Name of the op that produced this tensor ("MulBackward"), "" for leaves.
  const char* grad_fn_name() const;
  const std::shared_ptr<Node<T>>& grad_fn() const;
  // Back-propagates from a one-element tensor (gradient 1).
  void backward(bool retain_graph = false) const;
  // Back-propagates `gradient`, which must have this tensor's shape. The
  // engine takes over an rvalue's buffer; an lvalue is copied (over threads).
  void backward(const xt::xarray<T>& gradient, bool retain_graph = false) const;
  void backward(xt::xarray<T>&& gradient, bool retain_graph = false) const;

  // ---- gradient hooks ----
  // libtorch's Tensor::register_hook, for a leaf that requires grad (else
  // StateError): each backward that reaches this tensor calls hook(grad) once,
  // with this backward's whole gradient for it (every path summed), when no
  // further contribution can arrive and before it is added to grad(). A hook
  // returning a Tensor may replace the gradient (same shape, else ShapeError;
  // an undefined one keeps it); hooks run in registration order, each seeing
  // the previous one's result, with grad mode off. They must not call
  // backward(). Returns the position to pass to remove_hook.
  template <class F>
  unsigned register_hook(F&& hook) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const Tensor&>>) {
      return add_hook([h = std::forward<F>(hook)](const Tensor& grad) mutable {
        h(grad);
        return Tensor();
      });
    } else {
      return add_hook(std::forward<F>(hook));
    }
  }
  // ValueError unless `position` is a hook registered and not yet removed.
  void remove_hook(unsigned position);

  // Shares the data, no history, requires_grad false.
  Tensor detach() const;
  // Deep copy of the data; differentiable (gradient flows back to *this).
  Tensor clone() const;

  // In-place updates of leaves (outside recording: under NoGradGuard or on
  // tensors that do not require grad). Each bumps the version. StateError on
  // a copy made by a view-like op whose source is alive (see Storage).
  Tensor& fill_(T value);
  Tensor& copy_(const Tensor& source);
  // The checks of every in-place write above, for `op`'s messages.
  void check_writable(const char* op) const;

  // ---- method forms ----
  // As libtorch spells them: thin aliases of the free
  // functions (t.sum(1, true) is sum(t, 1, true) from xgrad/ops/reduce.hpp),
  // with their semantics and errors. Defined in tensor_methods.cpp, so this
  // header stays light; the free functions' headers document each one.
  Tensor sum() const;  // ops/reduce.hpp
  Tensor sum(const std::vector<std::ptrdiff_t>& dims, bool keepdim = false) const;
  template <class I,
            class = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value>>
  Tensor sum(I dim, bool keepdim = false) const {  // an integer, so t.sum({}) stays a list
    return sum(std::vector<std::ptrdiff_t>{static_cast<std::ptrdiff_t>(dim)}, keepdim);
  }
  Tensor mean() const;
  Tensor mean(const std::vector<std::ptrdiff_t>& dims, bool keepdim = false) const;
  template <class I,
            class = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value>>
  Tensor mean(I dim, bool keepdim = false) const {
    return mean(std::vector<std::ptrdiff_t>{static_cast<std::ptrdiff_t>(dim)}, keepdim);
  }
  Tensor max(std::ptrdiff_t dim, bool keepdim = false) const;
  // Indices as Labels (xt::xarray<std::int64_t>, ops/labels.hpp).
  xt::xarray<std::int64_t> argmax(std::ptrdiff_t dim, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;                          // ops/linalg.hpp
  Tensor reshape(const std::vector<std::ptrdiff_t>& shape) const;    // ops/shape_ops.hpp
  Tensor t() const;                                                  // transpose of a 2-D tensor
  Tensor permute(const std::vector<std::size_t>& dims) const;        // transpose(t, dims)
  Tensor transpose(std::ptrdiff_t dim0, std::ptrdiff_t dim1) const;  // swaps two axes
  Tensor slice(std::ptrdiff_t dim, std::int64_t start, std::int64_t end,
               std::int64_t step = 1) const;  // ops/slicing.hpp
  Tensor narrow(std::ptrdiff_t dim, std::int64_t start, std::int64_t length) const;
  Tensor select(std::ptrdiff_t dim, std::int64_t index) const;
  Tensor index_select(std::ptrdiff_t dim, const std::vector<std::size_t>& index) const;
  // t[i] is select(0, i) (a copy; gradients flow back into row i).
  Tensor operator[](std::int64_t index) const;
  // libtorch's indexing with integers, Slice, None and Ellipsis
  // (xgrad/tensor_index.hpp): a copy, differentiable (ops/indexing.hpp).
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  // Writes value (broadcast to the indexed region) into this tensor in place:
  // libtorch's t.index_put_({0, Slice()}, v). In-place rules as fill_.
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, T value);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& value);
  // Shapes (ops/shape_ops.hpp). view is reshape: a copy, not a view (see
  // Storage); contiguous() returns this tensor (every tensor is contiguous).
  Tensor view(const std::vector<std::ptrdiff_t>& shape) const;
  Tensor contiguous() const { return *this; }
  Tensor unsqueeze(std::ptrdiff_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::ptrdiff_t dim) const;
  Tensor flatten(std::ptrdiff_t start_dim = 0, std::ptrdiff_t end_dim = -1) const;
  Tensor unflatten(std::ptrdiff_t dim, const std::vector<std::ptrdiff_t>& sizes) const;
  Tensor relu() const;  // ops/activation.hpp
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor softmax(std::ptrdiff_t dim) const;  // ops/softmax.hpp
  Tensor log_softmax(std::ptrdiff_t dim) const;
  Tensor exp() const;  // ops/elementwise.hpp
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor neg() const;
  Tensor pow(T exponent) const;
  Tensor clamp(T min, T max) const;
  // A copy as Tensor<U> (float <-> double), without history: to<U>(t) in
  // factory.hpp, which documents the StateError for a tensor requiring grad.
  template <class U>
  Tensor<U> to() const;

  // Engine internals: the shared autograd state, created on demand.
  const std::shared_ptr<AutogradMeta<T>>& autograd_meta() const;
  void set_grad_fn(std::shared_ptr<Node<T>> node);
  const std::shared_ptr<Storage<T>>& storage() const;

 private:
  struct Impl {
    std::shared_ptr<Storage<T>> storage;
    std::shared_ptr<AutogradMeta<T>> meta;  // null until autograd needs it
  };
  void check_defined(const char* what) const;
  static void check_integer_item(double value, bool is_signed, int digits);
  unsigned add_hook(std::function<Tensor(const Tensor&)> hook);
  std::shared_ptr<Impl> impl_;
};

// Printing (PyTorch's layout plus shape and dtype): print.hpp describes it.
template <class T>
std::ostream& operator<<(std::ostream& out, const Tensor<T>& t);

// Marks `copy`, the result of `op` on `source`, as a copy where libtorch
// returns a view (see Storage), and returns it.
template <class T>
Tensor<T> as_view_copy(Tensor<T> copy, const Tensor<T>& source, const char* op) {
  copy.storage()->view_source = source.storage();
  copy.storage()->view_op = op;
  return copy;
}

// Creation. Shapes are given as {d0, d1, ...}; the element type defaults to
// float, as libtorch's: zeros({2, 3}) is zeros<float>({2, 3}).
template <class T = float>
Tensor<T> zeros(const Shape& shape, bool requires_grad = false);
template <class T = float>
Tensor<T> ones(const Shape& shape, bool requires_grad = false);
template <class T>
Tensor<T> full(const Shape& shape, T value, bool requires_grad = false);
// Shapes whose element count overflows std::size_t throw ValueError.
// [start, stop) with `step`, ceil((stop - start) / step) elements (computed in
// double); throws ValueError on step 0, a reversed range, a non-finite
// argument or more than 2^53 elements.
template <class T>
Tensor<T> arange(T start, T stop, T step = T(1));

// From nested initializer lists: tensor<float>({{1, 2}, {3, 4}}).
// A 0-d tensor holding one value.
template <class T>
Tensor<T> scalar(T value, bool requires_grad = false) {
  return Tensor<T>(xt::xarray<T>(value), requires_grad);
}
// A 1-D copy of a vector (libtorch's torch::tensor(std::vector<float>)).
template <class T>
Tensor<T> tensor(const std::vector<T>& values, bool requires_grad = false) {
  return Tensor<T>(values, requires_grad);
}
template <class T>
Tensor<T> tensor(xt::nested_initializer_list_t<T, 1> values, bool requires_grad = false) {
  return Tensor<T>(xt::xarray<T>(values), requires_grad);
}
template <class T>
Tensor<T> tensor(xt::nested_initializer_list_t<T, 2> values, bool requires_grad = false) {
  return Tensor<T>(xt::xarray<T>(values), requires_grad);
}
template <class T>
Tensor<T> tensor(xt::nested_initializer_list_t<T, 3> values, bool requires_grad = false) {
  return Tensor<T>(xt::xarray<T>(values), requires_grad);
}

// Throws ValueError "<op>: <arg> is undefined" unless `t` is defined: the first
// check of every op and layer on its tensor arguments (without it the first
// accessor would throw, naming only itself: "data: the tensor is undefined").
template <class T>
void require_defined(const Tensor<T>& t, const char* op, const char* arg) {
  XGRAD_CHECK(t.defined(), ValueError, op, ": ", arg, " is undefined");
}

// Number of autograd nodes alive in this process (for leak tests).
std::int64_t live_node_count();

XGRAD_EXTERN_TEMPLATE_CLASS(Tensor);

}  // namespace xgrad
