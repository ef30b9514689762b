// Benchmark data (row-major doubles from bench_data.hpp) as a libtorch tensor
// of T (float or double), owning its memory.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace bench {

template <class T>
torch::Tensor to_torch(const std::vector<double>& v, std::vector<int64_t> shape) {
  const auto dtype = sizeof(T) == 4 ? torch::kFloat32 : torch::kFloat64;
  return torch::from_blob(const_cast<double*>(v.data()), shape, torch::kFloat64).to(dtype).clone();
}

}  // namespace bench
