// InputSteps: a converted layer's kept input quantizer, frozen (observer off,
// fake quant on), as what it then is: a monotone step function of each
// element (internal; quantized_layer.cpp). The steps are found once per
// state of the quantizer by bisection over the floats, evaluating the
// quantizer itself, so every value is the quantizer's own output bit for bit;
// applying them is a count of thresholds per element instead of the
// quantizer's division, search and product (and no autograd node).
//
// Only quantizers known to be elementwise and monotone take this path
// (RCFFakeQuantize, APoTFakeQuantize, FakeQuantize, per-tensor
// LearnableFakeQuantize); others, and inputs holding NaN, run the quantizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"

namespace xgrad::quant::quantized {

// A total order on the non-NaN values of T as integers: key(a) < key(b) iff a
// comes before b, with -0 before +0 (so the two zeros may map to different
// outputs).
template <class T>
using StepKey = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

template <class T>
struct InputSteps {
  // x maps to values[k], k the number of thresholds whose key is <= key(x).
  std::vector<StepKey<T>> thresholds;
  std::vector<T> values;  // thresholds.size() + 1 outputs, the quantizer's

  // out[i] = the quantizer's output for x[i] (out may be x); false, with out
  // unspecified, when x holds NaN.
  bool apply(const T* x, std::size_t n, T* out) const;
  // out[i] = code_of_step[k], k the step of x[i] as above (values.size()
  // entries): the converted layers' integer path (integer_path.hpp). False,
  // with out unspecified, when x holds NaN. Float steps run the integer
  // kernels' count (up to 31 thresholds) or, for evenly spaced thresholds
  // (uniform quantizers, e.g. 8-bit: 255), a first guess from the value
  // corrected by one comparison each way (fast_codes()).
  bool apply_codes(const T* x, std::size_t n, const std::uint8_t* code_of_step,
                   std::uint8_t* out) const;
  // Whether apply_codes runs a kernel (else an element-by-element count).
  bool fast_codes() const { return thresholds.size() <= 31 || !guess_.empty(); }

 private:
  template <class Out>
  bool count_steps(const T* x, std::size_t n, Out out) const;
  void find_guess();
  template <class U>
  friend std::shared_ptr<const InputSteps<U>> input_steps(FakeQuantizeBase<U>&, std::size_t);
  // The guess (find_guess): thresholds padded with the lowest and highest
  // key, empty when there is none.
  std::vector<std::int32_t> guess_;
  float origin_ = 0, inverse_step_ = 0;
};

// The steps of q as it stands, or null when q is not one of the known
// quantizers, is not frozen (observer on or fake quant off) or has more
// than max_steps steps.
template <class T>
std::shared_ptr<const InputSteps<T>> input_steps(FakeQuantizeBase<T>& q,
                                                 std::size_t max_steps = 32);

// Everything q's forward reads: its parameters and buffers (handles: their
// versions follow in-place writes, loads included). Equal versions give
// equal steps.
template <class T>
std::vector<Tensor<T>> input_state(const FakeQuantizeBase<T>& q);

}  // namespace xgrad::quant::quantized
