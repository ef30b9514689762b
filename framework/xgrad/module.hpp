// Module<T>: the base of every layer, named like libtorch's torch::nn::Module.
// A module owns named parameters (trainable tensors), buffers (state that is
// saved but not trained, e.g. BatchNorm's running statistics or APoT qparams)
// and child modules. Children never point back to their parent.
//
// train()/eval() only flip a flag (recursively): they do not turn gradients
// off, because QAT needs gradients while observers are frozen.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/tensor.hpp"

namespace xgrad {

// Name -> array, in registration order (dotted names: "0.weight", "fc1.bias").
template <class T>
using StateDict = std::vector<std::pair<std::string, xt::xarray<T>>>;

template <class T>
class Module {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // A unary forward for layers used in Sequential; the default throws
  // StateError naming the module type.
  virtual Tensor<T> forward(const Tensor<T>& input);
  Tensor<T> operator()(const Tensor<T>& input) { return forward(input); }

  // Registration returns the registered handle (an alias of the stored one).
  // Names must be non-empty, contain no '.', and be unique within the module
  // (ValueError otherwise).
  Tensor<T> register_parameter(const std::string& name, Tensor<T> tensor, bool requires_grad = true);
  // A buffer with fixed_shape = false may change shape (APoT level sets):
  // load_state_dict then accepts any shape for it.
  Tensor<T> register_buffer(const std::string& name, Tensor<T> tensor, bool fixed_shape = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  std::vector<Tensor<T>> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor<T>>> named_parameters(bool recurse = true) const;
  std::vector<Tensor<T>> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor<T>>> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module<T>>> children() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> named_children() const;
  // This module's descendants, depth first, not including itself.
  std::vector<std::shared_ptr<Module<T>>> modules() const;

  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  // Parameters and buffers by dotted name (copies of the arrays).
  StateDict<T> state_dict() const;
  // strict: every missing, unexpected or mis-shaped key is reported in one
  // ValueError/ShapeError. Nothing is modified unless the whole dict is valid.
  void load_state_dict(const StateDict<T>& dict, bool strict = true);

  const std::string& type_name() const { return type_name_; }

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module<T>> module);

 private:
  struct Entry {
    std::string name;
    Tensor<T> tensor;
    bool fixed_shape = true;
  };
  std::string type_name_;
  bool training_ = true;
  std::vector<Entry> parameters_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
};

extern template class Module<float>;
extern template class Module<double>;

}  // namespace xgrad
