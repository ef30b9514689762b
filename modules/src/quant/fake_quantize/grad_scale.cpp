#include "xgrad/quant/fake_quantize/grad_scale.hpp"

#include <cmath>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant {

double lsq_grad_scale(std::size_t numel, std::int64_t top_code) {
  XGRAD_CHECK(numel != 0 && top_code > 0, ValueError,
              "lsq_grad_scale: numel and top_code must be > 0, got numel=", numel,
              ", top_code=", top_code);
  return 1.0 / std::sqrt(static_cast<double>(numel) * static_cast<double>(top_code));
}

}  // namespace xgrad::quant
