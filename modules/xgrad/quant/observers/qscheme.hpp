// The vocabulary of uniform (affine) quantization, as PyTorch names it: the
// integer dtype a quantizer targets and its quantization scheme. Observers
// take both (they fix the integer range and how scale / zero_point are
// computed); the uniform fake quantizers and QConfig pass them on.
#pragma once

namespace xgrad::quant {

// PyTorch's torch.quint8 (default range 0..255) and torch.qint8 (-128..127).
enum class QuantDtype { quint8, qint8 };
// PyTorch's torch.per_tensor_affine, per_tensor_symmetric, per_channel_affine
// and per_channel_symmetric.
enum class QScheme {
  per_tensor_affine,
  per_tensor_symmetric,
  per_channel_affine,
  per_channel_symmetric
};

const char* to_string(QuantDtype dtype);
const char* to_string(QScheme qscheme);
bool is_symmetric(QScheme qscheme);
bool is_per_channel(QScheme qscheme);

}  // namespace xgrad::quant
