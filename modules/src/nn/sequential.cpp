#include "xgrad/nn/sequential.hpp"

#include "xgrad/errors.hpp"

namespace xgrad::nn {

template <class T>
Sequential<T>::Sequential(std::initializer_list<std::shared_ptr<xgrad::Module<T>>> modules)
    : xgrad::Module<T>("Sequential") {
  for (const auto& m : modules) push_back(m);
}

template <class T>
std::shared_ptr<xgrad::Module<T>> Sequential<T>::operator[](std::size_t i) const {
  const auto& children = this->named_children();
  XGRAD_CHECK(i < children.size(), ValueError, "Sequential: index ", i, " is out of range for ",
              children.size(), " modules");
  return children[i].second;
}

template <class T>
Tensor<T> Sequential<T>::forward(const Tensor<T>& input) {
  Tensor<T> x = input;
  for (const auto& kv : this->named_children()) {
    try {
      x = kv.second->forward(x);
    } catch (const ShapeError& e) {
      // The layer's own message first (it names the op and the shapes), then
      // which layer of the chain it was: the input it got is the previous
      // layer's output, so the mistake may be in either.
      throw ShapeError(format_message(e.what(), " (in Sequential layer \"", kv.first, "\", a ",
                                      kv.second->type_name(), ", whose input has shape ", x.shape(),
                                      ")"));
    }
  }
  return x;
}

XGRAD_INSTANTIATE_CLASS(Sequential);

}  // namespace xgrad::nn
