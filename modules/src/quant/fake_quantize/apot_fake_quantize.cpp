#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"

#include <cmath>
#include <optional>
#include <string>

#include "../apot/validate_qparams.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"

namespace xgrad::quant {

namespace {

template <class T>
Tensor<T> empty_buffer() {
  return Tensor<T>(xt::xarray<T>::from_shape({0}));
}

}  // namespace

template <class T>
APoTFakeQuantize<T>::APoTFakeQuantize(int b, int k, bool signed_)
    : APoTFakeQuantize(b, k,
                       signed_ ? LevelScheme::signed_per_term : LevelScheme::unsigned_levels) {}

template <class T>
APoTFakeQuantize<T>::APoTFakeQuantize(int b, int k, LevelScheme scheme)
    : FakeQuantizeBase<T>("APoTFakeQuantize"), scheme_(scheme) {
  apot_level_count(b, k, scheme);  // ValueError unless b, k suit the scheme
  activation_post_process = this->register_module("activation_post_process",
                                                  std::make_shared<APoTObserver<T>>(b, k, scheme));
  alpha_ = this->register_buffer("alpha", empty_buffer<T>(), /*fixed_shape=*/false);
  gamma_ = this->register_buffer("gamma", empty_buffer<T>(), /*fixed_shape=*/false);
  levels_ = this->register_buffer("quantization_levels", empty_buffer<T>(), /*fixed_shape=*/false);
  indices_ = this->register_buffer("level_indices", empty_buffer<T>(), /*fixed_shape=*/false);
}

template <class T>
APoTQParams<T> APoTFakeQuantize<T>::calculate_qparams(bool signed_) const {
  return activation_post_process->calculate_qparams(signed_);
}
template <class T>
APoTQParams<T> APoTFakeQuantize<T>::calculate_qparams(LevelScheme scheme) const {
  return activation_post_process->calculate_qparams(scheme);
}

template <class T>
bool APoTFakeQuantize<T>::has_qparams() const {
  return levels_.numel() != 0;
}

template <class T>
APoTQParams<T> APoTFakeQuantize<T>::qparams() const {
  const char* op = "APoTFakeQuantize";
  XGRAD_CHECK(has_qparams(), StateError, op,
              ": qparams are missing (no quantization_levels): enable the observer and "
              "run forward, or load a state dict that has them");
  XGRAD_CHECK(alpha_.numel() == 1 && gamma_.numel() == 1, ValueError, op,
              ": alpha and gamma must hold one element each, got shapes ", alpha_.shape(), " and ",
              gamma_.shape());
  APoTQParams<T> q;
  q.alpha = alpha_.data().data()[0];
  q.gamma = gamma_.data().data()[0];
  q.quantization_levels = levels_;
  const xt::xarray<T>& idx = indices_.data();
  XGRAD_CHECK(idx.dimension() == 1, ValueError, op, ": level_indices must be 1-D, got shape ",
              indices_.shape());
  q.level_indices = xt::xarray<std::int64_t>::from_shape({idx.size()});
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const T v = idx.data()[i];
    XGRAD_CHECK(v >= 0 && v == std::floor(v) && v < T(1 << 24), ValueError, op, ": level_indices[",
                i, "] = ", v, " is not a valid code (a non-negative integer)");
    q.level_indices(i) = static_cast<std::int64_t>(v);
  }
  return q;
}

template <class T>
Tensor<T> APoTFakeQuantize<T>::forward(const Tensor<T>& x) {
  return forward(x, scheme_);
}
template <class T>
Tensor<T> APoTFakeQuantize<T>::forward(const Tensor<T>& x, bool signed_) {
  return forward(x, signed_ ? LevelScheme::signed_per_term : LevelScheme::unsigned_levels);
}

template <class T>
Tensor<T> APoTFakeQuantize<T>::forward(const Tensor<T>& x, LevelScheme scheme) {
  if (this->observer_enabled()) {
    APoTObserver<T>& obs = *activation_post_process;
    // If no qparams can be made (b, k unsuited to the scheme, too many levels,
    // alpha beyond float32), the transaction puts the observed range back: a
    // throwing forward leaves the module unchanged.
    const std::optional<APoTQParams<T>> computed =
        obs.observe_then(x, [&]() -> std::optional<APoTQParams<T>> {
          if (!obs.has_observed()) return std::nullopt;  // nothing finite seen yet
          return obs.calculate_qparams(scheme);
        });
    if (computed) {
      const APoTQParams<T>& q = *computed;
      xt::xarray<T> a = xt::xarray<T>::from_shape({1}), g = xt::xarray<T>::from_shape({1});
      a(0) = q.alpha;
      g(0) = q.gamma;
      const std::size_t L = q.level_indices.size();
      xt::xarray<T> idx = xt::xarray<T>::from_shape({L});
      for (std::size_t i = 0; i < L; ++i) idx(i) = static_cast<T>(q.level_indices(i));
      alpha_.mutable_data() = std::move(a);
      gamma_.mutable_data() = std::move(g);
      levels_.mutable_data() = q.quantization_levels.data();
      indices_.mutable_data() = std::move(idx);
    }
  }
  if (!this->fake_quant_enabled()) return x;
  const APoTQParams<T> q = qparams();
  return fake_quantize_function::apply(x, q.alpha, q.gamma, levels_, q.level_indices);
}

template <class T>
void APoTFakeQuantize<T>::check_state(const typename Module<T>::StateCandidate& state) const {
  this->check_toggles(state);
  const std::string where = "APoTFakeQuantize::load_state_dict: ";
  const xt::xarray<T>&alpha = state["alpha"], &gamma = state["gamma"];
  const xt::xarray<T>&levels = state["quantization_levels"], &idx = state["level_indices"];
  if (alpha.size() == 0 && gamma.size() == 0 && levels.size() == 0 && idx.size() == 0)
    return;  // no qparams yet
  XGRAD_CHECK(alpha.size() == 1 && gamma.size() == 1 && alpha.dimension() == 1 &&
                  gamma.dimension() == 1 && levels.size() != 0,
              ValueError, where, state.key("alpha"), ", ", state.key("gamma"), " and ",
              state.key("quantization_levels"),
              ": qparams need alpha and gamma of shape [1] and at least one level, got "
              "shapes ",
              alpha.shape(), ", ", gamma.shape(), ", ", levels.shape());
  xt::xarray<std::int64_t> indices = xt::xarray<std::int64_t>::from_shape(idx.shape());
  for (std::size_t i = 0; i < idx.size(); ++i) {
    const T v = idx.data()[i];
    XGRAD_CHECK(v >= 0 && v == std::floor(v) && v < T(1 << 24), ValueError, where,
                state.key("level_indices"), "[", i, "] = ", v,
                " is not a valid code (an integer in [0, 2^24))");
    indices.data()[i] = static_cast<std::int64_t>(v);
  }
  const std::string op = where + "the qparams under \"" + state.prefix() + "\"";
  detail::validate_qparams(alpha.data()[0], gamma.data()[0], levels, indices, op.c_str());
}

XGRAD_INSTANTIATE_CLASS(APoTFakeQuantize);

}  // namespace xgrad::quant
