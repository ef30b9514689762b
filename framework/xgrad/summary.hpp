// A module's tree with its parameters' shapes and counts (what torchinfo's
// summary or printing a torch::nn::Module shows):
//
//   std::cout << summary(model);
//   Sequential                                  4,547 parameters
//     (0): Linear  weight [64, 2], bias [64]    192
//     (1): ReLU
//     ...
//   total: 4,547 parameters (4,547 trainable) in 5 modules
//
// One line per module, indented by depth, named by its registration name.
// Each line lists the module's own parameters and, right-aligned, the count
// of its whole subtree. A parameter or module reachable twice (shared) is
// counted once in the totals, as Module::parameters() lists it once;
// trainable means requires_grad. `os << model` prints the same.
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
