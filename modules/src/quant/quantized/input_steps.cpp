// InputSteps: finding the steps (bisection over the float keys, one batched
// quantizer call per round) and applying them (a count of thresholds).
#include "input_steps.hpp"

#include "../kernels/lut_int_kernels.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

namespace xgrad::quant::quantized {

namespace {

// A count over all thresholds (vectorized over the elements) pays up to a
// few dozen; quantizers with more steps (8-bit ones: 255) run themselves
// (measured: a binary search over 255 thresholds made a LeNet batch-1 first
// conv 3x slower than the affine kernel; load average 27).
constexpr std::size_t kMaxSteps = 32;

template <class T>
using Key = StepKey<T>;

// The sign bit flips the magnitude bits: negative values order by -magnitude
// and -0 comes just below +0. Its own inverse.
template <class T>
Key<T> flip_sign_order(Key<T> b) {
  constexpr Key<T> magnitude = std::numeric_limits<Key<T>>::max();
  return b ^ ((b >> (8 * sizeof(T) - 1)) & magnitude);
}

template <class T>
Key<T> key_of(T v) {
  Key<T> b;
  std::memcpy(&b, &v, sizeof b);
  return flip_sign_order<T>(b);
}

template <class T>
T value_of(Key<T> k) {
  const Key<T> b = flip_sign_order<T>(k);
  T v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The known elementwise, monotone quantizers.
template <class T>
bool is_known_elementwise(FakeQuantizeBase<T>& q) {
  if (dynamic_cast<RCFFakeQuantize<T>*>(&q) || dynamic_cast<APoTFakeQuantize<T>*>(&q) ||
      dynamic_cast<FakeQuantize<T>*>(&q))
    return true;
  const auto* lsq = dynamic_cast<LearnableFakeQuantize<T>*>(&q);
  return lsq && !lsq->is_per_channel();
}

template <class T>
std::vector<T> evaluate_at(FakeQuantizeBase<T>& q, const std::vector<Key<T>>& keys) {
  xt::xarray<T> x = xt::xarray<T>::from_shape({keys.size()});
  for (std::size_t i = 0; i < keys.size(); ++i) x(i) = value_of<T>(keys[i]);
  NoGradGuard no_grad;
  const Tensor<T> y = q.forward(Tensor<T>(std::move(x)));
  return std::vector<T>(y.data().begin(), y.data().end());
}

}  // namespace

template <class T>
template <class Out>
bool InputSteps<T>::count_steps(const T* x, std::size_t n, Out out) const {
  const std::size_t m = thresholds.size();
  const Key<T>* t = thresholds.data();
  // The bits of +infinity: all exponent bits set, no mantissa bit.
  constexpr Key<T> inf_bits = std::numeric_limits<Key<T>>::max() ^
                              ((Key<T>(1) << (std::numeric_limits<T>::digits - 1)) - 1);
  bool nan = false;
  // Chunks of keys on the stack, whole vectors (the tail padded with zeros),
  // so that the compiler vectorizes the key and count loops.
  constexpr std::size_t kChunk = 256;
  constexpr Key<T> magnitude = std::numeric_limits<Key<T>>::max();
  xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
    alignas(64) Key<T> keys[kChunk];
    alignas(64) Key<T> count[kChunk];
    Key<T> local_nan = 0;
    for (std::size_t c0 = b; c0 < e; c0 += kChunk) {
      const std::size_t c = std::min(kChunk, e - c0);
      const std::size_t cc = (c + 15) / 16 * 16;  // whole vectors
      std::memcpy(keys, x + c0, c * sizeof(T));
      std::fill(keys + c, keys + cc, Key<T>(0));
      for (std::size_t i = 0; i < cc; ++i) {
        // NaN: a magnitude above the infinity's.
        local_nan |= Key<T>((keys[i] & magnitude) > inf_bits);
        keys[i] = flip_sign_order<T>(keys[i]);
        count[i] = 0;
      }
      for (std::size_t k = 0; k < m; ++k) {
        const Key<T> tk = t[k];
        for (std::size_t i = 0; i < cc; ++i) count[i] += Key<T>(keys[i] >= tk);
      }
      for (std::size_t i = 0; i < c; ++i) out(c0 + i, std::size_t(count[i]));
    }
    if (local_nan) nan = true;  // any writer writes true: no torn value
  });
  return !nan;
}

template <class T>
bool InputSteps<T>::apply(const T* x, std::size_t n, T* out) const {
  const T* v = values.data();
  return count_steps(x, n, [out, v](std::size_t i, std::size_t k) { out[i] = v[k]; });
}

template <class T>
bool InputSteps<T>::apply_codes(const T* x, std::size_t n, const std::uint8_t* code_of_step,
                                std::uint8_t* out) const {
  if constexpr (std::is_same<T, float>::value) {
    if (thresholds.size() <= 31) {  // the kernels' tables (lut_int_kernels.hpp)
      const auto codes = xgrad::quant::kernels::active_int_kernels().step_codes;
      bool nan = false;
      xgrad::detail::parallel_for(n, xgrad::detail::kElementGrain,
                                  [&](std::size_t b, std::size_t e) {
                                    if (!codes(x + b, e - b, thresholds.data(), thresholds.size(),
                                               code_of_step, out + b))
                                      nan = true;  // any writer writes true: no torn value
                                  });
      return !nan;
    }
  }
  return count_steps(x, n,
                     [out, code_of_step](std::size_t i, std::size_t k) { out[i] = code_of_step[k]; });
}

template <class T>
std::shared_ptr<const InputSteps<T>> input_steps(FakeQuantizeBase<T>& q) {
  if (!is_known_elementwise(q) || q.observer_enabled() || !q.fake_quant_enabled()) return nullptr;
  // Intervals [lo, hi] of keys whose end values differ hold at least one
  // step; halve them all each round until the ends are neighbours. Equal end
  // values mean no step inside (the quantizer is monotone).
  struct Interval {
    Key<T> lo, hi;
    T vlo, vhi;
  };
  const Key<T> lo = key_of(-std::numeric_limits<T>::infinity());
  const Key<T> hi = key_of(std::numeric_limits<T>::infinity());
  const std::vector<T> ends = evaluate_at(q, {lo, hi});
  std::vector<Interval> open{{lo, hi, ends[0], ends[1]}};
  auto steps = std::make_shared<InputSteps<T>>();
  std::vector<std::pair<Key<T>, T>> found;  // (threshold, value from it on)
  while (!open.empty()) {
    std::vector<Key<T>> mids;
    std::vector<Interval> next;
    for (const Interval& s : open) {
      if (same_bits(s.vlo, s.vhi)) continue;
      // Unsigned differences: the key range spans more than the signed type.
      using U = std::make_unsigned_t<Key<T>>;
      const U width = U(s.hi) - U(s.lo);
      if (width == 1) {
        found.emplace_back(s.hi, s.vhi);
        if (found.size() > kMaxSteps) return nullptr;
        continue;
      }
      next.push_back(s);
      mids.push_back(Key<T>(U(s.lo) + width / 2));
    }
    if (next.size() > kMaxSteps) return nullptr;
    if (mids.empty()) break;
    const std::vector<T> vm = evaluate_at(q, mids);
    open.clear();
    for (std::size_t i = 0; i < next.size(); ++i) {
      open.push_back({next[i].lo, mids[i], next[i].vlo, vm[i]});
      open.push_back({mids[i], next[i].hi, vm[i], next[i].vhi});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  steps->values.push_back(ends[0]);
  for (const auto& f : found) {
    // A monotone quantizer's outputs never go down; anything else is not one.
    if (f.second < steps->values.back()) return nullptr;
    steps->thresholds.push_back(f.first);
    steps->values.push_back(f.second);
  }
  return steps;
}

template <class T>
std::vector<Tensor<T>> input_state(const FakeQuantizeBase<T>& q) {
  std::vector<Tensor<T>> state = q.parameters();
  for (Tensor<T>& b : q.buffers()) state.push_back(std::move(b));
  return state;
}

template struct InputSteps<float>;
template struct InputSteps<double>;
template std::shared_ptr<const InputSteps<float>> input_steps(FakeQuantizeBase<float>&);
template std::shared_ptr<const InputSteps<double>> input_steps(FakeQuantizeBase<double>&);
template std::vector<Tensor<float>> input_state(const FakeQuantizeBase<float>&);
template std::vector<Tensor<double>> input_state(const FakeQuantizeBase<double>&);

}  // namespace xgrad::quant::quantized
