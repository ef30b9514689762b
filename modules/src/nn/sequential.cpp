#include "xgrad/nn/sequential.hpp"

namespace xgrad {
namespace nn {

template <class T>
Sequential<T>::Sequential(std::initializer_list<std::shared_ptr<Module<T>>> modules)
    : Module<T>("Sequential") {
  for (const auto& m : modules) push_back(m);
}

template <class T>
std::shared_ptr<Module<T>> Sequential<T>::operator[](std::size_t i) const {
  if (i >= modules_.size()) {
    throw ValueError("Sequential: index " + std::to_string(i) + " is out of range for " +
                     std::to_string(modules_.size()) + " modules");
  }
  return modules_[i];
}

template <class T>
Tensor<T> Sequential<T>::forward(const Tensor<T>& input) {
  Tensor<T> x = input;
  for (const auto& m : modules_) x = m->forward(x);
  return x;
}

template class Sequential<float>;
template class Sequential<double>;

}  // namespace nn
}  // namespace xgrad
