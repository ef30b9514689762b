// Ops that move elements without arithmetic: transpose / permutation, reshape
// (and squeeze, unsqueeze, flatten, unflatten, which are reshapes) and concat. Tensors own
// contiguous row-major data, so each op writes a new array with plain loops; backward moves the
// gradient back the inverse way.
#include "xgrad/ops/shape_ops.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "axis_split.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad {

namespace {

// ---- transpose / permute ----

// dst[j, i] = src[i, j] for src [m, n], in tiles that stay in cache.
template <class T>
void transpose_2d(const T* src, T* dst, std::size_t m, std::size_t n) {
  constexpr std::size_t tile = 32;
  for (std::size_t i0 = 0; i0 < m; i0 += tile) {
    const std::size_t i1 = std::min(m, i0 + tile);
    for (std::size_t j0 = 0; j0 < n; j0 += tile) {
      const std::size_t j1 = std::min(n, j0 + tile);
      for (std::size_t i = i0; i < i1; ++i) {
        for (std::size_t j = j0; j < j1; ++j) dst[j * m + i] = src[i * n + j];
      }
    }
  }
}

// out[i_0, ..., i_{d-1}] = a[...] with output axis k taken from input axis
// perm[k]. Walks the output in order with an odometer over the input strides.
template <class T>
xt::xarray<T> permute(const xt::xarray<T>& a, const std::vector<std::size_t>& perm) {
  const Shape& in = a.shape();
  const std::size_t nd = in.size();
  Shape out_shape(nd);
  for (std::size_t k = 0; k < nd; ++k) out_shape[k] = in[perm[k]];
  auto out = detail::new_array<T>(out_shape);
  const std::size_t n = out.size();
  bool identity = true;
  for (std::size_t k = 0; k < nd; ++k) identity = identity && perm[k] == k;
  if (identity || n <= 1) {
    std::copy_n(a.data(), n, out.data());
    return out;
  }
  if (nd == 2) {
    transpose_2d(a.data(), out.data(), in[0], in[1]);
    return out;
  }
  Shape in_strides(nd);
  for (std::size_t k = nd, stride = 1; k-- > 0;) {
    in_strides[k] = stride;
    stride *= in[k];
  }
  Shape step(nd);
  for (std::size_t k = 0; k < nd; ++k) step[k] = in_strides[perm[k]];
  const std::size_t inner = out_shape[nd - 1], inner_step = step[nd - 1];
  const T* src = a.data();
  T* dst = out.data();
  Shape index(nd, 0);
  std::size_t base = 0;
  for (std::size_t o = 0; o < n; o += inner) {
    for (std::size_t i = 0; i < inner; ++i) dst[o + i] = src[base + i * inner_step];
    for (std::size_t d = nd - 1; d-- > 0;) {  // advance the outer output axes
      base += step[d];
      if (++index[d] < out_shape[d]) break;
      base -= step[d] * out_shape[d];
      index[d] = 0;
    }
  }
  return out;
}

// saved_ints holds the permutation.
struct TransposeFn : Function<TransposeFn> {
  static constexpr const char* name = "TransposeBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a,
                               const std::vector<std::size_t>& perm) {
    if (ctx.recording()) ctx.saved_ints.assign(perm.begin(), perm.end());
    return permute(a.data(), perm);
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    std::vector<std::size_t> inverse(ctx.saved_ints.size());
    for (std::size_t k = 0; k < inverse.size(); ++k) {
      inverse[static_cast<std::size_t>(ctx.saved_ints[k])] = k;
    }
    return gradients(permute(grad, inverse));
  }
};

// ---- reshape ----

// The concrete shape `spec` asks for (one extent may be -1), or ShapeError.
Shape resolve_shape(const Shape& from, const std::vector<std::ptrdiff_t>& spec) {
  const std::size_t numel = numel_of(from);
  const auto cannot = [&] {
    return format_message("reshape: cannot reshape a tensor of shape ", from, " (", numel,
                          " elements) into ", spec, ": ");
  };
  Shape out(spec.size());
  std::size_t known = 1;
  bool overflow = false, has_zero = false;
  std::ptrdiff_t inferred = -1;
  for (std::size_t k = 0; k < spec.size(); ++k) {
    if (spec[k] == -1) {
      XGRAD_CHECK(inferred < 0, ShapeError, cannot(), "only one extent may be -1");
      inferred = static_cast<std::ptrdiff_t>(k);
    } else {
      XGRAD_CHECK(spec[k] >= 0, ShapeError, cannot(), "extent ", spec[k], " is negative");
      out[k] = static_cast<std::size_t>(spec[k]);
      // An overflowing product could wrap around to the element count.
      overflow = __builtin_mul_overflow(known, out[k], &known) || overflow;
      has_zero = has_zero || out[k] == 0;
    }
  }
  XGRAD_CHECK(has_zero || !overflow, ShapeError, cannot(), "too many elements");
  if (has_zero) known = 0;
  if (inferred >= 0) {
    XGRAD_CHECK(known != 0, ShapeError, cannot(),
                "the -1 extent is ambiguous next to an extent of 0");
    XGRAD_CHECK(numel % known == 0, ShapeError, cannot(), "the element count is not divisible");
    out[static_cast<std::size_t>(inferred)] = numel / known;
  } else {
    XGRAD_CHECK(known == numel, ShapeError, cannot(), "the element counts differ");
  }
  return out;
}

struct ReshapeFn : Function<ReshapeFn> {
  static constexpr const char* name = "ReshapeBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a, const Shape& shape) {
    xt::xarray<T> out = a.data();
    out.reshape(shape);
    return out;
  }
  // Takes the gradient by value: reshaping it in place copies nothing.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    grad.reshape(ctx.input_shape(0));
    return gradients(std::move(grad));
  }
};

// ---- concat ----

// Function::apply takes a fixed number of tensor arguments; concat takes a
// list, so ConcatFn::apply records its node the same way (one edge per list
// element) with Function's node type.
struct ConcatFn {
  static constexpr const char* name = "CatBackward";

  template <class T>
  static Tensor<T> apply(const std::vector<Tensor<T>>& tensors, std::size_t axis) {
    bool any = false;
    for (const auto& t : tensors) any = any || t.requires_grad();
    if (!(GradMode::is_enabled() && any)) {
      Context<T> ctx;
      ctx.op_name = name;
      for (const auto& t : tensors) detail::collect_input<T>(ctx, nullptr, t);
      return Tensor<T>(forward(ctx, tensors, axis));
    }
    auto node = std::make_shared<detail::FunctionNode<ConcatFn, T>>();
    node->ctx.op_name = name;
    node->ctx.set_recording(true);
    for (const auto& t : tensors) detail::collect_input<T>(node->ctx, &node->next, t);
    Tensor<T> result(forward(node->ctx, tensors, axis));
    result.set_grad_fn(std::move(node));
    return result;
  }

  // saved_ints holds the axis.
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const std::vector<Tensor<T>>& tensors,
                               std::size_t axis) {
    Shape shape = tensors[0].shape();
    shape[axis] = 0;
    for (const auto& t : tensors) shape[axis] += t.shape()[axis];
    auto out = detail::new_array<T>(shape);
    const AxisSplit s = split_at(shape, axis);
    T* dst = out.data();
    for (std::size_t o = 0; o < s.outer; ++o) {
      for (const auto& t : tensors) {
        const std::size_t block = t.shape()[axis] * s.inner;
        dst = std::copy_n(t.data().data() + o * block, block, dst);
      }
    }
    if (ctx.recording()) ctx.saved_ints.assign(1, static_cast<std::ptrdiff_t>(axis));
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& grad) {
    const auto axis = static_cast<std::size_t>(ctx.saved_ints[0]);
    const AxisSplit s = split_at(grad.shape(), axis);
    const std::size_t row = s.extent * s.inner;  // one outer step of grad
    std::vector<xt::xarray<T>> grads(ctx.num_inputs());
    std::size_t offset = 0;  // of input i's block within a row
    for (std::size_t i = 0; i < grads.size(); ++i) {
      const Shape& shape = ctx.input_shape(i);
      const std::size_t block = shape[axis] * s.inner;
      if (ctx.needs_input_grad(i)) {
        grads[i] = detail::new_array<T>(shape);
        for (std::size_t o = 0; o < s.outer; ++o) {
          std::copy_n(grad.data() + o * row + offset, block, grads[i].data() + o * block);
        }
      }
      offset += block;
    }
    return grads;
  }
};

}  // namespace

template <class T>
Tensor<T> transpose(const Tensor<T>& a) {
  require_defined(a, "transpose", "input");
  XGRAD_CHECK(a.dim() == 2, ShapeError, "transpose: expected a 2-D tensor, got shape ", a.shape(),
              " (pass a permutation for other ranks)");
  return as_view_copy(TransposeFn::apply(a, std::vector<std::size_t>{1, 0}), a, "transpose");
}

template <class T>
Tensor<T> transpose(const Tensor<T>& a, const std::vector<std::size_t>& perm) {
  require_defined(a, "transpose", "input");
  const std::size_t nd = a.dim();
  std::vector<bool> seen(nd, false);
  bool ok = perm.size() == nd;
  for (std::size_t k = 0; ok && k < nd; ++k) {
    ok = perm[k] < nd && !seen[perm[k]];
    if (ok) seen[perm[k]] = true;
  }
  XGRAD_CHECK(ok, ShapeError, "transpose: ", perm, " is not a permutation of the ", nd,
              " axes of a tensor of shape ", a.shape());
  return as_view_copy(TransposeFn::apply(a, perm), a, "transpose");
}

template <class T>
Tensor<T> transpose(const Tensor<T>& a, std::ptrdiff_t dim0, std::ptrdiff_t dim1) {
  require_defined(a, "transpose", "input");
  std::vector<std::size_t> perm(a.dim());
  for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = k;
  // libtorch: dims 0 and -1 name a 0-d tensor's (absent) axis.
  const std::size_t nd = std::max<std::size_t>(a.dim(), 1);
  const std::size_t i = normalize_axis(dim0, nd, "transpose"),
                    j = normalize_axis(dim1, nd, "transpose");
  if (!perm.empty()) std::swap(perm[i], perm[j]);
  return as_view_copy(TransposeFn::apply(a, perm), a, "transpose");
}

template <class T>
Tensor<T> reshape(const Tensor<T>& a, const std::vector<std::ptrdiff_t>& shape) {
  require_defined(a, "reshape", "input");
  return as_view_copy(ReshapeFn::apply(a, resolve_shape(a.shape(), shape)), a, "reshape");
}

template <class T>
Tensor<T> unsqueeze(const Tensor<T>& a, std::ptrdiff_t dim) {
  require_defined(a, "unsqueeze", "input");
  // dim indexes the result, which has one axis more.
  const std::size_t axis = normalize_axis(dim, a.dim() + 1, "unsqueeze");
  Shape shape;
  for (std::size_t k = 0; k <= a.dim(); ++k) {
    if (k == axis) shape.push_back(1);
    if (k < a.dim()) shape.push_back(a.shape()[k]);
  }
  return as_view_copy(ReshapeFn::apply(a, shape), a, "unsqueeze");
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& a) {
  require_defined(a, "squeeze", "input");
  Shape shape;
  for (std::size_t extent : a.shape()) {
    if (extent != 1) shape.push_back(extent);
  }
  return as_view_copy(ReshapeFn::apply(a, shape), a, "squeeze");
}

template <class T>
Tensor<T> squeeze(const Tensor<T>& a, std::ptrdiff_t dim) {
  require_defined(a, "squeeze", "input");
  // libtorch: dims 0 and -1 name a 0-d tensor's (absent) axis.
  const std::size_t axis = normalize_axis(dim, std::max<std::size_t>(a.dim(), 1), "squeeze");
  Shape shape;
  for (std::size_t k = 0; k < a.dim(); ++k) {
    if (k != axis || a.shape()[k] != 1) shape.push_back(a.shape()[k]);
  }
  return as_view_copy(ReshapeFn::apply(a, shape), a, "squeeze");
}

template <class T>
Tensor<T> flatten(const Tensor<T>& a, std::ptrdiff_t start_dim, std::ptrdiff_t end_dim) {
  require_defined(a, "flatten", "input");
  if (a.dim() == 0) {  // libtorch: a 0-d tensor flattens to [1]
    normalize_axis(start_dim, 1, "flatten");
    normalize_axis(end_dim, 1, "flatten");
    return as_view_copy(ReshapeFn::apply(a, Shape{1}), a, "flatten");
  }
  const std::size_t start = normalize_axis(start_dim, a.dim(), "flatten");
  const std::size_t end = normalize_axis(end_dim, a.dim(), "flatten");
  XGRAD_CHECK(start <= end, ValueError, "flatten: start_dim ", start_dim, " comes after end_dim ",
              end_dim, " for a tensor of shape ", a.shape());
  Shape shape;
  std::size_t merged = 1;
  for (std::size_t i = 0; i < a.dim(); ++i) {
    if (i < start || i > end) {
      shape.push_back(a.shape()[i]);
    } else {
      merged *= a.shape()[i];
      if (i == end) shape.push_back(merged);
    }
  }
  return as_view_copy(ReshapeFn::apply(a, shape), a, "flatten");
}

template <class T>
Tensor<T> unflatten(const Tensor<T>& a, std::ptrdiff_t dim,
                    const std::vector<std::ptrdiff_t>& sizes) {
  require_defined(a, "unflatten", "input");
  const std::size_t axis = normalize_axis(dim, a.dim(), "unflatten");
  XGRAD_CHECK(!sizes.empty(), ValueError, "unflatten: sizes must not be empty");
  const std::size_t extent = a.shape()[axis];
  Shape piece;
  try {
    piece = resolve_shape(Shape{extent}, sizes);
  } catch (const ShapeError&) {
    throw_error<ShapeError>("unflatten: sizes ", sizes, " do not multiply to the extent ", extent,
                            " of dim ", dim, " (tensor of shape ", a.shape(),
                            "; one size may be -1)");
  }
  Shape shape;
  for (std::size_t k = 0; k < a.dim(); ++k) {
    if (k != axis) shape.push_back(a.shape()[k]);
    if (k == axis) shape.insert(shape.end(), piece.begin(), piece.end());
  }
  return as_view_copy(ReshapeFn::apply(a, shape), a, "unflatten");
}

template <class T>
Tensor<T> concat(const std::vector<Tensor<T>>& tensors, std::ptrdiff_t axis) {
  XGRAD_CHECK(!tensors.empty(), ShapeError,
              "concat: expected at least one tensor, got an empty list");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    XGRAD_CHECK(tensors[i].defined(), ValueError, "concat: tensor ", i, " is undefined");
  }
  const Shape& first = tensors[0].shape();
  const std::size_t ax = normalize_axis(axis, first.size(), "concat");
  for (std::size_t i = 1; i < tensors.size(); ++i) {
    const Shape& s = tensors[i].shape();
    bool ok = s.size() == first.size();
    for (std::size_t k = 0; ok && k < s.size(); ++k) ok = k == ax || s[k] == first[k];
    XGRAD_CHECK(ok, ShapeError, "concat: tensor ", i, " has shape ", s, " but tensor 0 has shape ",
                first, "; all extents except along axis ", axis, " must agree");
  }
  return ConcatFn::apply(tensors, ax);
}

#define XGRAD_INSTANTIATE(T)                                                        \
  template Tensor<T> transpose(const Tensor<T>&);                                   \
  template Tensor<T> transpose(const Tensor<T>&, const std::vector<std::size_t>&);  \
  template Tensor<T> transpose(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t);   \
  template Tensor<T> reshape(const Tensor<T>&, const std::vector<std::ptrdiff_t>&); \
  template Tensor<T> unsqueeze(const Tensor<T>&, std::ptrdiff_t);                   \
  template Tensor<T> squeeze(const Tensor<T>&);                                     \
  template Tensor<T> squeeze(const Tensor<T>&, std::ptrdiff_t);                     \
  template Tensor<T> flatten(const Tensor<T>&, std::ptrdiff_t, std::ptrdiff_t);     \
  template Tensor<T> unflatten(const Tensor<T>&, std::ptrdiff_t,                    \
                               const std::vector<std::ptrdiff_t>&);                 \
  template Tensor<T> concat(const std::vector<Tensor<T>>&, std::ptrdiff_t);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
