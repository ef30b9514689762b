// InputSteps: finding the steps (bisection over the float keys, one batched
// quantizer call per round) and applying them (a count of thresholds).
#include "input_steps.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>

#include "../kernels/lut_int_kernels.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"

namespace xgrad::quant::quantized {

namespace {

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
    namespace kn = xgrad::quant::kernels;
    const kn::IntKernels& k = kn::active_int_kernels();
    const std::size_t m = thresholds.size();
    if (m <= 31 || !guess_.empty()) {  // the kernels' forms (lut_int_kernels.hpp)
      bool nan = false;
      xgrad::detail::parallel_for(
          n, xgrad::detail::kElementGrain, [&](std::size_t b, std::size_t e) {
            const bool ok =
                m <= 31 ? k.step_codes(x + b, e - b, thresholds.data(), m, code_of_step, out + b)
                        : k.step_codes_near(x + b, e - b, guess_.data(), m, origin_, inverse_step_,
                                            code_of_step, out + b);
            if (!ok) nan = true;  // any writer writes true: no torn value
          });
      return !nan;
    }
  }
  return count_steps(
      x, n, [out, code_of_step](std::size_t i, std::size_t k) { out[i] = code_of_step[k]; });
}

template <class T>
std::shared_ptr<const InputSteps<T>> input_steps(FakeQuantizeBase<T>& q, std::size_t max_steps) {
  const std::size_t kMaxSteps = max_steps;
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
  if constexpr (std::is_same<T, float>::value) steps->find_guess();
  return steps;
}

// Thresholds spaced evenly (uniform quantizers') take a first guess
// floor((x - origin) * inverse_step) + 1, clamped to [0, m], kept only when
// it is within 1 of the count at both ends of every step: the guess is
// monotone in x, so it is then within 1 everywhere, and one comparison each
// way corrects it.
template <class T>
void InputSteps<T>::find_guess() {
  const std::size_t m = thresholds.size();
  if (m < 2) return;
  std::vector<float> t(m);
  for (std::size_t k = 0; k < m; ++k) t[k] = float(value_of<T>(thresholds[k]));
  if (!std::isfinite(t[0]) || !std::isfinite(t[m - 1]) || !(t[m - 1] > t[0])) return;
  const float origin = t[0], inverse = float(double(m - 1) / (double(t[m - 1]) - double(t[0])));
  if (!std::isfinite(inverse)) return;
  auto guess = [&](float v) {
    const float g = std::min(std::max(std::floor((v - origin) * inverse) + 1.0f, 0.0f), float(m));
    return long(g);
  };
  for (std::size_t k = 0; k < m; ++k) {
    const long at = guess(t[k]), below = guess(std::nextafter(t[k], -INFINITY));
    if (std::labs(at - long(k + 1)) > 1 || std::labs(below - long(k)) > 1) return;
  }
  guess_.assign(m + 2, 0);
  guess_[0] = std::numeric_limits<std::int32_t>::min();
  for (std::size_t k = 0; k < m; ++k) guess_[k + 1] = std::int32_t(thresholds[k]);
  guess_[m + 1] = std::numeric_limits<std::int32_t>::max();
  origin_ = origin;
  inverse_step_ = inverse;
}

template <class T>
std::vector<Tensor<T>> input_state(const FakeQuantizeBase<T>& q) {
  std::vector<Tensor<T>> state = q.parameters();
  for (Tensor<T>& b : q.buffers()) state.push_back(std::move(b));
  return state;
}

template struct InputSteps<float>;
template struct InputSteps<double>;
template std::shared_ptr<const InputSteps<float>> input_steps(FakeQuantizeBase<float>&,
                                                              std::size_t);
template std::shared_ptr<const InputSteps<double>> input_steps(FakeQuantizeBase<double>&,
                                                               std::size_t);
template std::vector<Tensor<float>> input_state(const FakeQuantizeBase<float>&);
template std::vector<Tensor<double>> input_state(const FakeQuantizeBase<double>&);

}  // namespace xgrad::quant::quantized
