#include "xgrad/quant/quantized/linear.hpp"

#include "integer_path.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/linalg.hpp"

namespace xgrad::quant::quantized {

template <class T>
Linear<T>::Linear(qat::Linear<T>& layer) : QuantizedLayer<T>("quantized::Linear", layer) {}

template <class T>
Linear<T>::Linear(std::size_t in_features, std::size_t out_features, bool bias,
                  const QConfig<T>& qconfig)
    : QuantizedLayer<T>("quantized::Linear", Shape{out_features, in_features}, bias, qconfig) {}

template <class T>
Linear<T>::Linear(std::string type_name, typename QuantizedLayer<T>::TableKeys keys)
    : QuantizedLayer<T>(std::move(type_name), std::move(keys)) {}

template <class T>
std::shared_ptr<Linear<T>> Linear<T>::from_qat(qat::Linear<T>& layer) {
  return std::shared_ptr<Linear<T>>(new Linear<T>(layer));
}

template <class T>
Tensor<T> Linear<T>::forward_dequantized(const Tensor<T>& input) {
  XGRAD_CHECK(input.defined(), ValueError, this->type_name(),
              ".forward: the input tensor is undefined");
  return linear(this->quantized_input(input), this->dequantized_weight(), this->bias);
}

namespace {

// The integer path (integer_path.hpp) on x [batch, in]: the codes of a
// sample are its quads (the last quad may read 3 bytes past a row: zero
// weights, and a slack after the last row). False when x holds NaN.
bool integer_linear(const IntegerPlan& plan, const float* x, std::size_t batch, std::size_t in,
                    std::size_t out, float* y, bool relu) {
  thread_local std::vector<std::uint8_t> codes;
  thread_local std::vector<std::size_t> quad, col;
  codes.resize(batch * in + 4);
  if (!plan.input->steps->apply_codes(x, batch * in, plan.input->code_of_step.data(), codes.data()))
    return false;
  quad.resize(plan.weights->kq);
  for (std::size_t q = 0; q < quad.size(); ++q) quad[q] = 4 * q;
  col.resize(batch);
  for (std::size_t n = 0; n < batch; ++n) col[n] = n * in;
  const std::uint8_t* a = codes.data();
  const std::size_t* qs = quad.data();
  const std::size_t* cs = col.data();
  xgrad::detail::parallel_for(batch, xgrad::detail::row_grain(in * out),
                              [&](std::size_t first, std::size_t last) {
                                plan.run(a, qs, cs + first, last - first, y + first * out, out);
                                // The fused ReLU (as relu: x < 0 ? 0 : x), on
                                // the rows just written.
                                if (relu)
                                  for (float *v = y + first * out, *e = y + last * out; v < e; ++v)
                                    *v = *v < 0.0f ? 0.0f : *v;
                              });
  return true;
}

}  // namespace

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& input) {
  XGRAD_CHECK(input.defined(), ValueError, this->type_name(),
              ".forward: the input tensor is undefined");
  const std::size_t in = in_features();
  if constexpr (std::is_same<T, float>::value) {
    if (!(GradMode::is_enabled() && input.requires_grad()) && input.dim() > 0 &&
        input.shape().back() == in && input.numel() > 0) {
      if (const auto plan = this->integer_plan()) {
        Shape out_shape = input.shape();
        out_shape.back() = out_features();
        xt::xarray<T> y = xgrad::detail::new_array<T>(out_shape);
        const bool relu = this->relu_fused();
        if (integer_linear(*plan, input.data().data(), input.numel() / in, in, out_features(),
                           y.data(), relu)) {
          Tensor<T> out(std::move(y));
          this->record_fused_output(relu ? out : Tensor<T>(), Tensor<T>());
          return out;
        }
      }
    }
  }
  this->record_fused_output(Tensor<T>(), Tensor<T>());  // not fused below
  const Tensor<T> x = this->quantized_input(input);
  // The kernel has no backward: an input that needs a gradient takes the
  // float op; a shape linear refuses too.
  if ((GradMode::is_enabled() && x.requires_grad()) || x.dim() == 0 || x.shape().back() != in)
    return linear(x, this->dequantized_weight(), this->bias);
  Shape out_shape = x.shape();
  out_shape.back() = out_features();
  const std::size_t batch = x.numel() / in;
  xt::xarray<T> y = xgrad::detail::new_array<T>(out_shape);  // the array cache
  if (batch == 0) return Tensor<T>(std::move(y));
  if (!this->lut_forward(0, x.data().data(), batch, y.data(), false))
    return linear(x, this->dequantized_weight(), this->bias);
  return Tensor<T>(std::move(y));
}

template <class T>
std::size_t Linear<T>::in_features() const {
  return this->weight_shape()[1];
}

template <class T>
std::size_t Linear<T>::out_features() const {
  return this->weight_shape()[0];
}

XGRAD_INSTANTIATE_CLASS(Linear);

}  // namespace xgrad::quant::quantized
