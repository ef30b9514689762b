// Sequential: a chain of unary modules, registered as children "0", "1", ...
// (torch::nn::Sequential). forward feeds each output to the next module; an
// empty Sequential returns its input. The registered children are the only
// list of modules, so replace_module("1", m) changes what forward runs. A
// ShapeError from a layer gets the layer's name, type and input shape
// appended ("... (in Sequential layer \"2\", a Linear, whose input has shape
// [8, 12])").
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/module.hpp"

namespace xgrad::nn {

template <class T = float>
class Sequential : public xgrad::Module<T> {
 public:
  Sequential() : xgrad::Module<T>("Sequential") {}
  // Sequential<double> net{std::make_shared<Linear<double>>(4, 8), ...};
  Sequential(std::initializer_list<std::shared_ptr<xgrad::Module<T>>> modules);
  // The same as separate arguments, so that std::make_shared forwards them:
  //   auto net = std::make_shared<nn::Sequential<float>>(
  //       std::make_shared<nn::Linear<float>>(4, 8), std::make_shared<nn::ReLU<float>>());
  // (a braced list does not pass through make_shared). Modules are held by
  // std::shared_ptr and cannot be copied or moved, so anything else, a module
  // object or another Sequential, stops at the static_assert below with the
  // fix, rather than at a deleted copy constructor.
  template <class... Ms, std::enable_if_t<(sizeof...(Ms) > 0), int> = 0>
  explicit Sequential(Ms&&... modules) : xgrad::Module<T>("Sequential") {
    constexpr bool all_pointers =
        (std::is_convertible<Ms, std::shared_ptr<xgrad::Module<T>>>::value && ...);
    static_assert(all_pointers,
                  "nn::Sequential takes std::shared_ptr<Module>s, e.g. "
                  "std::make_shared<nn::Linear<float>>(2, 3): modules cannot be copied or moved. "
                  "To share a Sequential, create it with "
                  "std::make_shared<nn::Sequential<float>>(...) from the start");
    if constexpr (all_pointers) {
      (push_back(std::shared_ptr<xgrad::Module<T>>(std::forward<Ms>(modules))), ...);
    }
  }

  // Appends `module` as child "<size()>" and returns it.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    return this->register_module(std::to_string(size()), std::move(module));
  }

  // The i-th module; ValueError when i >= size().
  std::shared_ptr<xgrad::Module<T>> operator[](std::size_t i) const;
  // The i-th module as an M; TypeError when it is not one.
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    XGRAD_CHECK(m, TypeError, "Sequential::at: module ", i, " is a ", (*this)[i]->type_name(),
                ", not the requested type");
    return m;
  }
  std::size_t size() const { return this->named_children().size(); }
  bool empty() const { return this->named_children().empty(); }

  Tensor<T> forward(const Tensor<T>& input) override;
};

XGRAD_EXTERN_TEMPLATE_CLASS(Sequential);

}  // namespace xgrad::nn
