// The error every op throws for an undefined tensor argument (private to
// src/ops). Without it the first accessor would throw, naming only itself
// ("data: the tensor is undefined").
#pragma once

#include <string>

#include "xgrad/tensor.hpp"

namespace xgrad {

template <class T>
void require_defined(const Tensor<T>& t, const char* op, const char* arg) {
  if (!t.defined()) throw ValueError(std::string(op) + ": " + arg + " is undefined");
}

}  // namespace xgrad
