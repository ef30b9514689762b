#include "xgrad/quant/quantized/quantized_layer.hpp"

#include <algorithm>
#include <cmath>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::quant::quantized {

namespace {

// Total order that keeps -0 and +0 apart, so the table reproduces either.
template <class T>
bool before(T a, T b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}
template <class T>
bool same(T a, T b) {
  return a == b && std::signbit(a) == std::signbit(b);
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

}  // namespace

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer)
    : Module<T>(std::move(type_name)) {
  const std::string where = this->type_name() + ": ";
  const xt::xarray<T> w = frozen_weight(qat_layer, where).data();
  std::vector<T> levels(w.begin(), w.end());
  if (std::any_of(levels.begin(), levels.end(), [](T v) { return std::isnan(v); })) {
    throw ValueError(where + "the fake-quantized weight holds NaN");
  }
  std::sort(levels.begin(), levels.end(), before<T>);
  levels.erase(std::unique(levels.begin(), levels.end(), same<T>), levels.end());
  if (levels.size() > kMaxWeightLevels) {
    throw ValueError(where + "the fake-quantized weight has " + std::to_string(levels.size()) +
                     " distinct values (more than " + std::to_string(kMaxWeightLevels) +
                     "): it is not quantized");
  }
  xt::xarray<T> codes = xt::xarray<T>::from_shape(w.shape());
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto it = std::lower_bound(levels.begin(), levels.end(), w.data()[i], before<T>);
    codes.data()[i] = static_cast<T>(it - levels.begin());
  }
  xt::xarray<T> table = xt::xarray<T>::from_shape({levels.size()});
  std::copy(levels.begin(), levels.end(), table.begin());
  Tensor<T> b;
  if (qat_layer.bias.defined()) b = Tensor<T>(xt::xarray<T>(qat_layer.bias.data()));
  register_state(std::move(codes), std::move(table), b, qat_layer.qconfig().name,
                 qat_layer.input_fake_quant);
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
  Tensor<T> b;
  if (with_bias) b = zeros<T>({weight_shape[0]});
  register_state(xt::zeros<T>(weight_shape), xt::zeros<T>({std::size_t(1)}), b, qconfig.name, aq);
}

template <class T>
void QuantizedLayer<T>::register_state(xt::xarray<T> codes, xt::xarray<T> levels, Tensor<T> b,
                                       const std::string& qconfig_name,
                                       std::shared_ptr<FakeQuantizeBase<T>> input_quant) {
  codes_ = this->register_buffer("weight_codes", Tensor<T>(std::move(codes)));
  levels_ = this->register_buffer("weight_levels", Tensor<T>(std::move(levels)),
                                  /*fixed_shape=*/false);
  if (b.defined()) bias = this->register_buffer("bias", b);
  qconfig_tag_ = this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qconfig_name)),
                                       /*fixed_shape=*/false);
  if (input_quant) input_fake_quant = this->register_module("input_fake_quant", input_quant);
}

template <class T>
xt::xarray<std::int64_t> QuantizedLayer<T>::weight_codes() const {
  const xt::xarray<T>& c = codes_.data();
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape(c.shape());
  std::transform(c.begin(), c.end(), out.begin(), [](T v) { return static_cast<std::int64_t>(v); });
  return out;
}

template <class T>
Tensor<T> QuantizedLayer<T>::dequantized_weight() const {
  if (!weight_cache_.defined() || codes_version_ != codes_.version() ||
      levels_version_ != levels_.version()) {
    const xt::xarray<T>& c = codes_.data();
    const xt::xarray<T>& l = levels_.data();
    xt::xarray<T> w = xt::xarray<T>::from_shape(c.shape());
    // Codes were checked on construction and load: every one indexes l.
    for (std::size_t i = 0; i < c.size(); ++i) w.data()[i] = l.data()[std::size_t(c.data()[i])];
    weight_cache_ = Tensor<T>(std::move(w));
    codes_version_ = codes_.version();
    levels_version_ = levels_.version();
  }
  return weight_cache_;
}

template <class T>
Tensor<T> QuantizedLayer<T>::quantized_input(const Tensor<T>& x) {
  return input_fake_quant ? input_fake_quant->forward(x) : x;
}

template <class T>
void QuantizedLayer<T>::check_state_dict(
    const std::vector<std::pair<std::string, const xt::xarray<T>*>>& incoming) const {
  check_qconfig_entry(this->type_name(), qconfig_tag_, incoming);
  const xt::xarray<T>* codes = &codes_.data();
  const xt::xarray<T>* levels = &levels_.data();
  for (const auto& kv : incoming) {
    if (kv.first == "weight_codes") codes = kv.second;
    if (kv.first == "weight_levels") levels = kv.second;
  }
  const std::string where = this->type_name() + "::load_state_dict: ";
  if (levels->dimension() != 1 || levels->size() == 0) {
    throw ValueError(where + "weight_levels must be 1-D and non-empty");
  }
  for (std::size_t i = 0; i < levels->size(); ++i) {
    const T v = levels->data()[i];
    if (!std::isfinite(v) || (i > 0 && !before(levels->data()[i - 1], v))) {
      throw ValueError(where + "weight_levels must be finite and ascending; element " +
                       std::to_string(i) + " = " + std::to_string(v));
    }
  }
  const T top = static_cast<T>(levels->size());
  for (std::size_t i = 0; i < codes->size(); ++i) {
    const T c = codes->data()[i];
    if (!(c >= 0 && c < top && c == std::floor(c))) {
      throw ValueError(where + "weight_codes[" + std::to_string(i) + "] = " + std::to_string(c) +
                       " is not a code in [0, " + std::to_string(levels->size()) + ")");
    }
  }
}

template class QuantizedLayer<float>;
template class QuantizedLayer<double>;

}  // namespace xgrad::quant::quantized
