#include "xgrad/quant/fake_quantize/grad_scale.hpp"

#include <cmath>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant {

double lsq_grad_scale(std::size_t numel, std::int64_t top_code) {
  if (numel == 0 || top_code <= 0)
    throw ValueError("lsq_grad_scale: numel and top_code must be > 0, got numel=" +
                     std::to_string(numel) + ", top_code=" + std::to_string(top_code));
  return 1.0 / std::sqrt(static_cast<double>(numel) * static_cast<double>(top_code));
}

}  // namespace xgrad::quant
