#include "xgrad/quant/quantized/linear_apot.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "xgrad/detail/array_cache.hpp"
#include "xgrad/ops/linalg.hpp"
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

template <class T>
Tensor<T> one_value(T v) {
  return Tensor<T>(xt::xarray<T>({v}));
}

template <class T>
Tensor<T> as_float(const xt::xarray<std::int64_t>& a) {
  xt::xarray<T> out = xgrad::detail::new_array<T>(a.shape());
  std::transform(a.begin(), a.end(), out.begin(), [](std::int64_t v) { return T(v); });
  return Tensor<T>(std::move(out));
}

// Codes / indices stored as T back to integers; ValueError unless each is an
// integer in [0, 2^24) (exact in float).
template <class T>
xt::xarray<std::int64_t> as_int(const xt::xarray<T>& a, const char* op, const char* what) {
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T v = a.data()[i];
    if (!(v >= T(0) && v < T(1 << 24) && std::nearbyint(v) == v)) {
      std::ostringstream msg;
      msg << op << ": " << what << " holds " << v << " at flat position " << i
          << ", not a code (an integer in [0, 2^24))";
      throw ValueError(msg.str());
    }
    out.data()[i] = static_cast<std::int64_t>(v);
  }
  return out;
}

// The shift tables are built from (b, k, scheme): the stored qparams must be
// exactly that code book's level set for their alpha (as the constructor
// computes it), or forward_integer would silently disagree with forward, e.g.
// after loading the state of a layer with another k.
template <class T>
void check_level_set(const APoTQParams<T>& q, int b, int k, LevelScheme scheme) {
  const LevelSet set = apot_level_set(b, k, double(q.alpha), scheme);
  const xt::xarray<T>& levels = q.quantization_levels.data();
  bool same = T(set.scale) == q.gamma && levels.size() == set.size() &&
              q.level_indices.size() == set.size();
  for (std::size_t i = 0; same && i < set.size(); ++i)
    same = levels.data()[i] == T(set.levels[i]) && q.level_indices.data()[i] == set.codes[i];
  if (!same) {
    std::ostringstream msg;
    msg << "LinearAPoT: gamma, quantization_levels and level_indices are not the b=" << b
        << ", k=" << k << " " << to_string(scheme) << " level set for alpha=" << q.alpha
        << " (state of a layer with other settings?)";
    throw ValueError(msg.str());
  }
}

// The integer codes and qparams of a stored state, after every check a
// forward relies on: codes integers in [0, code_count) and level indices,
// qparams valid and exactly the level set of (b, k, scheme) for alpha.
template <class T>
std::pair<xt::xarray<std::int64_t>, APoTQParams<T>> checked_state(
    const xt::xarray<T>& codes_in, const xt::xarray<T>& alpha, const xt::xarray<T>& gamma,
    const xt::xarray<T>& levels, const xt::xarray<T>& indices, int b, int k, LevelScheme scheme,
    std::int64_t code_count) {
  const char* op = "LinearAPoT";
  xt::xarray<std::int64_t> codes = as_int(codes_in, op, "weight_codes");
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes.data()[i] >= code_count) {
      std::ostringstream msg;
      msg << op << ": weight_codes holds code " << codes.data()[i] << " at flat position " << i
          << ", outside [0, " << code_count << ")";
      throw ValueError(msg.str());
    }
  }
  APoTQParams<T> q;
  q.alpha = alpha.data()[0];
  q.gamma = gamma.data()[0];
  q.quantization_levels = Tensor<T>(xt::xarray<T>(levels));
  q.level_indices = as_int(indices, "LinearAPoT.qparams", "level_indices");
  // TensorAPoT validates the qparams and that every code is a level index.
  TensorAPoT<T> t(codes, q);
  check_level_set(q, b, k, scheme);
  return {std::move(codes), std::move(q)};
}

}  // namespace

template <class T>
LinearAPoT<T>::LinearAPoT(const Tensor<T>& weight, int b, int k, const Tensor<T>& bias,
                          LevelScheme scheme)
    : Module<T>("LinearAPoT"), b_(b), k_(k), scheme_(scheme) {
  const char* op = "LinearAPoT";
  if (!weight.defined()) throw ValueError(std::string(op) + ": the weight is undefined");
  if (weight.dim() != 2 || weight.numel() == 0) {
    throw ShapeError(std::string(op) + ": the weight must be a non-empty [out, in] matrix, got " +
                     to_string(weight.shape()));
  }
  out_ = weight.shape()[0];
  in_ = weight.shape()[1];
  if (bias.defined() && !(bias.dim() == 1 && bias.shape()[0] == out_)) {
    throw ShapeError(std::string(op) + ": the bias must have shape [" + std::to_string(out_) +
                     "], got " + to_string(bias.shape()));
  }
  if (scheme == LevelScheme::signed_per_term) {
    throw ValueError(std::string(op) +
                     ": the signed_per_term scheme has duplicate levels and no code-word "
                     "structure for shifts; use sign_magnitude (or unsigned_levels)");
  }
  check_finite(weight.data(), op, "the weight");
  if (bias.defined()) check_finite(bias.data(), op, "the bias");

  // Quantize a detached view: the caller's weight is only read.
  APoTObserver<T> observer(b, k);
  observer.forward(weight.detach());
  const APoTQParams<T> q = observer.calculate_qparams(scheme);
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

  codes_ = this->register_buffer("weight_codes", as_float<T>(quantized.int_repr()));
  alpha_ = this->register_buffer("alpha", one_value<T>(q.alpha));
  gamma_ = this->register_buffer("gamma", one_value<T>(q.gamma));
  levels_ = this->register_buffer("quantization_levels",
                                  Tensor<T>(xt::xarray<T>(q.quantization_levels.data())));
  indices_ = this->register_buffer("level_indices", as_float<T>(q.level_indices));
  if (bias.defined()) bias_ = this->register_buffer("bias", Tensor<T>(xt::xarray<T>(bias.data())));
  refresh_cache();
}

template <class T>
APoTQParams<T> LinearAPoT<T>::qparams() const {
  APoTQParams<T> q;
  q.alpha = alpha_.data().data()[0];
  q.gamma = gamma_.data().data()[0];
  q.quantization_levels = Tensor<T>(xt::xarray<T>(levels_.data()));
  q.level_indices = as_int(indices_.data(), "LinearAPoT.qparams", "level_indices");
  return q;
}

template <class T>
xt::xarray<std::int64_t> LinearAPoT<T>::weight_codes() const {
  refresh_cache();
  return codes_cache_;
}

template <class T>
void LinearAPoT<T>::refresh_cache() const {
  const std::vector<std::uint64_t> versions = {codes_.version(), alpha_.version(), gamma_.version(),
                                               levels_.version(), indices_.version()};
  if (weight_cache_.defined() && versions == cache_versions_) return;
  auto state = checked_state(codes_.data(), alpha_.data(), gamma_.data(), levels_.data(),
                             indices_.data(), b_, k_, scheme_, code_count());
  weight_cache_ = dequantize_APoT(TensorAPoT<T>(state.first, state.second));
  codes_cache_ = std::move(state.first);
  cache_versions_ = versions;
}

template <class T>
std::int64_t LinearAPoT<T>::code_count() const {
  return scheme_ == LevelScheme::sign_magnitude ? 2 * magnitude_codes_ : magnitude_codes_;
}

template <class T>
void LinearAPoT<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  try {
    checked_state(state["weight_codes"], state["alpha"], state["gamma"],
                  state["quantization_levels"], state["level_indices"], b_, k_, scheme_,
                  code_count());
    if (bias_.defined()) check_finite(state["bias"], "LinearAPoT", "the bias");
  } catch (const ValueError& e) {
    throw ValueError("LinearAPoT::load_state_dict: the state under \"" + state.prefix() +
                     "\" is not usable: " + e.what());
  }
}

template <class T>
Tensor<T> LinearAPoT<T>::dequantized_weight() const {
  refresh_cache();
  return weight_cache_;
}

template <class T>
Tensor<T> LinearAPoT<T>::forward(const Tensor<T>& x) {
  if (!x.defined()) throw ValueError("LinearAPoT.forward: the input tensor is undefined");
  return linear(x, dequantized_weight(), bias_);
}

template <class T>
xt::xarray<std::int64_t> LinearAPoT<T>::integer_accumulators(
    const xt::xarray<std::int64_t>& xint) const {
  const char* op = "LinearAPoT.forward_integer";
  const bool vector_input = xint.dimension() == 1;
  if (!((vector_input || xint.dimension() == 2) && xint.shape().back() == in_)) {
    throw ShapeError(std::string(op) + ": the input must be [batch, " + std::to_string(in_) +
                     "] or [" + std::to_string(in_) + "], got " +
                     to_string(Shape(xint.shape().begin(), xint.shape().end())));
  }
  refresh_cache();
  // Every product is at most |x| * 2^E * (sum of one power per term) < |x| *
  // 2^(E+1); the sum of `in` of them must stay below 2^62.
  double max_abs = 0;
  for (std::size_t i = 0; i < xint.size(); ++i)
    max_abs = std::max(max_abs, std::fabs(double(xint.data()[i])));
  if (max_abs * double(in_) * std::ldexp(1.0, max_exponent_ + 1) >= std::ldexp(1.0, 62)) {
    std::ostringstream msg;
    msg << op << ": |x| up to " << max_abs << " over " << in_ << " inputs with shifts up to "
        << max_exponent_ << " could overflow the int64 accumulator";
    throw ValueError(msg.str());
  }
  const std::size_t batch = vector_input ? 1 : xint.shape()[0];
  xt::xarray<std::int64_t> acc = vector_input ? xt::xarray<std::int64_t>::from_shape({out_})
                                              : xt::xarray<std::int64_t>::from_shape({batch, out_});
  // All-zero input: the bound above is 0 * 2^(E+1) (NaN once 2^(E+1) is inf)
  // and lets it through, but shifting even 0 by >= 64 is undefined.
  if (max_abs == 0) {
    std::fill(acc.begin(), acc.end(), std::int64_t(0));
    return acc;
  }
  const std::int64_t* px = xint.data();
  const std::int64_t* pc = codes_cache_.data();
  const std::int8_t* table = shifts_.data();
  const std::size_t nt = std::size_t(n_terms_);
  const std::int64_t mask = magnitude_codes_ - 1;
  std::int64_t* pa = acc.data();
  for (std::size_t r = 0; r < batch; ++r) {
    const std::int64_t* xr = px + r * in_;
    for (std::size_t o = 0; o < out_; ++o) {
      const std::int64_t* co = pc + o * in_;
      // Unsigned arithmetic: left shifts of negative values are well defined
      // there, and the bound above keeps the true sum in range.
      std::uint64_t sum = 0;
      for (std::size_t j = 0; j < in_; ++j) {
        const std::int64_t c = co[j];
        const std::int8_t* sh = table + std::size_t(c & mask) * nt;
        const std::uint64_t xv = static_cast<std::uint64_t>(xr[j]);
        std::uint64_t p = 0;
        for (std::size_t t = 0; t < nt; ++t)
          if (sh[t] >= 0) p += xv << sh[t];
        sum += c > mask ? std::uint64_t(0) - p : p;  // the sign bit subtracts
      }
      pa[r * out_ + o] = static_cast<std::int64_t>(sum);
    }
  }
  return acc;
}

template <class T>
Tensor<T> LinearAPoT<T>::forward_integer(const xt::xarray<std::int64_t>& xint) const {
  const xt::xarray<std::int64_t> acc = integer_accumulators(xint);
  // gamma once per output, then the bias, as the float path adds it.
  const double scale = double(gamma_.data().data()[0]) * std::ldexp(1.0, -max_exponent_);
  xt::xarray<T> y = xt::xarray<T>::from_shape(acc.shape());
  const T* pb = bias_.defined() ? bias_.data().data() : nullptr;
  for (std::size_t i = 0; i < acc.size(); ++i) {
    y.data()[i] = T(scale * double(acc.data()[i]));
    if (pb) y.data()[i] += pb[i % out_];
  }
  return Tensor<T>(std::move(y));
}

template class LinearAPoT<float>;
template class LinearAPoT<double>;

}  // namespace xgrad::quant
