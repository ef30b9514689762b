#include "xgrad/quant/quantized/quantized_layer.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "../kernels/lut_int_matrix.hpp"
#include "../kernels/lut_matrix.hpp"
#include "../kernels/packed_codes.hpp"
#include "input_steps.hpp"
#include "integer_path.hpp"
#include "weight_tables.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/kernels/simd_isa.hpp"

namespace xgrad::quant::quantized {

namespace {

namespace kn = xgrad::quant::kernels;
using tables::before;
using tables::bits_for;
using tables::distinct;
using tables::row_scaled_table;

// The QAT layer's fake-quantized weight, computed with its weight observer
// off; the flag is put back whatever happens.
template <class T>
Tensor<T> frozen_weight(qat::FakeQuantizedLayer<T>& layer, const std::string& where) {
  FakeQuantizeBase<T>& wq = *layer.weight_fake_quant;
  XGRAD_CHECK(wq.fake_quant_enabled(), StateError, where,
              "weight_fake_quant has fake quant disabled: nothing to convert (call "
              "quant::freeze(model) after calibrate: it turns fake quant on and the observers "
              "off)");
  const bool observing = wq.observer_enabled();
  wq.disable_observer();
  Tensor<T> w;
  try {
    NoGradGuard no_grad;
    w = layer.fake_quantized_weight();
  } catch (const StateError& e) {
    wq.enable_observer(observing);
    throw_error<StateError>(where, "the weight quantizer is not calibrated: ", e.what());
  } catch (...) {
    wq.enable_observer(observing);
    throw;
  }
  wq.enable_observer(observing);
  return w;
}

template <class T>
bool versions_unchanged(const std::vector<Tensor<T>>& tensors,
                        const std::vector<std::uint64_t>& versions) {
  if (tensors.size() != versions.size()) return false;
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].version() != versions[i]) return false;
  return true;
}

}  // namespace

// The checked state: one code per weight (row-major), the table by code
// (table_rows rows of 2^bits), and for float layers with one table and
// 2-4-bit codes one LutMatrix per group.
template <class T>
struct QuantizedLayer<T>::Runtime {
  int bits = 0;
  std::size_t rows = 0, cols = 0, table_rows = 0;
  std::vector<std::uint8_t> codes;
  std::vector<T> table;
  std::vector<kn::LutMatrix> luts;
  int lut_bits = 0;         // the kernels' code width
  bool row_scaled = false;  // the kernels' table is shared, times a scale per row
  std::shared_ptr<const IntegerWeights> int_weights;  // null: no integer path

  T level(std::size_t row, std::uint8_t code) const {
    return table[(table_rows == 1 ? 0 : row) * (std::size_t(1) << bits) + code];
  }
};

template <class T>
QuantizedLayer<T>::~QuantizedLayer() = default;

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, TableKeys keys)
    : Module<T>(std::move(type_name)), keys_(std::move(keys)) {}

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer,
                                  std::size_t groups)
    : Module<T>(std::move(type_name)), groups_(groups) {
  const std::string where = this->type_name() + ": ";
  const xt::xarray<T> w = frozen_weight(qat_layer, where).data();
  XGRAD_CHECK(std::none_of(w.begin(), w.end(), [](T v) { return std::isnan(v); }), ValueError,
              where, "the fake-quantized weight holds NaN");
  const std::size_t rows = w.shape()[0], cols = w.size() / rows;
  // One table for the tensor when it fits in 8 bits, else one per channel;
  // also one per channel for an RCF weight with an alpha per channel when
  // that needs fewer bits (a 2-bit one then packs at 2 bits).
  std::vector<std::vector<T>> tables{distinct(w.data(), w.size())};
  const auto* rcf = qat_layer.weight_fake_quant
                        ? qat_layer.weight_fake_quant->template as<RCFFakeQuantize<T>>()
                        : nullptr;
  std::vector<std::vector<T>> per_row;
  std::size_t most = 0;
  if (tables[0].size() > (std::size_t(1) << kMaxCodeBits) || (rcf && rcf->is_per_channel())) {
    for (std::size_t o = 0; o < rows; ++o) {
      per_row.push_back(distinct(w.data() + o * cols, cols));
      most = std::max(most, per_row.back().size());
    }
  }
  if (tables[0].size() > (std::size_t(1) << kMaxCodeBits) ||
      (!per_row.empty() && bits_for(most) < bits_for(tables[0].size()))) {
    for (std::size_t o = 0; o < per_row.size(); ++o)
      XGRAD_CHECK(per_row[o].size() <= (std::size_t(1) << kMaxCodeBits), ValueError, where,
                  "channel ", o, " of the fake-quantized weight has ", per_row[o].size(),
                  " distinct values (more than 256): not the weight of a quantizer of at most 8 "
                  "bits");
    tables = std::move(per_row);
  }
  most = 0;
  for (const auto& t : tables) most = std::max(most, t.size());
  const int bits = bits_for(most);
  const std::size_t width = std::size_t(1) << bits;
  xt::xarray<std::int64_t> codes = xt::xarray<std::int64_t>::from_shape(w.shape());
  xt::xarray<T> table = xt::xarray<T>::from_shape({tables.size(), width});
  for (std::size_t r = 0; r < tables.size(); ++r) {
    const std::vector<T>& t = tables[r];
    for (std::size_t c = 0; c < width; ++c) table(r, c) = t[std::min(c, t.size() - 1)];
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::vector<T>& t = tables[tables.size() == 1 ? 0 : i / cols];
    codes.data()[i] = std::lower_bound(t.begin(), t.end(), w.data()[i], before<T>) - t.begin();
  }
  register_weight_codes(codes, bits);
  levels_ = this->register_buffer(keys_.levels, Tensor<T>(std::move(table)), false);
  if (qat_layer.bias.defined()) register_bias(Tensor<T>(xt::xarray<T>(qat_layer.bias.data())));
  qconfig_tag_ =
      this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qat_layer.qconfig().name)),
                            /*fixed_shape=*/false);
  if (qat_layer.input_fake_quant)
    input_fake_quant = this->register_module("input_fake_quant", qat_layer.input_fake_quant);
}

template <class T>
QuantizedLayer<T>::QuantizedLayer(std::string type_name, const Shape& weight_shape, bool with_bias,
                                  const QConfig<T>& qconfig, std::size_t groups)
    : Module<T>(std::move(type_name)), groups_(groups) {
  std::shared_ptr<FakeQuantizeBase<T>> aq;
  if (qconfig.activation) {
    aq = qconfig.activation();
    XGRAD_CHECK(aq, ValueError, this->type_name(),
                ": the qconfig's activation factory returned null");
  }
  register_weight_codes(xt::zeros<std::int64_t>(weight_shape), 2);
  levels_ =
      this->register_buffer(keys_.levels, Tensor<T>(xt::xarray<T>(xt::zeros<T>({1, 4}))), false);
  if (with_bias) register_bias(zeros<T>({weight_shape[0]}));
  qconfig_tag_ = this->register_buffer("qconfig", Tensor<T>(encode_qconfig_name<T>(qconfig.name)),
                                       /*fixed_shape=*/false);
  if (aq) input_fake_quant = this->register_module("input_fake_quant", aq);
}

template <class T>
void QuantizedLayer<T>::register_weight_codes(const xt::xarray<std::int64_t>& codes, int bits) {
  weight_shape_ = Shape(codes.shape().begin(), codes.shape().end());
  const std::size_t rows = weight_shape_.at(0), cols = codes.size() / rows;
  std::vector<std::uint8_t> narrow(codes.size());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    XGRAD_CHECK(codes.data()[i] >= 0 && codes.data()[i] < (std::int64_t(1) << bits), ValueError,
                this->type_name(), ": code ", codes.data()[i], " at ", i, " has more than ", bits,
                " bits");
    narrow[i] = std::uint8_t(codes.data()[i]);
  }
  const std::vector<std::uint8_t> bytes = kn::to_canonical(narrow, rows, cols, bits);
  xt::xarray<T> stored = xt::xarray<T>::from_shape({bytes.size()});
  std::copy(bytes.begin(), bytes.end(), stored.begin());
  packed_ = this->register_byte_buffer("weight_packed", Tensor<T>(std::move(stored)));
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
const typename QuantizedLayer<T>::Runtime& QuantizedLayer<T>::refresh() const {
  if (runtime_ && versions_unchanged(cache_buffers_, cache_versions_)) return *runtime_;
  std::vector<Tensor<T>> watched = this->buffers(false);
  std::vector<std::uint64_t> versions;
  for (const auto& b : watched) versions.push_back(b.version());
  // A buffer changed since the load checks (or was never checked): check again,
  // the decoding below relies on every code having a level.
  const auto named = this->named_buffers(false);
  check_weight(StateView{[&named](const std::string& name) -> const xt::xarray<T>& {
                           for (const auto& kv : named)
                             if (kv.first == name) return kv.second.data();
                           throw_error<StateError>("QuantizedLayer: no buffer ", name);
                         },
                         this->type_name() + ": "});
  auto rt = std::make_shared<Runtime>();
  rt->rows = weight_shape_[0];
  std::size_t n = 1;
  for (std::size_t e : weight_shape_) n *= e;
  rt->cols = n / rt->rows;
  const xt::xarray<T>& levels = levels_.data();
  if (keys_.codes.empty()) {
    rt->table_rows = levels.shape()[0];
    rt->bits = bits_for(levels.shape()[1]);
    rt->table.assign(levels.begin(), levels.end());
  } else {
    rt->table_rows = 1;
    rt->bits = keys_.bits;
    rt->table.assign(std::size_t(1) << rt->bits, T(0));  // codes of no level: never used
    for (std::size_t r = 0; r < levels.size(); ++r)
      rt->table[std::size_t(level_codes_.data()(r))] = levels(r);
  }
  const std::vector<std::uint8_t> bytes(packed_.data().begin(), packed_.data().end());
  rt->codes = kn::from_canonical(bytes, rt->rows, rt->cols, rt->bits);
  if constexpr (std::is_same<T, float>::value) {
    std::vector<std::uint8_t> codes;
    std::vector<float> table, row_scale;
    int bits = 0;
    if (rt->table_rows == 1 && rt->bits >= 2 && rt->bits <= 4) {
      codes = rt->codes;
      table.assign(rt->table.begin(), rt->table.end());
      bits = rt->bits;
    } else {
      bits = row_scaled_table(*rt, codes, table, row_scale);
    }
    if (bits > 0) {
      const std::size_t og = rt->rows / groups_;
      for (std::size_t g = 0; g < groups_; ++g) {
        std::vector<std::uint8_t> part(codes.begin() + std::ptrdiff_t(g * og * rt->cols),
                                       codes.begin() + std::ptrdiff_t((g + 1) * og * rt->cols));
        std::vector<float> b, sc;
        if (bias.defined())
          b.assign(bias.data().begin() + std::ptrdiff_t(g * og),
                   bias.data().begin() + std::ptrdiff_t((g + 1) * og));
        if (!row_scale.empty())
          sc.assign(row_scale.begin() + std::ptrdiff_t(g * og),
                    row_scale.begin() + std::ptrdiff_t((g + 1) * og));
        rt->luts.emplace_back(kn::pack_codes(part, og, rt->cols, bits), table, std::move(sc),
                              std::vector<float>{}, std::move(b));
      }
      rt->lut_bits = bits;
      rt->row_scaled = !row_scale.empty();
    }
    // From 8 weights a row: the integer path's error bound (integer_path.hpp)
    // is then within the float path's.
    if (groups_ == 1 && rt->cols >= 8) {
      const Shape& ws = weight_shape_;
      const bool conv = ws.size() == 4;
      const Runtime& r = *rt;
      rt->int_weights = integer_weights(r.rows, conv ? ws[1] : 1, conv ? ws[2] : 1,
                                        conv ? ws[3] : r.cols, [&r](std::size_t o, std::size_t k) {
                                          return float(r.level(o, r.codes[o * r.cols + k]));
                                        });
    }
  }
  runtime_ = std::move(rt);
  weight_cache_ = Tensor<T>();
  cache_buffers_ = std::move(watched);
  cache_versions_ = std::move(versions);
  return *runtime_;
}

template <class T>
int QuantizedLayer<T>::code_bits() const {
  return refresh().bits;
}

template <class T>
xt::xarray<std::int64_t> QuantizedLayer<T>::weight_codes() const {
  const Runtime& rt = refresh();
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape(weight_shape_);
  std::copy(rt.codes.begin(), rt.codes.end(), out.begin());
  return out;
}

template <class T>
xt::xarray<std::int64_t> QuantizedLayer<T>::level_codes() const {
  const xt::xarray<T>& l = levels_.data();
  if (keys_.codes.empty()) {  // a code is its column
    xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape(l.shape());
    for (std::size_t i = 0; i < l.size(); ++i) out.data()[i] = std::int64_t(i % l.shape()[1]);
    return out;
  }
  xt::xarray<std::int64_t> out = xt::xarray<std::int64_t>::from_shape({l.size()});
  for (std::size_t r = 0; r < l.size(); ++r) out(r) = std::int64_t(level_codes_.data()(r));
  return out;
}

template <class T>
T QuantizedLayer<T>::weight_scale() const {
  return scale_.defined() ? scale_.data().data()[0] : T(1);
}

template <class T>
Tensor<T> QuantizedLayer<T>::dequantized_weight() const {
  const Runtime& rt = refresh();
  if (!weight_cache_.defined()) {
    xt::xarray<T> w = xt::xarray<T>::from_shape(weight_shape_);
    for (std::size_t i = 0; i < rt.codes.size(); ++i)
      w.data()[i] = rt.level(i / rt.cols, rt.codes[i]);
    weight_cache_ = Tensor<T>(std::move(w));
  }
  return weight_cache_;
}

template <class T>
Tensor<T> QuantizedLayer<T>::quantized_input(const Tensor<T>& x) {
  if (!input_fake_quant) return x;
  if (x.defined() && !(GradMode::is_enabled() && x.requires_grad())) {
    current_input_steps();
    // Large inputs run the quantizer: its SIMD kernels beat the steps from
    // about 2k elements (measured at 16 levels, AVX-512, load average 25:
    // the steps take 0.3-0.5x the quantizer's time up to 1176 elements, 2-3x
    // from 4096).
    const std::size_t small = 2048;
    if (input_steps_ && input_steps_->thresholds.size() <= 32 && x.numel() < small) {
      xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
      if (input_steps_->apply(x.data().data(), x.numel(), out.data()))
        return Tensor<T>(std::move(out));
    }
  }
  return input_fake_quant->forward(x);
}

template <class T>
std::shared_ptr<const InputSteps<T>> QuantizedLayer<T>::current_input_steps() const {
  if (!input_fake_quant) return nullptr;
  if (input_steps_of_ != input_fake_quant.get() ||
      !versions_unchanged(input_state_, input_versions_)) {
    // Up to 255 steps (8-bit quantizers) for the integer path's codes;
    // quantized_input counts only up to 32 (integer_path.hpp).
    input_steps_ = input_steps(*input_fake_quant, 255);
    input_steps_of_ = input_fake_quant.get();
    // After finding the steps: running the quantizer may bump versions.
    input_state_ = input_state(*input_fake_quant);
    input_versions_.clear();
    for (const auto& t : input_state_) input_versions_.push_back(t.version());
  }
  return input_steps_;
}

template <class T>
std::shared_ptr<const IntegerPlan> QuantizedLayer<T>::integer_plan() const {
  if constexpr (std::is_same<T, float>::value) {
    if (!lut_enabled_ || !integer_enabled_ || groups_ != 1 || !input_fake_quant ||
        !integer_geometry())
      return nullptr;
    refresh();
    const std::shared_ptr<const InputSteps<T>> steps = current_input_steps();
    if (!runtime_->int_weights || !steps) return nullptr;
    if (!int_plan_known_ || int_plan_of_rt_ != runtime_ || int_plan_of_steps_ != steps) {
      std::vector<float> b;
      if (bias.defined()) b.assign(bias.data().begin(), bias.data().end());
      int_plan_ = quantized::integer_plan(runtime_->int_weights, integer_input(steps), b);
      int_plan_of_rt_ = runtime_;
      int_plan_of_steps_ = steps;
      int_plan_known_ = true;
    }
    return int_plan_;
  } else {
    return nullptr;  // double: no kernels
  }
}

template <class T>
std::string QuantizedLayer<T>::kernel() const {
  const Runtime& rt = refresh();
  if (integer_plan()) return "integer " + std::to_string(rt.bits) + "-bit " + to_string(simd_isa());
  if (!has_lut_kernel()) return "dequantized";
  return "lut " + std::to_string(rt.lut_bits) + "-bit " + (rt.row_scaled ? "row-scaled " : "") +
         to_string(simd_isa());
}

template <class T>
bool QuantizedLayer<T>::has_lut_kernel() const {
  return lut_enabled_ && !refresh().luts.empty();
}

template <class T>
bool QuantizedLayer<T>::lut_forward(std::size_t group, const T* x, std::size_t batch, T* y,
                                    bool sample_columns) const {
  const LutKernels k = lut_kernels();
  if (!k) return false;
  k.forward(group, x, batch, y, sample_columns);
  return true;
}

template <class T>
typename QuantizedLayer<T>::LutKernels QuantizedLayer<T>::lut_kernels() const {
  LutKernels k;
  refresh();
  if (lut_enabled_ && !runtime_->luts.empty()) k.rt_ = runtime_;
  return k;
}

template <class T>
void QuantizedLayer<T>::LutKernels::forward(std::size_t group, const T* x, std::size_t batch, T* y,
                                            bool sample_columns) const {
  if constexpr (std::is_same<T, float>::value) {
    const kn::LutMatrix& m = rt_->luts.at(group);
    m.forward(x, batch * m.cols(), batch, y, batch * m.rows(), kn::LutPath::automatic,
              sample_columns ? kn::LutLayout::sample_columns : kn::LutLayout::sample_rows);
  } else {
    (void)group, (void)x, (void)batch, (void)y, (void)sample_columns;  // double: no kernels
  }
}

template <class T>
WeightStorage QuantizedLayer<T>::weight_storage() const {
  WeightStorage s;
  std::size_t n = 1;
  for (std::size_t e : weight_shape_) n *= e;
  const std::size_t b = bias.defined() ? bias.numel() : 0;
  s.float_bytes = sizeof(float) * (n + b);
  s.bytes = packed_.numel() + sizeof(T) * (levels_.numel() + b) +
            (level_codes_.defined() ? sizeof(T) * level_codes_.numel() : 0) +
            (scale_.defined() ? sizeof(T) : 0);
  return s;
}

template <class T>
void QuantizedLayer<T>::fuse(bool relu, std::optional<FusedPool> pool) {
  XGRAD_CHECK(relu || !pool, ValueError, this->type_name(),
              ".fuse: a max pool fuses only after a ReLU (relu false with a pool)");
  fuse_relu_ = relu;
  fuse_pool_ = pool;
  record_fused_output(Tensor<T>(), Tensor<T>());
}

template <class T>
void QuantizedLayer<T>::record_fused_output(const Tensor<T>& y, const Tensor<T>& pooled) const {
  fused_y_ = y;
  fused_pooled_ = pooled;
  fused_version_ = y.defined() ? y.version() : 0;
}

template <class T>
bool QuantizedLayer<T>::is_fused_output(const Tensor<T>& x) const {
  // An xarray is contiguous: the same start, shape and version of a buffer we
  // hold means the same values.
  return fused_y_.defined() && x.defined() && x.data().data() == fused_y_.data().data() &&
         x.shape() == fused_y_.shape() && x.version() == fused_version_;
}

template <class T>
Tensor<T> QuantizedLayer<T>::fused_pooled(const Tensor<T>& x) const {
  // Handed out once: a caller may write into it.
  if (!is_fused_output(x)) return Tensor<T>();
  Tensor<T> p = fused_pooled_;
  fused_pooled_ = Tensor<T>();
  return p;
}

XGRAD_INSTANTIATE_CLASS(QuantizedLayer);

}  // namespace xgrad::quant::quantized
