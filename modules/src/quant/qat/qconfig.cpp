#include "xgrad/quant/qat/qconfig.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "../enum_name.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/levels/level_set.hpp"

namespace xgrad::quant {

const char* to_string(WeightNorm norm) {
  return detail::enum_name(norm, {"none", "standardize", "standardize_rescale"});
}

const char* to_string(QuantMethod method) {
  return detail::enum_name(method, {"apot_fixed", "apot_rcf", "uniform", "uniform_lsq"});
}

const char* to_string(LevelFamily family) {
  return detail::enum_name(family, {"apot", "uniform", "power_of_two"});
}

std::string to_string(const QuantizerSpec& spec) {
  std::string s = std::string(to_string(spec.method)) + "(b=" + std::to_string(spec.bits) + "," +
                  (spec.is_signed ? "signed" : "unsigned");
  if (spec.per_channel) s += ",per_channel@" + std::to_string(spec.ch_axis);
  if (spec.narrow_range) s += ",narrow";
  if (spec.init) s += std::string(",init=") + to_string(*spec.init);
  if (spec.init == AlphaInit::percentile) s += ",p=" + format_message(spec.percentile);
  if (spec.lsq_grad_scale) s += ",grad=lsq";
  if (spec.levels != LevelFamily::apot) s += std::string(",levels=") + to_string(spec.levels);
  return s + ")";
}

namespace {

bool is_apot(QuantMethod m) { return m == QuantMethod::apot_fixed || m == QuantMethod::apot_rcf; }

// APoT sets use k = 2 terms, as the paper.
constexpr int kTermBits = 2;

void validate(const QuantizerSpec& spec) {
  const std::string where = "make_fake_quantize(" + to_string(spec) + ")";
  XGRAD_CHECK(!spec.per_channel || spec.method != QuantMethod::apot_fixed, ValueError, where,
              ": per_channel is offered for apot_rcf and the uniform methods only");
  XGRAD_CHECK(spec.ch_axis >= 0, ValueError, where, ": ch_axis must be >= 0, got ", spec.ch_axis);
  XGRAD_CHECK(is_apot(spec.method) || (spec.bits >= 2 && spec.bits <= 8), ValueError, where,
              ": uniform bits must be in [2, 8], got ", spec.bits);
  const bool rcf = spec.method == QuantMethod::apot_rcf;
  XGRAD_CHECK(!spec.narrow_range || (!is_apot(spec.method) && spec.is_signed), ValueError, where,
              ": narrow_range is offered for signed uniform quantizers only");
  XGRAD_CHECK(!spec.init || rcf || spec.method == QuantMethod::uniform_lsq, ValueError, where,
              ": init is offered for apot_rcf and uniform_lsq only (the others observe ranges)");
  XGRAD_CHECK(!(spec.init == AlphaInit::fixed && spec.method == QuantMethod::uniform_lsq),
              ValueError, where, ": init fixed would leave the LSQ step at 1; pick an observer");
  XGRAD_CHECK(!(spec.init && spec.per_channel && spec.method == QuantMethod::uniform_lsq),
              ValueError, where,
              ": init is per tensor only for LSQ (per-channel LSQ observes min/max per channel)");
  XGRAD_CHECK(spec.percentile > 0 && spec.percentile <= 100, ValueError, where,
              ": percentile must be in (0, 100], got ", spec.percentile);
  XGRAD_CHECK(rcf || (!spec.lsq_grad_scale && spec.levels == LevelFamily::apot), ValueError, where,
              ": lsq_grad_scale and levels are apot_rcf options");
  // APoTFakeQuantize builds its level set only from observed ranges: a b too
  // large for any set must fail here, not at the first calibration batch.
  if (spec.method == QuantMethod::apot_fixed) {
    const auto scheme = spec.is_signed ? LevelScheme::sign_magnitude : LevelScheme::unsigned_levels;
    XGRAD_CHECK(apot_level_count(spec.bits, kTermBits, scheme) <= kMaxAPoTLevels, ValueError, where,
                ": b=", spec.bits, " gives more than the ", kMaxAPoTLevels,
                " levels an APoT set supports");
  }
}

// The normalized set of an apot_rcf quantizer.
LevelSet rcf_levels(const QuantizerSpec& spec) {
  const int b = spec.bits;
  switch (spec.levels) {
    case LevelFamily::apot:
      return spec.is_signed ? apot_sign_magnitude_levels(b, kTermBits)
                            : apot_unsigned_levels(b, kTermBits);
    case LevelFamily::uniform:
      return uniform_levels(b, spec.is_signed);
    case LevelFamily::power_of_two:
      return power_of_two_levels(b, spec.is_signed);
  }
  throw_error<ValueError>("make_fake_quantize(", spec, "): unknown level family");
}

// The channel count of a per-channel learnable quantizer: shape[ch_axis].
std::int64_t channel_count(const QuantizerSpec& spec, const Shape& shape) {
  XGRAD_CHECK(static_cast<std::size_t>(spec.ch_axis) < shape.size(), ShapeError,
              "make_fake_quantize(", spec, "): ch_axis ", spec.ch_axis,
              " is out of range for shape ", shape);
  return static_cast<std::int64_t>(shape[spec.ch_axis]);
}

}  // namespace

template <class T>
std::shared_ptr<FakeQuantizeBase<T>> make_fake_quantize(const QuantizerSpec& spec,
                                                        const Shape& shape) {
  validate(spec);
  const int b = spec.bits;
  // 2^(b-1), for the uniform methods only: validate bounded their b to [2, 8];
  // an APoT b is checked by the level-set builders (a shift by it could be UB).
  const auto half = [b] { return std::int64_t(1) << (b - 1); };
  switch (spec.method) {
    case QuantMethod::apot_fixed:
      return std::make_shared<APoTFakeQuantize<T>>(
          b, kTermBits,
          spec.is_signed ? LevelScheme::sign_magnitude : LevelScheme::unsigned_levels);
    case QuantMethod::apot_rcf: {
      // The paper's alpha 3 for standardized weights; inputs from observed ranges.
      RCFOptions<T> options;
      options.init = spec.init.value_or(spec.is_signed ? AlphaInit::fixed : AlphaInit::max_abs);
      options.percentile = spec.percentile;
      options.lsq_grad_scale = spec.lsq_grad_scale;
      if (spec.per_channel) {
        options.channel_len = channel_count(spec, shape);
        options.ch_axis = spec.ch_axis;
      }
      return std::make_shared<RCFFakeQuantize<T>>(rcf_levels(spec), options);
    }
    case QuantMethod::uniform: {
      // narrow_range: the symmetric grid [-(2^(b-1) - 1), 2^(b-1) - 1].
      const std::int64_t signed_min = spec.narrow_range ? 1 - half() : -half();
      if (spec.per_channel) {
        return std::make_shared<PerChannelFakeQuantize<T>>(
            spec.ch_axis, spec.is_signed ? QuantDtype::qint8 : QuantDtype::quint8,
            spec.is_signed ? QScheme::per_channel_symmetric : QScheme::per_channel_affine,
            spec.is_signed ? signed_min : 0, spec.is_signed ? half() - 1 : 2 * half() - 1);
      }
      if (spec.is_signed)
        return std::make_shared<FakeQuantize<T>>(QuantDtype::qint8, QScheme::per_tensor_symmetric,
                                                 signed_min, half() - 1);
      return std::make_shared<FakeQuantize<T>>(QuantDtype::quint8, QScheme::per_tensor_affine, 0,
                                               2 * half() - 1);
    }
    case QuantMethod::uniform_lsq: {
      LearnableFakeQuantizeOptions<T> o;
      o.quant_min = spec.is_signed ? (spec.narrow_range ? 1 - half() : -half()) : 0;
      o.quant_max = spec.is_signed ? half() - 1 : 2 * half() - 1;
      o.use_grad_scaling = true;
      o.step_init = spec.init;
      o.percentile = spec.percentile;
      o.dtype = spec.is_signed ? QuantDtype::qint8 : QuantDtype::quint8;
      o.qscheme = spec.is_signed ? QScheme::per_tensor_symmetric : QScheme::per_tensor_affine;
      if (spec.per_channel) {
        o.qscheme = spec.is_signed ? QScheme::per_channel_symmetric : QScheme::per_channel_affine;
        o.channel_len = channel_count(spec, shape);
        o.ch_axis = spec.ch_axis;
      }
      return std::make_shared<LearnableFakeQuantize<T>>(o);
    }
  }
  throw_error<ValueError>("make_fake_quantize(", spec, "): unknown method");
}

template <class T>
QConfig<T> make_qconfig(const QuantizerSpec& weight, const std::optional<QuantizerSpec>& activation,
                        WeightNorm norm, double eps) {
  XGRAD_CHECK(eps > 0 && std::isfinite(eps), ValueError,
              "make_qconfig: weight_norm eps must be finite and > 0, got ", eps);
  QConfig<T> c;
  // Validates now rather than at prepare_qat (a stand-in shape with one
  // channel on ch_axis for per-channel quantizers).
  make_fake_quantize<T>(weight,
                        Shape(static_cast<std::size_t>(std::max(weight.ch_axis, 0)) + 1, 1));
  c.weight = [weight](const Shape& shape) { return make_fake_quantize<T>(weight, shape); };
  c.name = "weight=" + to_string(weight);
  if (activation) {
    make_fake_quantize<T>(*activation);
    c.activation = [a = *activation] { return make_fake_quantize<T>(a); };
    c.name += " input=" + to_string(*activation);
  }
  c.weight_norm = norm;
  c.weight_norm_eps = eps;
  if (norm != WeightNorm::none) c.name += " norm=" + std::string(to_string(norm));
  return c;
}

template <class T>
QConfig<T> apot_fixed_qconfig(int bits) {
  return make_qconfig<T>({QuantMethod::apot_fixed, bits, true},
                         QuantizerSpec{QuantMethod::apot_fixed, bits, false});
}

template <class T>
QConfig<T> apot_rcf_qconfig(int bits, bool rescale) {
  return make_qconfig<T>({QuantMethod::apot_rcf, bits, true},
                         QuantizerSpec{QuantMethod::apot_rcf, bits, false},
                         rescale ? WeightNorm::standardize_rescale : WeightNorm::standardize);
}

template <class T>
QConfig<T> uniform_qconfig(int bits, bool per_channel_weights) {
  return make_qconfig<T>({QuantMethod::uniform, bits, true, per_channel_weights},
                         QuantizerSpec{QuantMethod::uniform, bits, false});
}

template <class T>
QConfig<T> uniform_lsq_qconfig(int bits, bool per_channel_weights) {
  return make_qconfig<T>({QuantMethod::uniform_lsq, bits, true, per_channel_weights},
                         QuantizerSpec{QuantMethod::uniform_lsq, bits, false});
}

template <class T>
xt::xarray<T> encode_qconfig_name(const std::string& name) {
  xt::xarray<T> codes = xt::xarray<T>::from_shape({name.size()});
  for (std::size_t i = 0; i < name.size(); ++i) codes(i) = T(static_cast<unsigned char>(name[i]));
  return codes;
}

template <class T>
std::string decode_qconfig_name(const xt::xarray<T>& codes) {
  std::string name;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const T c = codes.data()[i];
    XGRAD_CHECK(c >= 0 && c < 256 && c == std::floor(c), ValueError,
                "decode_qconfig_name: element ", i, " = ", c, " is not a character code");
    name += static_cast<char>(static_cast<unsigned char>(c));
  }
  return name;
}

template <class T>
void check_qconfig_entry(const std::string& layer, const Tensor<T>& own,
                         const xt::xarray<T>& loaded) {
  const xt::xarray<T>& mine = own.data();
  if (loaded.shape() == mine.shape() && std::equal(mine.begin(), mine.end(), loaded.begin()))
    return;
  std::string saved;
  try {
    saved = "\"" + decode_qconfig_name(loaded) + "\"";
  } catch (const ValueError&) {
    saved = "(not a qconfig name)";
  }
  throw_error<ValueError>(layer, "::load_state_dict: the state dict was saved with qconfig ", saved,
                          ", this layer was prepared with \"", decode_qconfig_name(mine),
                          "\" (prepare the model with the same config before loading)");
}

#define XGRAD_QCONFIG_INSTANTIATE(T)                                                             \
  template std::shared_ptr<FakeQuantizeBase<T>> make_fake_quantize<T>(const QuantizerSpec&,      \
                                                                      const Shape&);             \
  template QConfig<T> make_qconfig<T>(const QuantizerSpec&, const std::optional<QuantizerSpec>&, \
                                      WeightNorm, double);                                       \
  template QConfig<T> apot_fixed_qconfig<T>(int);                                                \
  template QConfig<T> apot_rcf_qconfig<T>(int, bool);                                            \
  template QConfig<T> uniform_qconfig<T>(int, bool);                                             \
  template QConfig<T> uniform_lsq_qconfig<T>(int, bool);                                         \
  template xt::xarray<T> encode_qconfig_name<T>(const std::string&);                             \
  template std::string decode_qconfig_name<T>(const xt::xarray<T>&);                             \
  template void check_qconfig_entry<T>(const std::string&, const Tensor<T>&, const xt::xarray<T>&);

XGRAD_QCONFIG_INSTANTIATE(float)
XGRAD_QCONFIG_INSTANTIATE(double)

}  // namespace xgrad::quant
