// Sequential: a chain of unary modules, registered as children "0", "1", ...
// (torch::nn::Sequential). forward feeds each output to the next module; an
// empty Sequential returns its input. The registered children are the only
// list of modules, so replace_module("1", m) changes what forward runs.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/errors.hpp"
#include "xgrad/module.hpp"

namespace xgrad::nn {

template <class T = float>
class Sequential : public Module<T> {
 public:
  Sequential() : Module<T>("Sequential") {}
  // Sequential<double> net{std::make_shared<Linear<double>>(4, 8), ...};
  Sequential(std::initializer_list<std::shared_ptr<Module<T>>> modules);

  // Appends `module` as child "<size()>" and returns it.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    return this->register_module(std::to_string(size()), std::move(module));
  }

  // The i-th module; ValueError when i >= size().
  std::shared_ptr<Module<T>> operator[](std::size_t i) const;
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

extern template class Sequential<float>;
extern template class Sequential<double>;

}  // namespace xgrad::nn
