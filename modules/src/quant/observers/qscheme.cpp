#include "xgrad/quant/observers/qscheme.hpp"

namespace xgrad::quant {

const char* to_string(QuantDtype dtype) { return dtype == QuantDtype::quint8 ? "quint8" : "qint8"; }

const char* to_string(QScheme qscheme) {
  switch (qscheme) {
    case QScheme::per_tensor_affine:
      return "per_tensor_affine";
    case QScheme::per_tensor_symmetric:
      return "per_tensor_symmetric";
    case QScheme::per_channel_affine:
      return "per_channel_affine";
    case QScheme::per_channel_symmetric:
      return "per_channel_symmetric";
  }
  return "unknown";
}

bool is_symmetric(QScheme q) {
  return q == QScheme::per_tensor_symmetric || q == QScheme::per_channel_symmetric;
}
bool is_per_channel(QScheme q) {
  return q == QScheme::per_channel_affine || q == QScheme::per_channel_symmetric;
}

}  // namespace xgrad::quant
