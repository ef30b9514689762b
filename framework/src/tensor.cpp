#include "xgrad/tensor.hpp"

#include <cmath>
#include <string>

#include "allocate.hpp"
#include "ops/kernels.hpp"
#include "xgrad/engine.hpp"
#include "xgrad/function.hpp"
#include "xgrad/node.hpp"

namespace xgrad {

namespace {
// clone(): a copy whose gradient is the incoming gradient.
struct CloneFn : Function<CloneFn> {
  static constexpr const char* name = "CloneBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& x) {
    return x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& grad) {
    return {grad};
  }
};
}  // namespace

template <class T>
Tensor<T>::Tensor(xt::xarray<T> data, bool requires_grad) : impl_(std::make_shared<Impl>()) {
  impl_->storage = std::make_shared<Storage<T>>();
  impl_->storage->data = std::move(data);
  if (requires_grad) set_requires_grad(true);
}

template <class T>
void Tensor<T>::check_defined(const char* what) const {
  XGRAD_CHECK(impl_, StateError, what, ": the tensor is undefined");
}

template <class T>
const xt::xarray<T>& Tensor<T>::data() const {
  check_defined("data");
  return impl_->storage->data;
}

template <class T>
xt::xarray<T>& Tensor<T>::mutable_data() {
  check_defined("mutable_data");
  ++impl_->storage->version;
  return impl_->storage->data;
}

template <class T>
std::uint64_t Tensor<T>::version() const {
  check_defined("version");
  return impl_->storage->version;
}

template <class T>
T Tensor<T>::item() const {
  const auto& d = data();
  XGRAD_CHECK(d.size() == 1, ShapeError,
              "item: only a one-element tensor converts to a scalar, got shape ", d.shape(),
              " with ", d.size(), " elements");
  return d.data()[0];
}

template <class T>
std::int64_t Tensor<T>::size(std::ptrdiff_t dim) const {
  check_defined("size");
  return static_cast<std::int64_t>(shape()[normalize_axis(dim, this->dim(), "size")]);
}

template <class T>
void Tensor<T>::check_integer_item(double value, bool is_signed, int digits) {
  // Truncation toward zero, as libtorch's item<int64_t>(); the bounds are
  // powers of two, exact in double.
  const double whole = std::trunc(value);
  const double high = std::ldexp(1.0, digits);
  const double low = is_signed ? -high : 0.0;
  XGRAD_CHECK(whole >= low && whole < high, ValueError, "item: the value ", value, " does not fit ",
              is_signed ? "a signed" : "an unsigned", " integer of ", digits + (is_signed ? 1 : 0),
              " bits");
}

template <class T>
bool Tensor<T>::requires_grad() const {
  check_defined("requires_grad");
  return impl_->meta && impl_->meta->requires_grad;
}

template <class T>
Tensor<T>& Tensor<T>::set_requires_grad(bool requires_grad) {
  check_defined("set_requires_grad");
  XGRAD_CHECK(
      is_leaf(), StateError,
      "set_requires_grad: only leaves can change requires_grad; this tensor was produced by ",
      grad_fn_name(), " (use detach() first)");
  if (requires_grad || impl_->meta) autograd_meta()->requires_grad = requires_grad;
  return *this;
}

template <class T>
bool Tensor<T>::is_leaf() const {
  check_defined("is_leaf");
  return !impl_->meta || !impl_->meta->grad_fn;
}

template <class T>
Tensor<T> Tensor<T>::grad() const {
  check_defined("grad");
  Tensor<T> g;
  if (impl_->meta && impl_->meta->grad) {
    g.impl_ = std::make_shared<Impl>();
    g.impl_->storage = impl_->meta->grad;
  }
  return g;
}

template <class T>
void Tensor<T>::zero_grad() {
  check_defined("zero_grad");
  if (impl_->meta) impl_->meta->grad.reset();
}

template <class T>
const char* Tensor<T>::grad_fn_name() const {
  check_defined("grad_fn_name");
  return impl_->meta && impl_->meta->grad_fn ? impl_->meta->grad_fn->name() : "";
}

template <class T>
const std::shared_ptr<Node<T>>& Tensor<T>::grad_fn() const {
  static const std::shared_ptr<Node<T>> none;
  check_defined("grad_fn");
  return impl_->meta ? impl_->meta->grad_fn : none;
}

template <class T>
void Tensor<T>::backward(bool retain_graph) const {
  check_defined("backward");
  XGRAD_CHECK(numel() == 1, ShapeError,
              "backward: a gradient can be created implicitly only for a one-element output; this "
              "tensor has shape ",
              shape(), " (pass a gradient of that shape)");
  run_backward(*this, xt::xarray<T>(xt::ones<T>(shape())), retain_graph);
}

template <class T>
void Tensor<T>::backward(const xt::xarray<T>& gradient, bool retain_graph) const {
  check_defined("backward");
  // The engine writes into the root gradient's buffer: a copy of the caller's.
  run_backward(*this, kernels::map(gradient, [](T v) { return v; }), retain_graph);
}

template <class T>
void Tensor<T>::backward(xt::xarray<T>&& gradient, bool retain_graph) const {
  check_defined("backward");
  run_backward(*this, std::move(gradient), retain_graph);
}

template <class T>
unsigned Tensor<T>::add_hook(std::function<Tensor(const Tensor&)> hook) {
  check_defined("register_hook");
  XGRAD_CHECK(requires_grad(), StateError,
              "register_hook: the tensor does not require grad, so no gradient reaches it");
  XGRAD_CHECK(is_leaf(), StateError,
              "register_hook: hooks on non-leaf tensors are not supported (this tensor was "
              "produced by ",
              grad_fn_name(), "); register it on the leaves whose gradient you need");
  XGRAD_CHECK(hook, ValueError, "register_hook: hook is empty");
  auto& hooks = impl_->meta->hooks;
  hooks.push_back(std::move(hook));
  return static_cast<unsigned>(hooks.size() - 1);
}

template <class T>
void Tensor<T>::remove_hook(unsigned position) {
  check_defined("remove_hook");
  const bool registered =
      impl_->meta && position < impl_->meta->hooks.size() && impl_->meta->hooks[position];
  XGRAD_CHECK(registered, ValueError, "remove_hook: position ", position,
              " is not a registered hook of this tensor");
  impl_->meta->hooks[position] = nullptr;
}

template <class T>
Tensor<T> Tensor<T>::detach() const {
  check_defined("detach");
  Tensor<T> t;
  t.impl_ = std::make_shared<Impl>();
  t.impl_->storage = impl_->storage;
  return t;
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  check_defined("clone");
  return CloneFn::apply(*this);
}

template <class T>
void Tensor<T>::check_writable(const char* what) const {
  check_defined(what);
  XGRAD_CHECK(!(requires_grad() && GradMode::is_enabled()), StateError, what,
              ": a tensor that requires grad cannot be modified in place while grad mode is "
              "on (use NoGradGuard)");
  const Storage<T>& s = *impl_->storage;
  XGRAD_CHECK(s.view_op == nullptr || s.view_source.expired(), StateError, what,
              ": this tensor is a copy made by ", s.view_op ? s.view_op : "",
              " (where libtorch returns a view), and its source is still alive: writing "
              "here would not change the source. Write into the source with index_put_, "
              "or clone() this tensor first to modify a tensor of your own");
}

template <class T>
Tensor<T>& Tensor<T>::fill_(T value) {
  check_writable("fill_");
  mutable_data().fill(value);
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor<T>& source) {
  check_defined("copy_");
  XGRAD_CHECK(source.defined(), ValueError, "copy_: the source tensor is undefined");
  XGRAD_CHECK(source.shape() == shape(), ShapeError, "copy_: source shape ", source.shape(),
              " differs from destination shape ", shape());
  check_writable("copy_");
  if (source.storage() == storage()) return *this;
  mutable_data() = source.data();
  return *this;
}

template <class T>
const std::shared_ptr<AutogradMeta<T>>& Tensor<T>::autograd_meta() const {
  check_defined("autograd_meta");
  if (!impl_->meta) impl_->meta = std::make_shared<AutogradMeta<T>>();
  return impl_->meta;
}

template <class T>
void Tensor<T>::set_grad_fn(std::shared_ptr<Node<T>> node) {
  auto& meta = autograd_meta();
  meta->requires_grad = true;
  meta->grad_fn = std::move(node);
}

template <class T>
const std::shared_ptr<Storage<T>>& Tensor<T>::storage() const {
  check_defined("storage");
  return impl_->storage;
}

template <class T>
Tensor<T> zeros(const Shape& shape, bool requires_grad) {
  xt::xarray<T> a = allocate_array<T>(shape, "zeros");
  a.fill(T(0));
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> ones(const Shape& shape, bool requires_grad) {
  xt::xarray<T> a = allocate_array<T>(shape, "ones");
  a.fill(T(1));
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> full(const Shape& shape, T value, bool requires_grad) {
  xt::xarray<T> a = allocate_array<T>(shape, "full");
  a.fill(value);
  return Tensor<T>(std::move(a), requires_grad);
}

template <class T>
Tensor<T> arange(T start, T stop, T step) {
  XGRAD_CHECK(step != T(0) && std::isfinite(start) && std::isfinite(stop) && std::isfinite(step),
              ValueError,
              "arange: step must be a finite non-zero number and start/stop finite, got start=",
              start, " stop=", stop, " step=", step);
  XGRAD_CHECK((stop - start) / step >= T(0), ValueError, "arange: step ", step,
              " moves away from stop (start=", start, ", stop=", stop, ")");
  // The count in double (as PyTorch does): float's stop - start may overflow,
  // and a count beyond what size_t holds must throw, not wrap.
  const double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                                 static_cast<double>(step));
  // At most 2^53, which also refuses an infinite count.
  XGRAD_CHECK(count < 9007199254740992.0, ValueError, "arange: start=", start, " stop=", stop,
              " step=", step, " gives too many elements (", count, ")");
  const auto n = static_cast<std::size_t>(count);
  xt::xarray<T> a = allocate_array<T>({n}, "arange");
  for (std::size_t i = 0; i < n; ++i) a(i) = start + static_cast<T>(i) * step;
  return Tensor<T>(std::move(a));
}

XGRAD_INSTANTIATE_CLASS(Tensor);
#define XGRAD_INSTANTIATE(T)                         \
  template Tensor<T> zeros<T>(const Shape&, bool);   \
  template Tensor<T> ones<T>(const Shape&, bool);    \
  template Tensor<T> full<T>(const Shape&, T, bool); \
  template Tensor<T> arange<T>(T, T, T);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
