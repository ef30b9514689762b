// libFuzzer harness: APoT and uniform quantization with arbitrary (b, k,
// scheme, alpha, values): level sets, observers, quantize / dequantize,
// quant_dequant, the differentiable fake quantizers (forward and backward),
// APoTFakeQuantize, LinearAPoT and per-tensor affine fake quantization. Every
// call may throw an xgrad::Error; anything else is a finding.
#include <cstdint>

#include "fuzz_input.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_fuzz::FuzzInput;

namespace {

template <class F>
void tolerate_errors(F f) {
  try {
    f();
  } catch (const xgrad::Error&) {
  }
}

template <class T>
void run(FuzzInput& in) {
  const int b = static_cast<int>(in.below(20));
  const int k = static_cast<int>(in.below(10));
  const auto scheme = static_cast<LevelScheme>(in.below(3));
  const double alpha = in.number();
  xt::xarray<T> values = xt::xarray<T>::from_shape({in.below(48)});
  for (auto& v : values) v = static_cast<T>(in.number());
  const Tensor<T> x(values, true);

  tolerate_errors([&] { apot_level_set(b, k, alpha, scheme); });
  tolerate_errors([&] {
    APoTObserver<T> obs(b, k);
    obs.forward(x);
    if (in.byte() & 1) obs.set_min_val(static_cast<T>(in.number()));
    const APoTQParams<T> q = obs.calculate_qparams(scheme);
    tolerate_errors([&] { dequantize_APoT(quantize_APoT(x.detach(), q)); });
    tolerate_errors([&] { quant_dequant(x.detach(), q); });
    sum(fake_quantize_APoT(x, q)).backward();
  });
  tolerate_errors([&] {  // qparams straight from the bytes
    const std::size_t L = in.below(10);
    xt::xarray<T> levels = xt::xarray<T>::from_shape({L});
    for (auto& v : levels) v = static_cast<T>(in.number());
    xt::xarray<std::int64_t> indices = xt::xarray<std::int64_t>::from_shape({in.below(11)});
    for (auto& v : indices) v = in.byte() < 240 ? in.byte() : in.raw<std::int64_t>();
    const Tensor<T> lv(levels);
    tolerate_errors([&] { quant_dequant<T>(x.detach(), T(alpha), T(in.number()), lv, indices); });
    tolerate_errors([&] {
      dequantize_APoT(quantize_APoT<T>(x.detach(), T(alpha), T(in.number()), lv, indices));
    });
    sum(fake_quantize_function::apply(x, T(alpha), T(in.number()), lv, indices)).backward();
  });
  tolerate_errors([&] {
    APoTFakeQuantize<T> fq(b, k, scheme);
    if (in.byte() & 1) fq.disable_observer();
    sum(fq.forward(x)).backward();
  });
  tolerate_errors([&] {
    const std::size_t out = 1 + in.below(4);
    if (values.size() < out) return;
    const std::size_t cols = values.size() / out;
    xt::xarray<T> w = xt::xarray<T>::from_shape({out, cols});
    std::copy(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(out * cols), w.begin());
    LinearAPoT<T> layer(Tensor<T>(w), b, k, Tensor<T>(), scheme);
    xt::xarray<std::int64_t> xint = xt::xarray<std::int64_t>::from_shape({cols});
    for (auto& v : xint) v = static_cast<std::int8_t>(in.byte());
    layer.forward_integer(xint);
    layer.forward(Tensor<T>(xt::xarray<T>(xt::ones<T>({std::size_t(2), cols}))));
  });
  tolerate_errors([&] {
    const std::int64_t qmin = static_cast<std::int8_t>(in.byte());
    const std::int64_t qmax = qmin + in.byte();
    const std::int64_t zp = qmin + in.below(256);
    sum(fake_quantize_per_tensor_affine(x, in.number(), zp, qmin, qmax)).backward();
  });
  tolerate_errors([&] {
    FakeQuantize<T> fq(in.byte() & 1 ? QuantDtype::qint8 : QuantDtype::quint8,
                       in.byte() & 1 ? QScheme::per_tensor_symmetric : QScheme::per_tensor_affine);
    sum(fq.forward(x)).backward();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  if (in.byte() & 1) {
    run<float>(in);
  } else {
    run<double>(in);
  }
  return 0;
}
