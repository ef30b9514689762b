// quantized::QuantizedLayer<T>: the one family of integer-weight layers (the
// counterpart of PyTorch's torch.ao.nn.quantized modules). What convert()
// turns a QAT layer into (quantized::Linear, quantized::Conv2d), and
// LinearAPoT (PyTorch's experimental APoT linear, quantized from a float
// weight). Every member stores its weight the same way:
//   packed codes  the code of every weight, b bits each (1 <= b <= 8), in
//                 the canonical packing of the [rows, cols] code matrix (rows
//                 the output channels, cols the rest of the weight's
//                 extents): code i at bits [i b, i b + b) of a byte string,
//                 least significant bit first, ceil(rows cols b / 8) bytes,
//                 the unused high bits of the last byte zero. A byte buffer
//                 (Module::register_byte_buffer): saved as a uint8 member,
//                 b/32 of the float weight's bytes;
//   level table   what a code stands for: a converted layer's "weight_table"
//                 [R, 2^b], one row for the tensor (R = 1) or one per output
//                 channel (R = rows), code c of row o standing for
//                 table[o or 0, c]; LinearAPoT's APoT level set (its own keys);
//   scale         the table's scale (LinearAPoT's gamma), for integer
//                 kernels that apply it once per output.
//
// Converting (the QAT layer's fake-quantized weight W, computed with its
// weight observer off): when W has at most 256 distinct values, one table
// of them (ascending, padded to 2^b with the largest), b the fewest bits
// (at least 2) that hold them: a 4-bit APoT weight packs at 4 bits, an
// 8-bit uniform one at 8. Otherwise (per-channel scales) one table per
// output channel, b set by the channel with the most values; a channel with
// more than 256 is refused (ValueError: not a weight quantizer of at most 8
// bits). An RCF weight quantizer with an alpha per channel gets a table per
// channel whenever that needs fewer bits. The dequantized weight
// table[code] is W bit for bit.
//
// Forward. Float layers whose weight levels and kept, frozen input
// quantizer's levels are both integers times units (APoT's dyadic levels,
// uniform ones) run the integer path first: u8 input codes times int8
// weights, summed exactly in int32, the same bits on every instruction set
// and thread count, within gamma_7 (sum |w x| + |b|) of exact
// (src/quant/quantized/integer_path.hpp; kernel() says "integer").
// Otherwise, float layers whose codes have 2, 3 or 4 bits and one table run the
// lookup-table kernels on the packed codes (3-bit codes in 4-bit lanes): a
// Linear's batch through the GEMV / GEMM kernel, a Conv2d's samples through
// im2col and the same kernel (per group; samples split over the threads).
// Per-channel weights (a table per row, or an 8-bit table) whose every row's
// levels are integers times the row's unit (uniform per-channel quantizers:
// level = float(q * scale)), with at most 16 integers over all rows, run the
// same kernels on those integers, times a scale per row ("row-scaled").
// The kernel sums each output in another order than BLAS (one fma per
// weight, in column order, 2-bit batch 1 in column pairs): against exact
// arithmetic each output is within gamma_K * sum_j |w_j x_j| (K the weights
// in a sum; row-scaled: gamma_{K+2}, the weight's rounding and the scale's
// product added), so it differs from the float-table path
// (forward_dequantized) by at most twice that. Other layers (8-bit weights,
// per-channel levels of no common integers, double) and inputs that need a
// gradient run forward_dequantized: the float op on the dequantized weight,
// which equals the QAT layer's eval forward (observers off) bit for bit.
// Results never depend on the thread count.
//
// State, in state-dict order: "weight_packed" (uint8), the table
// ("weight_table", or LinearAPoT's), "bias" (when the layer has one),
// "qconfig"; child "input_fake_quant" (when the config quantizes inputs).
//
// Loading checks (ValueError naming the key and the value, nothing changed):
// the qconfig name (as for QAT layers); a table of 2^b columns, 2 <= b <= 8,
// and 1 or rows rows, every value finite; packed bytes that are bytes, as many
// as rows cols b needs, the unused high bits zero; the scale and bias finite;
// members add their own (LinearAPoT: its APoT set, every code a level's).
// The layers have no parameters: they are for inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/ops/size2.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"
#include "xgrad/quant/qat/qconfig.hpp"

namespace xgrad::quant::quantized {

template <class T>
struct InputSteps;   // internal
struct IntegerPlan;  // internal (integer_path.hpp)
struct IntegerWeights;

// The widest codes a layer stores (a table of 2^8 entries).
inline constexpr int kMaxCodeBits = 8;

template <class T = float>
class QuantizedLayer : public Module<T> {
 public:
  ~QuantizedLayer() override;

  const Shape& weight_shape() const { return weight_shape_; }
  // Bits per code (b).
  int code_bits() const;
  // The codes as integers, in the weight's shape (ValueError if the stored
  // state is not usable, as for dequantized_weight).
  xt::xarray<std::int64_t> weight_codes() const;
  // The level table as stored: a converted layer's [R, 2^b] table,
  // LinearAPoT's levels ascending.
  const xt::xarray<T>& weight_levels() const { return levels_.data(); }
  // The code of each entry of weight_levels() (a converted layer's: its
  // column).
  xt::xarray<std::int64_t> level_codes() const;
  // The table's scale; 1 when the layer stores none.
  T weight_scale() const;
  // The level of every code, in the weight's shape (cached; rebuilt, after
  // the checks of a load, when a buffer changed).
  Tensor<T> dequantized_weight() const;
  // input_fake_quant(x), or x itself without an input quantizer. A frozen
  // input quantizer (observer off) of a known elementwise kind, on an input
  // that needs no gradient, runs as a table of its steps: the same values
  // bit for bit, without its arithmetic or an autograd node.
  Tensor<T> quantized_input(const Tensor<T>& x);
  // The float op on quantized_input(x) and dequantized_weight(): the QAT
  // layer's eval forward bit for bit, with gradients to x.
  virtual Tensor<T> forward_dequantized(const Tensor<T>& input) = 0;

  // Which product forward runs on: "integer" (the weights' and the frozen
  // input quantizer's levels are integers times units: exact int32 sums of
  // int8 weights and u8 input codes, e.g. "integer 4-bit avx512"), "lut" (the
  // lookup-table kernels on the packed codes, with the kernels' code width
  // and the instruction set in use, e.g. "lut 4-bit avx512", or "lut 4-bit
  // row-scaled avx2" for per-channel weights) or "dequantized"
  // (forward_dequantized).
  std::string kernel() const;
  bool has_lut_kernel() const;
  // Off: forward runs forward_dequantized even where a kernel exists (to
  // reproduce the QAT model bit for bit, or to compare). Not saved.
  void enable_lut_kernel(bool on = true) { lut_enabled_ = on; }
  // Off: forward runs the lookup-table kernels (or forward_dequantized) even
  // where the integer path exists (to compare the two). Not saved.
  void enable_integer_kernel(bool on = true) { integer_enabled_ = on; }
  // Packed codes, table, scale and bias bytes, and the float32 weight's and
  // bias's (summary() shows them).
  WeightStorage weight_storage() const override;

  // Fusion (what convert does, as PyTorch's fused ConvReLU2d / LinearReLU):
  // a ReLU that follows the layer in a Sequential, and a MaxPool2d after
  // that (Conv2d), run in the integer path's epilogue while a sample's
  // outputs are in cache: the layer's output is then already ReLU'd, and its
  // max pool is computed beside it (the same selects as max_pool2d, in the
  // same window order: bit for bit). The following modules stay in the tree
  // as quantized::FusedReLU / FusedMaxPool2d (fused.hpp): they return the
  // layer's result for its own last output, and run the op otherwise. Off
  // (nullopt, false) by default; other paths (LUT, dequantized) never fuse.
  struct FusedPool {
    Size2 kernel, stride, padding;
  };
  void fuse(bool relu, std::optional<FusedPool> pool);
  bool relu_fused() const { return fuse_relu_; }
  const std::optional<FusedPool>& pool_fused() const { return fuse_pool_; }
  // Whether x is this layer's last output (the same buffer, shape and
  // version) and was ReLU'd by the epilogue.
  bool is_fused_output(const Tensor<T>& x) const;
  // The max pool of x when x is such an output and the epilogue pooled it,
  // once (a second call, undefined: the caller may have written into it);
  // undefined otherwise.
  Tensor<T> fused_pooled(const Tensor<T>& x) const;

  Tensor<T> bias;  // a buffer; undefined without bias
  std::shared_ptr<FakeQuantizeBase<T>> input_fake_quant;

 protected:
  // The state-dict names of the table (the codes are always "weight_packed").
  struct TableKeys {
    std::string levels = "weight_table";
    std::string codes;  // empty: a converted layer's [R, 2^b] table by position
    std::string scale;  // empty: no scale stored
    // The table's size is set by the layer's settings (LinearAPoT's b, k),
    // so a load of another size is a ShapeError; else any size loads.
    bool fixed_size = false;
    int bits = 0;  // with `codes`: the layer's code width
  };
  // A layer's own entries by name as a check sees them: the loaded candidate
  // in check_state, the stored buffers when dequantizing.
  struct StateView {
    std::function<const xt::xarray<T>&(const std::string&)> get;
    std::string where;  // what the messages start with (the layer, where it is)
    const xt::xarray<T>& operator[](const std::string& name) const { return get(name); }
  };

  // A member that registers its storage itself (LinearAPoT), in this order:
  // register_weight_codes, its own buffers, register_weight_table,
  // register_bias.
  QuantizedLayer(std::string type_name, TableKeys keys);
  // From a QAT layer: computes its fake-quantized weight with the weight
  // observer off (the layer is left as it was) and takes its input quantizer
  // object. StateError when the weight quantizer has fake quant disabled or no
  // qparams; ValueError for a NaN weight or a channel of more than 256 values.
  // `groups`: a Conv2d's, whose groups get one kernel each.
  QuantizedLayer(std::string type_name, qat::FakeQuantizedLayer<T>& qat_layer,
                 std::size_t groups = 1);
  // Empty (all codes 0 of 2 bits, a table of zeros), with fresh quantizers
  // from `qconfig`: a model to load a converted checkpoint into.
  QuantizedLayer(std::string type_name, const Shape& weight_shape, bool bias,
                 const QConfig<T>& qconfig, std::size_t groups = 1);

  // codes: integers in [0, 2^bits), in the weight's shape.
  void register_weight_codes(const xt::xarray<std::int64_t>& codes, int bits);
  void register_weight_table(const LevelSet& table);
  void register_bias(const Tensor<T>& b);

  // The checks a usable weight passes (see the header comment); a member
  // adds its own after calling this one. ValueError naming the key.
  virtual void check_weight(const StateView& state) const;
  void check_state(const typename Module<T>::StateCandidate& state) const override;

  // The lookup-table kernels' product for float layers that have them:
  // y [batch, rows of group g] from x [batch, cols] (sample_columns: x [cols,
  // batch], y [rows of g, batch]). False (nothing written) when the layer has
  // no kernel (see kernel()).
  bool lut_forward(std::size_t group, const T* x, std::size_t batch, T* y,
                   bool sample_columns) const;

  // The integer path (src/quant/quantized/integer_path.hpp) when the layer
  // has one: float, one group, a frozen input quantizer of known steps whose
  // levels are integers times a unit, weights int8 times a unit per row,
  // sums that fit int32, at least 8 weights a row, and a geometry the member
  // runs (integer_geometry). Null otherwise (and when either kernel switch
  // is off).
  std::shared_ptr<const IntegerPlan> integer_plan() const;
  // Records the output forward returns: y ReLU'd in the epilogue (pooled: its
  // max pool, or undefined); an undefined y forgets the last one.
  void record_fused_output(const Tensor<T>& y, const Tensor<T>& pooled) const;

  // Whether the member's options suit the integer path (Conv2d: dilation 1).
  virtual bool integer_geometry() const { return true; }

 private:
  struct Runtime;

 protected:
  // The kernels as lut_forward runs them, checked once for many calls (a
  // Conv2d's samples); false when the layer has none.
  class LutKernels {
   public:
    explicit operator bool() const { return rt_ != nullptr; }
    void forward(std::size_t group, const T* x, std::size_t batch, T* y, bool sample_columns) const;

   private:
    friend class QuantizedLayer;
    std::shared_ptr<const Runtime> rt_;
  };
  LutKernels lut_kernels() const;

 private:
  // Runtime: the checked state ready for use: the codes, the table by code,
  // the kernels (quantized_layer.cpp).
  // Checks the state once per change of a buffer, then rebuilds the runtime
  // and drops the cached dequantized weight.
  const Runtime& refresh() const;

  bool fuse_relu_ = false;
  std::optional<FusedPool> fuse_pool_;
  // The last fused output (held, so its buffer cannot be another tensor's),
  // its version then, and its pooled form.
  mutable Tensor<T> fused_y_, fused_pooled_;
  mutable std::uint64_t fused_version_ = 0;
  TableKeys keys_;
  Shape weight_shape_;
  std::size_t groups_ = 1;
  bool lut_enabled_ = true;
  bool integer_enabled_ = true;
  Tensor<T> packed_, levels_, level_codes_, scale_, qconfig_tag_;
  mutable Tensor<T> weight_cache_;
  mutable std::shared_ptr<const Runtime> runtime_;
  // The buffers the runtime was built from and their versions then (loads
  // write buffers in place, bumping the versions).
  mutable std::vector<Tensor<T>> cache_buffers_;
  mutable std::vector<std::uint64_t> cache_versions_;
  // The input quantizer's steps (null: run it), for the quantizer object and
  // the versions of its state they were found for.
  std::shared_ptr<const InputSteps<T>> current_input_steps() const;
  mutable std::shared_ptr<const InputSteps<T>> input_steps_;
  mutable const FakeQuantizeBase<T>* input_steps_of_ = nullptr;
  mutable std::vector<Tensor<T>> input_state_;
  mutable std::vector<std::uint64_t> input_versions_;
  // The integer plan and what it was made from (null plan: none).
  mutable std::shared_ptr<const IntegerPlan> int_plan_;
  mutable std::shared_ptr<const void> int_plan_of_rt_, int_plan_of_steps_;
  mutable bool int_plan_known_ = false;
};

XGRAD_EXTERN_TEMPLATE_CLASS(QuantizedLayer);

}  // namespace xgrad::quant::quantized
