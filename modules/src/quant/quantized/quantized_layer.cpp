#include "xgrad/quant/quantized/quantized_layer.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::quant::quantized {

namespace {

// Codes are stored as T: integers below this are exact in float.
constexpr double kMaxCode = double(std::int64_t(1) << 24);

// A bit order that keeps -0 and +0 apart, -0 first (distinct_levels' order).
template <class T>
bool before(T a, T b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}

template <class T>
std::string text(T v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The QAT layer's fake-quantized weight, computed with its weight observer
// off; the flag is put back whatever happens.
template <class T>
Tensor<T> frozen_weight(qat::FakeQuantizedLayer<T>& layer, const std::string& where) {
  FakeQuantizeBase<T>& wq = *layer.weight_fake_quant;
  if (!wq.fake_quant_enabled()) {
    throw StateError(where +
                     "weight_fake_quant has fake quant disabled: nothing to convert "
                     "(enable_fake_quant first)");
  }
  const bool observing = wq.observer_enabled();
  wq.disable_observer();
  Tensor<T> w;
  try {
    NoGradGuard no_grad;
    w = layer.fake_quantized_weight();
  } catch (const StateError& e) {
    wq.enable_observer(observing);
    throw StateError(where + "the weight quantizer is not calibrated: " + e.what());
  } catch (...) {
    wq.enable_observer(observing);
    throw;
  }
  wq.enable_observer(observing);
  return w;
}

// code -> position in the level table, from the level codes (ascending by
// code), for the checks and the dequantization.
struct CodeIndex {
  std::vector<std::pair<std::int64_t, std::size_t>> by_code;
  // The position of `code`'s level, or -1.
  std::ptrdiff_t find(std::int64_t code) const {
    const auto it =
        std::lower_bound(by_code.begin(), by_code.end(), std::make_pair(code, std::size_t(0)));
    return it != by_code.end() && it->first == code ? std::ptrdiff_t(it->second) : -1;
  }
};

}  // namespace

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, TableKeys keys)
    : Module<T>(std::move(type_name)), keys_(std::move(keys)) {}

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer)
    : Module<T>(std::move(type_name)) {
  const std::string where = this->type_name() + ": ";
  const xt::xarray<T> w = frozen_weight(qat_layer, where).data();
  if (std::any_of(w.begin(), w.end(), [](T v) { return std::isnan(v); }))
    throw ValueError(where + "the fake-quantized weight holds NaN");
  const LevelSet table = distinct_levels(w.data(), w.size(), this->type_name().c_str());
  if (table.size() > kMaxWeightLevels) {
    throw ValueError(where + "the fake-quantized weight has " + std::to_string(table.size()) +
                     " distinct values (more than " + std::to_string(kMaxWeightLevels) +
                     "): it is not quantized");
  }
  const std::vector<T> levels = table.values<T>();
  xt::xarray<T> codes = xt::xarray<T>::from_shape(w.shape());
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto it = std::lower_bound(levels.begin(), levels.end(), w.data()[i], before<T>);
    codes.data()[i] = static_cast<T>(table.codes[std::size_t(it - levels.begin())]);
  }
  register_weight_codes(std::move(codes));
  register_weight_table(table);
  if (qat_layer.bias.defined()) register_bias(Tensor<T>(xt::xarray<T>(qat_layer.bias.data())));
  qconfig_tag_ =
      this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qat_layer.qconfig().name)),
                            /*fixed_shape=*/false);
  if (qat_layer.input_fake_quant)
    input_fake_quant = this->register_module("input_fake_quant", qat_layer.input_fake_quant);
}

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, const Shape& weight_shape, bool with_bias,
                                  const QConfig<T>& qconfig)
    : Module<T>(std::move(type_name)) {
  std::shared_ptr<FakeQuantizeBase<T>> aq;
  if (qconfig.activation) {
    aq = qconfig.activation();
    if (!aq)
      throw ValueError(this->type_name() + ": the qconfig's activation factory returned null");
  }
  const T zero = T(0);
  register_weight_codes(xt::zeros<T>(weight_shape));
  register_weight_table(distinct_levels(&zero, 1, this->type_name().c_str()));
  if (with_bias) register_bias(zeros<T>({weight_shape[0]}));
  qconfig_tag_ = this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qconfig.name)),
                                       /*fixed_shape=*/false);
  if (aq) input_fake_quant = this->register_module("input_fake_quant", aq);
}

template <class T>
void QuantizedLayer<T>::register_weight_codes(xt::xarray<T> codes) {
  codes_ = this->register_buffer("weight_codes", Tensor<T>(std::move(codes)));
}

template <class T>
void QuantizedLayer<T>::register_weight_table(const LevelSet& table) {
  const std::vector<T> v = table.values<T>();
  if (!keys_.scale.empty())
    scale_ = this->register_buffer(keys_.scale, Tensor<T>(xt::xarray<T>({T(table.scale)})));
  xt::xarray<T> levels = xt::xarray<T>::from_shape({v.size()});
  std::copy(v.begin(), v.end(), levels.begin());
  levels_ = this->register_buffer(keys_.levels, Tensor<T>(std::move(levels)), keys_.fixed_size);
  if (!keys_.codes.empty()) {
    xt::xarray<T> codes = xt::xarray<T>::from_shape({table.size()});
    for (std::size_t i = 0; i < table.size(); ++i) codes(i) = static_cast<T>(table.codes[i]);
    level_codes_ =
        this->register_buffer(keys_.codes, Tensor<T>(std::move(codes)), keys_.fixed_size);
  }
}

template <class T>
void QuantizedLayer<T>::register_bias(const Tensor<T>& b) {
  bias = this->register_buffer("bias", b);
}

template <class T>
void QuantizedLayer<T>::check_weight(const StateView& state) const {
  const std::string& where = state.where;
  const xt::xarray<T>& levels = state[keys_.levels];
  if (levels.dimension() != 1 || levels.size() == 0)
    throw ValueError(where + keys_.levels + " must be 1-D and non-empty");
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const T v = levels.data()[i];
    if (!std::isfinite(v) || (i > 0 && v < levels.data()[i - 1]))
      throw ValueError(where + keys_.levels + " must be finite and ascending; element " +
                       std::to_string(i) + " = " + text(v));
  }
  CodeIndex index;
  if (keys_.codes.empty()) {
    for (std::size_t r = 0; r < levels.size(); ++r) index.by_code.emplace_back(std::int64_t(r), r);
  } else {
    const xt::xarray<T>& lc = state[keys_.codes];
    if (lc.dimension() != 1 || lc.size() != levels.size())
      throw ValueError(where + keys_.codes + " must be 1-D with one code per level (" +
                       std::to_string(levels.size()) + "), got " + std::to_string(lc.size()));
    for (std::size_t r = 0; r < lc.size(); ++r) {
      const T c = lc.data()[r];
      if (!(c >= 0 && double(c) < kMaxCode && std::floor(c) == c))
        throw ValueError(where + keys_.codes + "[" + std::to_string(r) + "] = " + text(c) +
                         " is not a code (an integer in [0, 2^24))");
      index.by_code.emplace_back(std::int64_t(c), r);
    }
    std::sort(index.by_code.begin(), index.by_code.end());
    for (std::size_t r = 1; r < index.by_code.size(); ++r)
      if (index.by_code[r].first == index.by_code[r - 1].first)
        throw ValueError(where + keys_.codes + " holds " + std::to_string(index.by_code[r].first) +
                         " twice");
  }
  if (!keys_.scale.empty()) {
    const xt::xarray<T>& s = state[keys_.scale];
    if (s.size() != 1 || !std::isfinite(s.data()[0]))
      throw ValueError(where + keys_.scale + " must hold one finite value, got " +
                       (s.size() == 1 ? text(s.data()[0]) : std::to_string(s.size()) + " values"));
  }
  const xt::xarray<T>& codes = state["weight_codes"];
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const T c = codes.data()[i];
    const bool integer = c >= 0 && double(c) < kMaxCode && std::floor(c) == c;
    if (!integer || index.find(std::int64_t(c)) < 0)
      throw ValueError(where + "weight_codes[" + std::to_string(i) + "] = " + text(c) +
                       (keys_.codes.empty()
                            ? " is not a code in [0, " + std::to_string(levels.size()) + ")"
                            : " is not the code of any level (" + keys_.codes + ")"));
  }
  if (bias.defined()) {
    const xt::xarray<T>& b = state["bias"];
    for (std::size_t i = 0; i < b.size(); ++i)
      if (!std::isfinite(b.data()[i]))
        throw ValueError(where + "bias[" + std::to_string(i) + "] = " + text(b.data()[i]) +
                         " is not finite");
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

template <class T>
void QuantizedLayer<T>::refresh() const {
  std::vector<std::uint64_t> versions;
  for (const auto& b : this->buffers(false)) versions.push_back(b.version());
  if (weight_cache_.defined() && versions == cache_versions_) return;
  // A buffer changed since the load checks (or was never checked): check again,
  // the dequantization below relies on every code having a level.
  const auto named = this->named_buffers(false);
  check_weight(StateView{[&named](const std::string& name) -> const xt::xarray<T>& {
                           for (const auto& kv : named)
                             if (kv.first == name) return kv.second.data();
                           throw StateError("QuantizedLayer: no buffer " + name);
                         },
                         this->type_name() + ": "});
  const xt::xarray<T>& c = codes_.data();
  const xt::xarray<T>& l = levels_.data();
  CodeIndex index;
  if (level_codes_.defined()) {
    for (std::size_t r = 0; r < level_codes_.numel(); ++r)
      index.by_code.emplace_back(std::int64_t(level_codes_.data()(r)), r);
    std::sort(index.by_code.begin(), index.by_code.end());
  }
  xt::xarray<T> w = xt::xarray<T>::from_shape(c.shape());
  xt::xarray<std::int64_t> ints = xt::xarray<std::int64_t>::from_shape(c.shape());
  for (std::size_t i = 0; i < c.size(); ++i) {
    const auto code = static_cast<std::int64_t>(c.data()[i]);
    ints.data()[i] = code;
    w.data()[i] =
        l.data()[level_codes_.defined() ? std::size_t(index.find(code)) : std::size_t(code)];
  }
  weight_cache_ = Tensor<T>(std::move(w));
  codes_cache_ = std::move(ints);
  cache_versions_ = std::move(versions);
}

template <class T>
const xt::xarray<std::int64_t>& QuantizedLayer<T>::checked_codes() const {
  refresh();
  return codes_cache_;
}

template <class T>
xt::xarray<std::int64_t> QuantizedLayer<T>::weight_codes() const {
  return checked_codes();
}

template <class T>
xt::xarray<std::int64_t> QuantizedLayer<T>::level_codes() const {
  const std::size_t L = levels_.numel();
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape({L});
  for (std::size_t r = 0; r < L; ++r)
    out(r) = level_codes_.defined() ? std::int64_t(level_codes_.data()(r)) : std::int64_t(r);
  return out;
}

template <class T>
T QuantizedLayer<T>::weight_scale() const {
  return scale_.defined() ? scale_.data().data()[0] : T(1);
}

template <class T>
Tensor<T> QuantizedLayer<T>::dequantized_weight() const {
  refresh();
  return weight_cache_;
}

template <class T>
Tensor<T> QuantizedLayer<T>::quantized_input(const Tensor<T>& x) {
  return input_fake_quant ? input_fake_quant->forward(x) : x;
}

template class QuantizedLayer<float>;
template class QuantizedLayer<double>;

}  // namespace xgrad::quant::quantized
