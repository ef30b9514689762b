// Function<Derived>: the one way to define a differentiable op, for built-in
// ops and users alike (shaped like libtorch's torch::autograd::Function).
//
//   struct Square : xgrad::Function<Square> {
//     static constexpr const char* name = "SquareBackward";
//     template <class T>
//     static xt::xarray<T> forward(xgrad::Context<T>& ctx, const xgrad::Tensor<T>& x) {
//       ctx.save_for_backward({x});
//       return x.data() * x.data();
//     }
//     template <class T>
//     static std::vector<xt::xarray<T>> backward(xgrad::Context<T>& ctx,
//                                                const xt::xarray<T>& grad) {
//       return gradients(xt::xarray<T>(2 * ctx.saved(0) * grad));
//     }
//   };
//   auto y = Square::apply(x);
//
// apply() runs forward with recording off and returns its result as a tensor.
// When grad mode is on and some tensor argument requires grad, it also records
// one node whose backward returns one gradient per tensor argument, in order.
// Non-tensor arguments (scalars, level sets) are passed through to forward; a
// std::vector of tensors does not compile (it would get no gradient): pass each
// tensor as its own argument. A backward returning the wrong number of
// gradients, or one of the wrong shape, makes backward throw (ValueError /
// ShapeError) with no leaf gradient changed. A std::bad_alloc from forward
// (or from backward, see engine.hpp) becomes a ResourceError naming the op.
#pragma once

#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/grad_mode.hpp"
#include "xgrad/node.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::detail {

template <class A>
struct is_tensor : std::false_type {};
template <class T>
struct is_tensor<Tensor<T>> : std::true_type {};

// Tensors inside a std::vector would reach forward but get no edge, so no
// gradient: Function::apply refuses them at compile time.
template <class A>
struct is_tensor_list : std::false_type {};
template <class T, class Alloc>
struct is_tensor_list<std::vector<Tensor<T>, Alloc>> : std::true_type {};

template <class... Args>
struct first_tensor;
template <class A, class... Rest>
struct first_tensor<A, Rest...> {
  using type = std::conditional_t<is_tensor<std::decay_t<A>>::value, std::decay_t<A>,
                                  typename first_tensor<Rest...>::type>;
};
template <>
struct first_tensor<> {
  using type = void;
};

template <class T, class A>
constexpr bool same_or_not_tensor() {
  return !is_tensor<std::decay_t<A>>::value || std::is_same<std::decay_t<A>, Tensor<T>>::value;
}

template <class T, class A>
void collect_input(Context<T>& ctx, typename Node<T>::Edges* edges, const A& arg) {
  if constexpr (is_tensor<A>::value) {
    XGRAD_CHECK(arg.defined(), ValueError, ctx.op_name, ": input tensor ", ctx.num_inputs(),
                " is undefined");
    const bool needs = arg.requires_grad();
    ctx.add_input(arg.shape(), needs && edges != nullptr);
    if (edges) edges->push_back(needs ? arg.autograd_meta() : nullptr);
  }
}

template <class T, class... Args>
bool any_requires_grad(const Args&... args) {
  bool any = false;
  auto check = [&any](const auto& a) {
    if constexpr (is_tensor<std::decay_t<decltype(a)>>::value)
      any = any || (a.defined() && a.requires_grad());
  };
  (check(args), ...);
  return any;
}

template <class Derived, class T>
class FunctionNode final : public Node<T> {
 public:
  // backward may take the gradient by const reference or by value (then it
  // owns the buffer and can compute its result in place). A buffer it did not
  // take goes to the array cache.
  std::vector<xt::xarray<T>> apply(xt::xarray<T> grad_output) override {
    auto grads = Derived::backward(this->ctx, std::move(grad_output));
    detail::recycle(grad_output);
    return grads;
  }
  const char* name() const override { return Derived::name; }
};

}  // namespace xgrad::detail

namespace xgrad {

// Builds a backward's result without copying: a braced list {ga, gb} would copy
// every gradient (std::initializer_list elements are const).
template <class First, class... Rest>
std::vector<std::decay_t<First>> gradients(First&& first, Rest&&... rest) {
  std::vector<std::decay_t<First>> result;
  result.reserve(1 + sizeof...(Rest));
  result.emplace_back(std::forward<First>(first));
  (result.emplace_back(std::forward<Rest>(rest)), ...);
  return result;
}

template <class Derived>
struct Function {
  template <class... Args>
  static auto apply(const Args&... args) {
    using TensorType = typename detail::first_tensor<Args...>::type;
    static_assert(!std::is_void<TensorType>::value, "Function::apply needs a tensor argument");
    using T = typename TensorType::value_type;
    static_assert((detail::same_or_not_tensor<T, Args>() && ...),
                  "Function::apply: all tensor arguments must have the same element type "
                  "(mixing float and double is an error)");
    static_assert(!(detail::is_tensor_list<std::decay_t<Args>>::value || ...),
                  "Function::apply: pass tensors as separate arguments; tensors inside a "
                  "std::vector would get no gradient");

    // Out of memory for a result (or its saved state) is a typed error.
    try {
      return record<T>(args...);
    } catch (const std::bad_alloc&) {
      throw_error<ResourceError>(Derived::name, ": out of memory computing the result");
    }
  }

 private:
  template <class T, class... Args>
  static Tensor<T> record(const Args&... args) {
    if (!(GradMode::is_enabled() && detail::any_requires_grad<T>(args...))) {
      Context<T> ctx;
      ctx.op_name = Derived::name;
      (detail::collect_input<T>(ctx, nullptr, args), ...);
      NoGradGuard no_grad;
      return Tensor<T>(Derived::forward(ctx, args...));
    }
    auto node = std::make_shared<detail::FunctionNode<Derived, T>>();
    node->ctx.op_name = Derived::name;
    node->ctx.reserve_inputs(sizeof...(Args));
    node->next.reserve(sizeof...(Args));
    node->ctx.set_recording(true);
    (detail::collect_input<T>(node->ctx, &node->next, args), ...);
    xt::xarray<T> out;
    {
      NoGradGuard no_grad;
      out = Derived::forward(node->ctx, args...);
    }
    Tensor<T> result(std::move(out));
    if (node->ctx.wants_output()) node->ctx.set_output(result.storage());
    result.set_grad_fn(std::move(node));
    return result;
  }
};

}  // namespace xgrad
