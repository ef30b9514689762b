#include "xgrad/quant/observers/qscheme.hpp"

#include "../enum_name.hpp"

namespace xgrad::quant {

const char* to_string(QuantDtype dtype) { return detail::enum_name(dtype, {"quint8", "qint8"}); }

const char* to_string(QScheme qscheme) {
  return detail::enum_name(qscheme, {"per_tensor_affine", "per_tensor_symmetric",
                                     "per_channel_affine", "per_channel_symmetric"});
}

bool is_symmetric(QScheme q) {
  return q == QScheme::per_tensor_symmetric || q == QScheme::per_channel_symmetric;
}
bool is_per_channel(QScheme q) {
  return q == QScheme::per_channel_affine || q == QScheme::per_channel_symmetric;
}

}  // namespace xgrad::quant
