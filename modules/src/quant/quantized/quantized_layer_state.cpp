// QuantizedLayer's checks of a state before it is loaded (or of its own
// buffers before they are used): codes, packed bytes, level table and scale.
#include <cmath>
#include <string>

#include "../kernels/packed_codes.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/quant/quantized/quantized_layer.hpp"

namespace xgrad::quant::quantized {

namespace {

namespace kn = xgrad::quant::kernels;

bool is_byte(double v) { return v >= 0 && v <= 255 && std::floor(v) == v; }

}  // namespace

template <class T>
void QuantizedLayer<T>::check_weight(const StateView& state) const {
  const std::string& where = state.where;
  const xt::xarray<T>& levels = state[keys_.levels];
  const std::size_t rows = weight_shape_.at(0);
  std::size_t n = 1;
  for (std::size_t e : weight_shape_) n *= e;
  const std::size_t cols = n / rows;
  for (std::size_t i = 0; i < levels.size(); ++i) {
    XGRAD_CHECK(std::isfinite(levels.data()[i]), ValueError, where, keys_.levels,
                " must be finite; element ", i, " = ", levels.data()[i]);
  }
  int bits = keys_.bits;
  if (keys_.codes.empty()) {
    // [R, 2^b], R = 1 or rows.
    const bool shaped =
        levels.dimension() == 2 && (levels.shape()[0] == 1 || levels.shape()[0] == rows);
    XGRAD_CHECK(shaped, ValueError, where, keys_.levels, " must be [1, 2^b] or [", rows,
                ", 2^b], got ", Shape(levels.shape().begin(), levels.shape().end()));
    const std::size_t width = levels.shape()[1];
    bits = 0;
    while (bits < kMaxCodeBits && (std::size_t(1) << bits) < width) ++bits;
    XGRAD_CHECK(bits >= 2 && (std::size_t(1) << bits) == width, ValueError, where, keys_.levels,
                " must have 2^b columns with 2 <= b <= 8 (one per code), got ", width);
  } else {
    XGRAD_CHECK(levels.dimension() == 1 && levels.size() > 0, ValueError, where, keys_.levels,
                " must be 1-D and non-empty");
    for (std::size_t i = 1; i < levels.size(); ++i) {
      XGRAD_CHECK(!(levels.data()[i] < levels.data()[i - 1]), ValueError, where, keys_.levels,
                  " must be ascending; element ", i, " = ", levels.data()[i]);
    }
    const xt::xarray<T>& lc = state[keys_.codes];
    XGRAD_CHECK(lc.dimension() == 1 && lc.size() == levels.size(), ValueError, where, keys_.codes,
                " must be 1-D with one code per level (", levels.size(), "), got ", lc.size());
    std::vector<bool> seen(std::size_t(1) << bits, false);
    for (std::size_t r = 0; r < lc.size(); ++r) {
      const T c = lc.data()[r];
      XGRAD_CHECK(c >= 0 && double(c) < double(seen.size()) && std::floor(c) == c, ValueError,
                  where, keys_.codes, "[", r, "] = ", c, " is not a ", bits,
                  "-bit code (an integer in [0, ", seen.size(), "))");
      XGRAD_CHECK(!seen[std::size_t(c)], ValueError, where, keys_.codes, " holds ", std::int64_t(c),
                  " twice");
      seen[std::size_t(c)] = true;
    }
  }
  if (!keys_.scale.empty()) {
    const xt::xarray<T>& s = state[keys_.scale];
    XGRAD_CHECK(s.size() == 1 && std::isfinite(s.data()[0]), ValueError, where, keys_.scale,
                " must hold one finite value, got ", s.size() == 1 ? s.data()[0] : T(s.size()),
                s.size() == 1 ? "" : " values");
  }
  const xt::xarray<T>& packed = state["weight_packed"];
  const std::size_t expected = kn::canonical_bytes(rows, cols, bits);
  XGRAD_CHECK(packed.dimension() == 1 && packed.size() == expected, ValueError, where,
              "weight_packed has ", packed.size(), " bytes, ", rows, " x ", cols, " codes of ",
              bits, " bits need ", expected);
  for (std::size_t i = 0; i < packed.size(); ++i) {
    XGRAD_CHECK(is_byte(double(packed.data()[i])), ValueError, where, "weight_packed[", i,
                "] = ", packed.data()[i], " is not a byte");
  }
  const std::size_t used = rows * cols * std::size_t(bits) % 8;
  const auto last = unsigned(packed.data()[expected - 1]);
  XGRAD_CHECK(used == 0 || (last >> used) == 0, ValueError, where,
              "weight_packed: the unused high ", 8 - used,
              " bits of the last byte must be zero, got ", last, " (corrupt data, or not ", bits,
              "-bit codes of ", rows, " x ", cols, ")");
  if (!keys_.codes.empty()) {
    // Every code must be a level's.
    std::vector<std::uint8_t> bytes(packed.begin(), packed.end());
    const std::vector<std::uint8_t> codes = kn::from_canonical(bytes, rows, cols, bits);
    std::vector<bool> known(std::size_t(1) << bits, false);
    for (T c : state[keys_.codes]) known[std::size_t(c)] = true;
    for (std::size_t i = 0; i < codes.size(); ++i) {
      XGRAD_CHECK(known[codes[i]], ValueError, where, "weight_packed: code ", int(codes[i]),
                  " of weight ", i, " is not the code of any level (", keys_.codes, ")");
    }
  }
  if (bias.defined()) {
    const xt::xarray<T>& b = state["bias"];
    for (std::size_t i = 0; i < b.size(); ++i) {
      XGRAD_CHECK(std::isfinite(b.data()[i]), ValueError, where, "bias[", i, "] = ", b.data()[i],
                  " is not finite");
    }
  }
}

template <class T>
void QuantizedLayer<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  if (qconfig_tag_.defined())
    check_qconfig_entry(this->type_name(), qconfig_tag_, state["qconfig"]);
  // Keys relative to the layer, which the message names by its prefix.
  const std::string under =
      state.prefix().empty() ? "" : "the state under \"" + state.prefix() + "\": ";
  check_weight(
      StateView{[&state](const std::string& name) -> const xt::xarray<T>& { return state[name]; },
                this->type_name() + "::load_state_dict: " + under});
}

template void QuantizedLayer<float>::check_weight(const StateView&) const;
template void QuantizedLayer<double>::check_weight(const StateView&) const;
template void QuantizedLayer<float>::check_state(const Module<float>::StateCandidate&) const;
template void QuantizedLayer<double>::check_state(const Module<double>::StateCandidate&) const;

}  // namespace xgrad::quant::quantized
