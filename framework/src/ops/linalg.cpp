// Matrix products: every product, forward and backward, is one BLAS gemm call
// (blas.hpp) that reads the operands in place (transposes are gemm flags, never
// copies) and writes straight into the freshly allocated result.
#include "xgrad/ops/linalg.hpp"

#include <algorithm>
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "blas.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

using blas::column_sums;
using blas::gemm;

// Product of all extents but the last: the rows of [..., features] data.
std::size_t leading_rows(const Shape& shape) {
  std::size_t rows = 1;
  for (std::size_t k = 0; k + 1 < shape.size(); ++k) rows *= shape[k];
  return rows;
}

// `batch` products c_i = op(a_i) op(b_i), each [rows, cols] with `inner` terms
// per element (op transposes where asked); the matrices lie one after another.
template <class T>
void batched_gemm(std::size_t batch, bool transpose_a, bool transpose_b, std::size_t rows,
                  std::size_t cols, std::size_t inner, const T* a, const T* b, T* c) {
  for (std::size_t i = 0; i < batch; ++i) {
    gemm(transpose_a, transpose_b, rows, cols, inner, a + i * rows * inner, b + i * inner * cols,
         T(0), c + i * rows * cols);
  }
}

// [m, k] x [k, n] or [b, m, k] x [b, k, n]; the free function checked shapes.
struct MatmulFn : Function<MatmulFn> {
  static constexpr const char* name = "MatmulBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    const std::size_t nd = sa.size();
    const std::size_t batch = nd == 3 ? sa[0] : 1;
    const std::size_t m = sa[nd - 2], k = sa[nd - 1], n = sb[nd - 1];
    Shape shape = sa;
    shape[nd - 1] = n;
    auto out = detail::new_array<T>(shape);
    batched_gemm(batch, false, false, m, n, k, a.data().data(), b.data().data(), out.data());
    if (ctx.recording()) ctx.save_for_backward({a, b});
    return out;
  }

  // grad_a = grad b^T, grad_b = a^T grad, per batch.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& sa = ctx.input_shape(0);
    const Shape& sb = ctx.input_shape(1);
    const std::size_t nd = sa.size();
    const std::size_t batch = nd == 3 ? sa[0] : 1;
    const std::size_t m = sa[nd - 2], k = sa[nd - 1], n = sb[nd - 1];
    xt::xarray<T> ga, gb;
    if (ctx.needs_input_grad(0)) {
      const xt::xarray<T>& b = ctx.saved(1);
      ga = detail::new_array<T>(sa);
      batched_gemm(batch, false, true, m, k, n, grad.data(), b.data(), ga.data());
    }
    if (ctx.needs_input_grad(1)) {
      const xt::xarray<T>& a = ctx.saved(0);
      gb = detail::new_array<T>(sb);
      batched_gemm(batch, true, false, k, n, m, a.data(), grad.data(), gb.data());
    }
    return gradients(std::move(ga), std::move(gb));
  }
};

// y = x W^T (+ b) with x [..., in] seen as rows [rows, in], W [out, in],
// b [out]. The two-argument forward is the bias-free variant.
struct LinearFn : Function<LinearFn> {
  static constexpr const char* name = "LinearBackward";

  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight) {
    return product(ctx, x, weight, static_cast<const T*>(nullptr));
  }
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                               const Tensor<T>& bias) {
    return product(ctx, x, weight, bias.data().data());
  }

  template <class T>
  static xt::xarray<T> product(Context<T>& ctx, const Tensor<T>& x, const Tensor<T>& weight,
                               const T* bias) {
    const std::size_t out_f = weight.shape()[0], in_f = weight.shape()[1];
    const std::size_t rows = leading_rows(x.shape());
    Shape shape = x.shape();
    shape.back() = out_f;
    auto y = detail::new_array<T>(shape);
    if (bias) {  // every row starts as the bias; gemm adds x W^T (beta = 1)
      for (std::size_t r = 0; r < rows; ++r) std::copy_n(bias, out_f, y.data() + r * out_f);
    }
    gemm(false, true, rows, out_f, in_f, x.data().data(), weight.data().data(), bias ? T(1) : T(0),
         y.data());
    if (ctx.recording()) ctx.save_for_backward({x, weight});
    return y;
  }

  // grad_x = grad W, grad_W = grad^T x, grad_b = column sums of grad.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const Shape& wshape = ctx.input_shape(1);
    const std::size_t out_f = wshape[0], in_f = wshape[1];
    const std::size_t rows = leading_rows(ctx.input_shape(0));
    std::vector<xt::xarray<T>> grads(ctx.num_inputs());
    if (ctx.needs_input_grad(0)) {
      grads[0] = detail::new_array<T>(ctx.input_shape(0));
      gemm(false, false, rows, in_f, out_f, grad.data(), ctx.saved(1).data(), T(0),
           grads[0].data());
    }
    if (ctx.needs_input_grad(1)) {
      grads[1] = detail::new_array<T>(wshape);
      gemm(true, false, out_f, in_f, rows, grad.data(), ctx.saved(0).data(), T(0), grads[1].data());
    }
    if (grads.size() == 3 && ctx.needs_input_grad(2)) {
      grads[2] = detail::new_array<T>({out_f});
      column_sums(grad.data(), rows, out_f, grads[2].data());
    }
    return grads;
  }
};

}  // namespace

template <class T>
Tensor<T> matmul(const Tensor<T>& a, const Tensor<T>& b) {
  require_defined(a, "matmul", "a");
  require_defined(b, "matmul", "b");
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const auto shapes = [&] {
    return format_message("matmul: cannot multiply shapes ", sa, " and ", sb, ": ");
  };
  XGRAD_CHECK(sa.size() == sb.size() && (sa.size() == 2 || sa.size() == 3), ShapeError, shapes(),
              "expected two 2-D or two 3-D tensors");
  const std::size_t nd = sa.size();
  XGRAD_CHECK(sa[nd - 1] == sb[nd - 2], ShapeError, shapes(), "inner dimensions differ");
  XGRAD_CHECK(nd == 2 || sa[0] == sb[0], ShapeError, shapes(), "batch sizes differ");
  blas::check_extents(sa, "matmul");
  blas::check_extents(sb, "matmul");
  return MatmulFn::apply(a, b);
}

template <class T>
Tensor<T> linear(const Tensor<T>& x, const Tensor<T>& weight, const Tensor<T>& bias) {
  require_defined(x, "linear", "input");
  require_defined(weight, "linear", "weight");
  const Shape& sx = x.shape();
  const Shape& sw = weight.shape();
  const auto shapes = [&] {
    return format_message("linear: input ", sx, ", weight ", sw,
                          bias.defined() ? format_message(", bias ", bias.shape()) : "", ": ");
  };
  XGRAD_CHECK(sw.size() == 2, ShapeError, shapes(),
              "weight must be 2-D [out_features, in_features]");
  XGRAD_CHECK(!sx.empty(), ShapeError, shapes(), "input must have at least one dimension");
  XGRAD_CHECK(sx.back() == sw[1], ShapeError, shapes(),
              "the input's last extent differs from in_features");
  XGRAD_CHECK(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == sw[0]), ShapeError,
              shapes(), "bias must be 1-D [out_features]");
  blas::check_extents(sx, "linear");
  blas::check_extents(sw, "linear");
  XGRAD_CHECK(leading_rows(sx) <= static_cast<std::size_t>(INT_MAX), ValueError, "linear: input ",
              sx, " has too many rows for BLAS");
  return bias.defined() ? LinearFn::apply(x, weight, bias) : LinearFn::apply(x, weight);
}

#define XGRAD_INSTANTIATE(T)                                     \
  template Tensor<T> matmul(const Tensor<T>&, const Tensor<T>&); \
  template Tensor<T> linear(const Tensor<T>&, const Tensor<T>&, const Tensor<T>&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
