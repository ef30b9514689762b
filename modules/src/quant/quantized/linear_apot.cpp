#include "xgrad/quant/quantized/linear_apot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "../apot/validate_qparams.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/quant/apot/quantizer.hpp"

namespace xgrad::quant {

namespace {

template <class T>
void check_finite(const xt::xarray<T>& a, const char* op, const char* what) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data()[i])) {
      std::ostringstream msg;
      msg << op << ": " << what << " holds " << a.data()[i] << " at flat position " << i
          << "; only finite values can be quantized";
      throw ValueError(msg.str());
    }
  }
}

// The shift tables are built from (b, k, scheme): the stored qparams must be
// exactly that code book's level set for their alpha (as the constructor
// computes it), or forward_integer would silently disagree with forward, e.g.
// after loading the state of a layer with another k.
template <class T>
void check_level_set(const APoTQParams<T>& q, int b, int k, LevelScheme scheme,
                     const std::string& where) {
  const LevelSet set = apot_level_set(b, k, double(q.alpha), scheme);
  const xt::xarray<T>& levels = q.quantization_levels.data();
  bool same = T(set.scale) == q.gamma && levels.size() == set.size() &&
              q.level_indices.size() == set.size();
  for (std::size_t i = 0; same && i < set.size(); ++i)
    same = levels.data()[i] == T(set.levels[i]) && q.level_indices.data()[i] == set.codes[i];
  if (!same) {
    std::ostringstream msg;
    msg << where << "gamma, quantization_levels and level_indices are not the b=" << b
        << ", k=" << k << " " << to_string(scheme) << " level set for alpha=" << q.alpha
        << " (state of a layer with other settings?)";
    throw ValueError(msg.str());
  }
}

// The level table of a computed set of qparams: the levels, their codes, gamma.
template <class T>
LevelSet table_of(const APoTQParams<T>& q, int b, LevelScheme scheme) {
  LevelSet set;
  set.name = "LinearAPoT";
  set.bits = b;
  set.is_signed = scheme != LevelScheme::unsigned_levels;
  set.scale = double(q.gamma);
  const xt::xarray<T>& levels = q.quantization_levels.data();
  for (std::size_t i = 0; i < levels.size(); ++i) {
    set.levels.push_back(double(levels.data()[i]));
    set.codes.push_back(q.level_indices.data()[i]);
  }
  return set;
}

}  // namespace

template <class T>
LinearAPoT<T>::LinearAPoT(const Tensor<T>& weight, int b, int k, const Tensor<T>& bias,
                          LevelScheme scheme)
    : quantized::Linear<T>("LinearAPoT",
                           {"quantization_levels", "level_indices", "gamma", true, b}),
      b_(b),
      k_(k),
      scheme_(scheme) {
  const char* op = "LinearAPoT";
  if (!weight.defined()) throw ValueError(std::string(op) + ": the weight is undefined");
  if (weight.dim() != 2 || weight.numel() == 0) {
    throw ShapeError(std::string(op) + ": the weight must be a non-empty [out, in] matrix, got " +
                     to_string(weight.shape()));
  }
  const std::size_t out = weight.shape()[0];
  if (bias.defined() && !(bias.dim() == 1 && bias.shape()[0] == out)) {
    throw ShapeError(std::string(op) + ": the bias must have shape [" + std::to_string(out) +
                     "], got " + to_string(bias.shape()));
  }
  if (scheme == LevelScheme::signed_per_term) {
    throw ValueError(std::string(op) +
                     ": the signed_per_term scheme has duplicate levels and no code-word "
                     "structure for shifts; use sign_magnitude (or unsigned_levels)");
  }
  XGRAD_CHECK(b <= quantized::kMaxCodeBits, ValueError, op,
              ": b must be at most 8 (codes are stored packed in bytes), got b=", b);
  check_finite(weight.data(), op, "the weight");
  if (bias.defined()) check_finite(bias.data(), op, "the bias");

  // Quantize a detached view: the caller's weight is only read.
  APoTObserver<T> observer(b, k, scheme);
  observer.forward(weight.detach());
  const APoTQParams<T> q = observer.calculate_qparams();
  const TensorAPoT<T> quantized = quantize_APoT(weight.detach(), q);

  const APoTCodeBook book = scheme == LevelScheme::unsigned_levels
                                ? apot_codebook(b, k)
                                : apot_sign_magnitude_codebook(b, k);
  n_terms_ = static_cast<int>(book.terms.size());
  for (const auto& t : book.terms)
    for (int e : t.exponents) max_exponent_ = std::max(max_exponent_, e);
  magnitude_codes_ = std::int64_t(1) << book.bits();
  shifts_.assign(static_cast<std::size_t>(magnitude_codes_) * std::size_t(n_terms_), -1);
  for (std::int64_t c = 0; c < magnitude_codes_; ++c) {
    for (int t = 0; t < n_terms_; ++t) {
      const int e = book.exponent(c, static_cast<std::size_t>(t));
      // Shifts above 62 are stored as 63: integer_accumulators refuses every
      // non-zero input before such a shift could run (the int64 bound below),
      // and E reaches 254 for b = k = 8, beyond int8.
      if (e >= 0)
        shifts_[std::size_t(c) * std::size_t(n_terms_) + std::size_t(t)] =
            static_cast<std::int8_t>(std::min(max_exponent_ - e, 63));
    }
  }

  this->register_weight_codes(quantized.int_repr(), b);
  alpha_ = this->register_buffer("alpha", Tensor<T>(xt::xarray<T>({q.alpha})));
  this->register_weight_table(table_of(q, b, scheme));
  if (bias.defined()) this->register_bias(Tensor<T>(xt::xarray<T>(bias.data())));
  this->dequantized_weight();  // checks the stored state once
}

template <class T>
APoTQParams<T> LinearAPoT<T>::qparams() const {
  APoTQParams<T> q;
  q.alpha = alpha_.data().data()[0];
  q.gamma = this->weight_scale();
  q.quantization_levels = Tensor<T>(xt::xarray<T>(this->weight_levels()));
  q.level_indices = this->level_codes();
  return q;
}

template <class T>
void LinearAPoT<T>::check_weight(
    const typename quantized::QuantizedLayer<T>::StateView& state) const {
  quantized::QuantizedLayer<T>::check_weight(state);
  // The family checked the table's shape, its codes and gamma; alpha and the
  // set itself are APoT's.
  const xt::xarray<T>& alpha = state["alpha"];
  APoTQParams<T> q;
  q.alpha = alpha.data()[0];
  q.gamma = state["gamma"].data()[0];
  q.quantization_levels = Tensor<T>(xt::xarray<T>(state["quantization_levels"]));
  const xt::xarray<T>& indices = state["level_indices"];
  q.level_indices = xt::xarray<std::int64_t>::from_shape(indices.shape());
  std::transform(indices.begin(), indices.end(), q.level_indices.begin(),
                 [](T v) { return static_cast<std::int64_t>(v); });
  const std::string op = state.where + "the qparams";
  detail::validate_qparams(q.alpha, q.gamma, q.quantization_levels.data(), q.level_indices,
                           op.c_str());
  check_level_set(q, b_, k_, scheme_, state.where);
}

template <class T>
xt::xarray<std::int64_t> LinearAPoT<T>::integer_accumulators(
    const xt::xarray<std::int64_t>& xint) const {
  const char* op = "LinearAPoT.forward_integer";
  const std::size_t in = this->in_features(), out = this->out_features();
  const bool vector_input = xint.dimension() == 1;
  if (!((vector_input || xint.dimension() == 2) && xint.shape().back() == in)) {
    throw ShapeError(std::string(op) + ": the input must be [batch, " + std::to_string(in) +
                     "] or [" + std::to_string(in) + "], got " +
                     to_string(Shape(xint.shape().begin(), xint.shape().end())));
  }
  // Every product is at most |x| * 2^E * (sum of one power per term) < |x| *
  // 2^(E+1); the sum of `in` of them must stay below 2^62.
  double max_abs = 0;
  for (std::size_t i = 0; i < xint.size(); ++i)
    max_abs = std::max(max_abs, std::fabs(double(xint.data()[i])));
  if (max_abs * double(in) * std::ldexp(1.0, max_exponent_ + 1) >= std::ldexp(1.0, 62)) {
    std::ostringstream msg;
    msg << op << ": |x| up to " << max_abs << " over " << in << " inputs with shifts up to "
        << max_exponent_ << " could overflow the int64 accumulator";
    throw ValueError(msg.str());
  }
  const std::size_t batch = vector_input ? 1 : xint.shape()[0];
  xt::xarray<std::int64_t> acc = vector_input ? xt::xarray<std::int64_t>::from_shape({out})
                                              : xt::xarray<std::int64_t>::from_shape({batch, out});
  // All-zero input: the bound above is 0 * 2^(E+1) (NaN once 2^(E+1) is inf)
  // and lets it through, but shifting even 0 by >= 64 is undefined.
  if (max_abs == 0) {
    std::fill(acc.begin(), acc.end(), std::int64_t(0));
    return acc;
  }
  const std::int64_t* px = xint.data();
  const xt::xarray<std::int64_t> codes = this->weight_codes();
  const std::int64_t* pc = codes.data();
  const std::int8_t* table = shifts_.data();
  const std::size_t nt = std::size_t(n_terms_);
  const std::int64_t mask = magnitude_codes_ - 1;
  std::int64_t* pa = acc.data();
  for (std::size_t r = 0; r < batch; ++r) {
    const std::int64_t* xr = px + r * in;
    for (std::size_t o = 0; o < out; ++o) {
      const std::int64_t* co = pc + o * in;
      // Unsigned arithmetic: left shifts of negative values are well defined
      // there, and the bound above keeps the true sum in range.
      std::uint64_t sum = 0;
      for (std::size_t j = 0; j < in; ++j) {
        const std::int64_t c = co[j];
        const std::int8_t* sh = table + std::size_t(c & mask) * nt;
        const std::uint64_t xv = static_cast<std::uint64_t>(xr[j]);
        std::uint64_t p = 0;
        for (std::size_t t = 0; t < nt; ++t)
          if (sh[t] >= 0) p += xv << sh[t];
        sum += c > mask ? std::uint64_t(0) - p : p;  // the sign bit subtracts
      }
      pa[r * out + o] = static_cast<std::int64_t>(sum);
    }
  }
  return acc;
}

template <class T>
Tensor<T> LinearAPoT<T>::forward_integer(const xt::xarray<std::int64_t>& xint) const {
  const xt::xarray<std::int64_t> acc = integer_accumulators(xint);
  // gamma once per output, then the bias, as the float path adds it.
  const double scale = double(this->weight_scale()) * std::ldexp(1.0, -max_exponent_);
  xt::xarray<T> y = xt::xarray<T>::from_shape(acc.shape());
  const Tensor<T> b = bias();
  const T* pb = b.defined() ? b.data().data() : nullptr;
  const std::size_t out = this->out_features();
  for (std::size_t i = 0; i < acc.size(); ++i) {
    y.data()[i] = T(scale * double(acc.data()[i]));
    if (pb) y.data()[i] += pb[i % out];
  }
  return Tensor<T>(std::move(y));
}

XGRAD_INSTANTIATE_CLASS(LinearAPoT);

}  // namespace xgrad::quant
