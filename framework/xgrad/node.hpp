// Node<T>: one recorded op on the autograd tape, and Context<T>: what its
// forward saved for its backward. A node owns edges to its inputs' autograd
// state (where their gradients go) and the inputs' shapes; it never references
// its own output, so dropping the output frees the whole record.
#pragma once

#include <any>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad {

template <class T>
class Context {
 public:
  // Saves tensors for backward together with their current versions; saved(i)
  // throws StateError if one was modified in place since.
  void save_for_backward(std::initializer_list<Tensor<T>> tensors);
  const xt::xarray<T>& saved(std::size_t i) const;
  std::size_t num_saved() const { return saved_.size(); }

  // Asks the engine to keep the op's own output for backward (exp, tanh,
  // sigmoid reuse it). Read it with output() in backward.
  void save_output() { wants_output_ = true; }
  bool wants_output() const { return wants_output_; }
  const xt::xarray<T>& output() const;

  // Free-form state that is not a user-visible tensor (masks, axes, scalars).
  // Not version checked: only the op itself can reach it.
  std::vector<xt::xarray<T>> saved_arrays;
  std::vector<double> saved_scalars;
  std::vector<std::ptrdiff_t> saved_ints;

  // One named, typed record of non-tensor state, for ops with more than a
  // couple of settings (conv2d's strides, paddings, ...): backward reads
  // `ctx.template params<Conv2dParams>().sh`, not `saved_ints[4]`. params<P>()
  // throws StateError when nothing, or a value of another type, was saved.
  template <class P>
  void save_params(P p) {
    params_ = std::move(p);
  }
  template <class P>
  const P& params() const {
    const P* p = std::any_cast<P>(&params_);
    XGRAD_CHECK(p, StateError, op_name, ": params() of a type that was not saved");
    return *p;
  }

  // Facts about the tensor inputs, in the order they were passed to apply().
  std::size_t num_inputs() const { return inputs_.size(); }
  const Shape& input_shape(std::size_t i) const { return inputs_.at(i).shape; }
  bool needs_input_grad(std::size_t i) const { return inputs_.at(i).needs_grad; }
  // True when a node is being recorded (false under no-grad): forward may skip
  // computing what only backward needs.
  bool recording() const { return recording_; }

  // Engine internals.
  void add_input(const Shape& shape, bool needs_grad);
  void reserve_inputs(std::size_t n) { inputs_.reserve(n); }
  void set_recording(bool on) { recording_ = on; }
  void set_output(std::shared_ptr<Storage<T>> output);
  void release();
  bool released() const { return released_; }
  const char* op_name = "";

 private:
  struct SavedTensor {
    std::shared_ptr<Storage<T>> storage;
    std::uint64_t version;
  };
  struct Input {
    Shape shape;
    bool needs_grad;
  };
  // Most ops have at most three inputs and save at most two tensors: inline
  // storage spares two heap allocations per recorded op.
  boost::container::small_vector<SavedTensor, 2> saved_;
  SavedTensor output_{};
  std::any params_;
  boost::container::small_vector<Input, 3> inputs_;
  bool wants_output_ = false;
  bool recording_ = false;
  bool released_ = false;
};

template <class T>
class Node {
 public:
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients with respect to each tensor input, given the output's gradient.
  // Entries for inputs that do not need a gradient are ignored. The engine
  // hands over the gradient it owns, so a backward may reuse its buffer.
  virtual std::vector<xt::xarray<T>> apply(xt::xarray<T> grad_output) = 0;
  virtual const char* name() const = 0;

  Context<T> ctx;
  // One per tensor input: its autograd state, or null if it needs no gradient.
  using Edges = boost::container::small_vector<std::shared_ptr<AutogradMeta<T>>, 3>;
  Edges next;

  // Scratch space of one backward call (see engine.cpp).
  xt::xarray<T> pending_grad;
  bool has_pending_grad = false;
  int pending_dependencies = 0;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Context);
XGRAD_EXTERN_TEMPLATE_CLASS(Node);

}  // namespace xgrad
