// A module's tree with its parameters' shapes and counts (what torchinfo's
// summary or printing a torch::nn::Module shows):
//
//   std::cout << summary(model);
//   Sequential                                82
//     (0): Linear  weight [16, 2], bias [16]  48
//     (1): ReLU
//     (2): Linear  weight [2, 16], bias [2]   34
//   total: 82 parameters (82 trainable) in 4 modules
//
// One line per module, indented by depth, named by its registration name.
// Each line lists the module's own parameters and, right-aligned, the count
// of its whole subtree. A parameter or module reachable twice (shared) is
// counted once in the totals, as Module::parameters() lists it once;
// trainable means requires_grad. A layer that stores its weight packed
// (Module::weight_storage, e.g. a converted quantized layer) adds "weight
// storage N B (M B as float32)" to its line, and a last line gives the totals
// of the tree. `os << model` prints the same.
#pragma once

#include <iosfwd>
#include <string>

#include "xgrad/module.hpp"

namespace xgrad {

template <class T>
std::string summary(const Module<T>& module);

template <class T>
std::ostream& operator<<(std::ostream& out, const Module<T>& module);

}  // namespace xgrad
