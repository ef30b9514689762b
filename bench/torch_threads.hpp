// libtorch's intra-op threads and the OpenBLAS it calls, set to the same count
// (for the torch peer translation units only: needs <torch/torch.h>).
#pragma once

#include <torch/torch.h>

extern "C" void openblas_set_num_threads(int);

namespace bench {

inline void use_torch_threads(int threads) {
  torch::set_num_threads(threads);
  openblas_set_num_threads(threads);
}

}  // namespace bench
