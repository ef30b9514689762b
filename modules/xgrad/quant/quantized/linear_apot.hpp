// LinearAPoT: a linear layer whose weight is stored as APoT codes plus qparams
// (docs/quantization.md), named after PyTorch's
// torch.ao.quantization.experimental.linear.LinearAPoT. A member of the
// integer-weight family (quantized_layer.hpp): a quantized::Linear whose level
// table is the APoT set of its weight (apot_level_set), whose codes are the
// APoT code words, and which adds the shift-and-add integer path.
//
//   LinearAPoT<float> layer(weight, /*b=*/8, /*k=*/2, bias);
//   Tensor<float> y = layer(x);                     // float path
//   Tensor<float> yi = layer.forward_integer(xint);  // shift-and-add path
//
// Construction observes the weight with APoTObserver(b, k), computes its qparams
// for the chosen level scheme and quantizes it with quantize_APoT; the caller's
// weight is read, never modified.
//
// forward(x) is a float linear with the dequantized weight: for b <= 4 (float)
// the lookup-table kernel on the packed codes, within the family's bound of
// forward_dequantized(x) = linear(x, dequantized_weight(), bias), which it is
// otherwise (and whenever x needs a gradient).
//
// forward_integer(xint) multiplies integer activations by each weight code's
// power-of-two terms with shifts and adds: a code word selects up to n terms
// 2^-e (one per field, field value 0 selecting no term), so x * level / gamma =
// sum_t x * 2^-e_t. Every product is computed as sum_t (x << (E - e_t)) in
// int64, E being the largest exponent of the code book (n shifts, n - 1 adds per
// product; sign-magnitude codes subtract instead), accumulated over the inputs,
// and gamma * 2^-E is applied once per output at the end, then the bias. The
// result equals the float path bit for bit whenever the float path is exact
// (e.g. gamma a power of two, small integer activations: see the tests); in
// general the two differ only by float rounding.
//
// Level schemes: sign_magnitude (the default: the paper's signed weights, a
// sign bit plus an unsigned (b-1)-bit magnitude code word) or unsigned_levels
// (PyTorch's choice: negative weights quantize to 0). signed_per_term has
// duplicate levels and no code-word structure for shifts: ValueError.
//
// Differences from PyTorch: PyTorch's LinearAPoT multiplies activations by the
// integer codes (not the level values), truncates activations to integers,
// overwrites the caller's weight and has no bias; none of that is reproduced.
//
// State (buffers, saved and loaded with the state dict): "weight_packed" (the
// b-bit code words packed, a uint8 member: quantized_layer.hpp), "alpha" [1], "gamma" [1] (the
// table's scale), "quantization_levels" [L] and "level_indices" [L] (as T; the level table,
// PyTorch's qparams names), and "bias" [out] when given. The layer has no trainable parameters.
#pragma once

#include <cstdint>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/observers/apot_observer.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T = float>
class LinearAPoT : public quantized::Linear<T> {
 public:
  // weight [out, in] (ShapeError otherwise; ValueError if undefined or holding
  // NaN or an infinity), bias undefined or [out]; b, k as APoTObserver
  // (ValueError; also for b > 8), scheme unsigned_levels or sign_magnitude.
  LinearAPoT(const Tensor<T>& weight, int b, int k, const Tensor<T>& bias = Tensor<T>(),
             LevelScheme scheme = LevelScheme::sign_magnitude);

  // forward(x) (quantized::Linear's): x [..., in] -> [..., out], as above;
  // ValueError if x is undefined,
  // ShapeError from linear for other shapes. weight_codes() and
  // dequantized_weight() (the family's) refuse, with ValueError, a stored code
  // that is not a level's or qparams that are not the level set of this
  // layer's (b, k, scheme) for the stored alpha (e.g. loaded from a layer with
  // another k).

  // xint [batch, in] or [in] -> [batch, out] or [out], by shifts and adds.
  // ShapeError for other shapes; ValueError when the int64 accumulator could
  // overflow (|x| * in * 2^(E+1) >= 2^62).
  Tensor<T> forward_integer(const xt::xarray<std::int64_t>& xint) const;
  // The raw integer accumulators: forward_integer without gamma * 2^-E and bias.
  xt::xarray<std::int64_t> integer_accumulators(const xt::xarray<std::int64_t>& xint) const;
  // E: the accumulators are in units of 2^-E (times gamma).
  int accumulator_shift() const { return max_exponent_; }

  APoTQParams<T> qparams() const;
  // The bias buffer (undefined without bias); the family's member `bias`.
  Tensor<T> bias() const { return quantized::QuantizedLayer<T>::bias; }

  int b() const { return b_; }
  int k() const { return k_; }
  LevelScheme scheme() const { return scheme_; }

 protected:
  // The family's checks, then: alpha valid and the table exactly the level set
  // of (b, k, scheme) for it (the shift tables are built from that code book).
  void check_weight(const typename quantized::QuantizedLayer<T>::StateView& state) const override;

 private:
  int b_, k_;
  LevelScheme scheme_;
  Tensor<T> alpha_;

  // Shift-and-add tables, indexed by code: per term, the left shift E - e of
  // the selected power or -1 for an empty field; the sign bit subtracts.
  int n_terms_ = 0;
  int max_exponent_ = 0;
  std::int64_t magnitude_codes_ = 0;  // 2^(magnitude bits)
  std::vector<std::int8_t> shifts_;   // [code * n_terms_ + term]
};

XGRAD_EXTERN_TEMPLATE_CLASS(LinearAPoT);

}  // namespace xgrad::quant
