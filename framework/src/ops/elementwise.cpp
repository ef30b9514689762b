// Elementwise ops: one Function per op. Binary ops broadcast like NumPy and
// reduce each gradient back to its input's shape with reduce_to_shape. Forward
// kernels are the plain loops of kernels.hpp; nothing that only backward needs
// is saved unless a node is being recorded.
#include "xgrad/ops/elementwise.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <xtensor/xoperation.hpp>

#include "kernels.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"
#include "xgrad/ops/broadcast.hpp"

namespace xgrad {

namespace {

using kernels::map;
using kernels::result_shape;
using kernels::zip;

// The gradient of input i from `full` (a gradient of the output's shape), or
// an empty array when input i needs none.
template <class T>
xt::xarray<T> input_grad(const Context<T>& ctx, std::size_t i, xt::xarray<T> full) {
  if (!ctx.needs_input_grad(i)) return {};
  return reduce_to_shape(std::move(full), ctx.input_shape(i));
}

// ---- tensor-tensor arithmetic ----

struct AddFn : Function<AddFn> {
  static constexpr const char* name = "AddBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a, const Tensor<T>& b) {
    return zip(a.data(), b.data(), result_shape(a.shape(), b.shape(), "add"),
               [](T x, T y) { return x + y; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(input_grad(ctx, 0, g), input_grad(ctx, 1, g));
  }
};

struct SubFn : Function<SubFn> {
  static constexpr const char* name = "SubBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a, const Tensor<T>& b) {
    return zip(a.data(), b.data(), result_shape(a.shape(), b.shape(), "sub"),
               [](T x, T y) { return x - y; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    xt::xarray<T> gb;
    if (ctx.needs_input_grad(1)) gb = input_grad(ctx, 1, map(g, [](T x) { return -x; }));
    return gradients(input_grad(ctx, 0, g), std::move(gb));
  }
};

struct MulFn : Function<MulFn> {
  static constexpr const char* name = "MulBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    const Shape shape = result_shape(a.shape(), b.shape(), "mul");
    if (ctx.recording()) ctx.save_for_backward({a, b});
    return zip(a.data(), b.data(), shape, [](T x, T y) { return x * y; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const auto times = [](T x, T y) { return x * y; };
    xt::xarray<T> ga, gb;
    if (ctx.needs_input_grad(0)) ga = input_grad(ctx, 0, zip(g, ctx.saved(1), g.shape(), times));
    if (ctx.needs_input_grad(1)) gb = input_grad(ctx, 1, zip(g, ctx.saved(0), g.shape(), times));
    return gradients(std::move(ga), std::move(gb));
  }
};

struct DivFn : Function<DivFn> {
  static constexpr const char* name = "DivBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    const Shape shape = result_shape(a.shape(), b.shape(), "div");
    if (ctx.recording()) ctx.save_for_backward({a, b});
    return zip(a.data(), b.data(), shape, [](T x, T y) { return x / y; });
  }
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(g/b) * a / b.
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const xt::xarray<T>& a = ctx.saved(0);
    const xt::xarray<T>& b = ctx.saved(1);
    xt::xarray<T> g_over_b = zip(g, b, g.shape(), [](T x, T y) { return x / y; });
    xt::xarray<T> gb;
    if (ctx.needs_input_grad(1)) {
      xt::xarray<T> minus_q_a = zip(g_over_b, a, g.shape(), [](T q, T x) { return -q * x; });
      gb = input_grad(ctx, 1, zip(minus_q_a, b, g.shape(), [](T x, T y) { return x / y; }));
    }
    return gradients(input_grad(ctx, 0, std::move(g_over_b)), std::move(gb));
  }
};

// ---- tensor-scalar arithmetic ----

// a + s; also a - s as a + (-s), which is exact in IEEE arithmetic.
struct AddScalarFn : Function<AddScalarFn> {
  static constexpr const char* name = "AddBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a, T s) {
    return map(a.data(), [s](T x) { return x + s; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return gradients(g);
  }
};

// s - a
struct RSubScalarFn : Function<RSubScalarFn> {
  static constexpr const char* name = "RsubBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a, T s) {
    return map(a.data(), [s](T x) { return s - x; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return gradients(map(g, [](T x) { return -x; }));
  }
};

struct MulScalarFn : Function<MulScalarFn> {
  static constexpr const char* name = "MulBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, T s) {
    if (ctx.recording()) ctx.saved_scalars.push_back(s);
    return map(a.data(), [s](T x) { return x * s; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const T s = static_cast<T>(ctx.saved_scalars[0]);
    return gradients(map(g, [s](T x) { return x * s; }));
  }
};

// a / s (not a * (1/s), which rounds differently).
struct DivScalarFn : Function<DivScalarFn> {
  static constexpr const char* name = "DivBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, T s) {
    if (ctx.recording()) ctx.saved_scalars.push_back(s);
    return map(a.data(), [s](T x) { return x / s; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const T s = static_cast<T>(ctx.saved_scalars[0]);
    return gradients(map(g, [s](T x) { return x / s; }));
  }
};

// s / a; d/da = -s / a^2, computed as -(s / a) / a: a^2 alone overflows for
// |a| > 1.8e19 in float even where the gradient is representable.
struct RDivScalarFn : Function<RDivScalarFn> {
  static constexpr const char* name = "RdivBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, T s) {
    if (ctx.recording()) {
      ctx.save_for_backward({a});
      ctx.saved_scalars.push_back(s);
    }
    return map(a.data(), [s](T x) { return s / x; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const T s = static_cast<T>(ctx.saved_scalars[0]);
    return gradients(zip(g, ctx.saved(0), g.shape(), [s](T gi, T x) { return -gi * (s / x) / x; }));
  }
};

// ---- unary math ----

struct NegFn : Function<NegFn> {
  static constexpr const char* name = "NegBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& a) {
    return map(a.data(), [](T x) { return -x; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return gradients(map(g, [](T x) { return -x; }));
  }
};

// a^e for a scalar e. e == 2 is the common case and x * x is exact; e == 0
// has a zero gradient everywhere (as in PyTorch, no 0 * inf at a == 0).
struct PowFn : Function<PowFn> {
  static constexpr const char* name = "PowBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, T e) {
    if (ctx.recording()) {
      ctx.save_for_backward({a});
      ctx.saved_scalars.push_back(e);
    }
    if (e == T(2)) return map(a.data(), [](T x) { return x * x; });
    return map(a.data(), [e](T x) { return std::pow(x, e); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const T e = static_cast<T>(ctx.saved_scalars[0]);
    if (e == T(0)) return gradients(xt::xarray<T>(detail::new_zeros<T>(g.shape())));
    if (e == T(2))
      return gradients(zip(g, ctx.saved(0), g.shape(), [](T gi, T x) { return gi * (2 * x); }));
    return gradients(zip(g, ctx.saved(0), g.shape(),
                         [e](T gi, T x) { return gi * (e * std::pow(x, e - T(1))); }));
  }
};

struct ExpFn : Function<ExpFn> {
  static constexpr const char* name = "ExpBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    ctx.save_output();
    return map(a.data(), [](T x) { return std::exp(x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(zip(g, ctx.output(), g.shape(), [](T gi, T y) { return gi * y; }));
  }
};

// log(0) = -inf and log(negative) = NaN, as in PyTorch: no throw.
struct LogFn : Function<LogFn> {
  static constexpr const char* name = "LogBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    if (ctx.recording()) ctx.save_for_backward({a});
    return map(a.data(), [](T x) { return std::log(x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(zip(g, ctx.saved(0), g.shape(), [](T gi, T x) { return gi / x; }));
  }
};

struct SqrtFn : Function<SqrtFn> {
  static constexpr const char* name = "SqrtBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    ctx.save_output();
    return map(a.data(), [](T x) { return std::sqrt(x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(zip(g, ctx.output(), g.shape(), [](T gi, T y) { return gi / (2 * y); }));
  }
};

// d|a|/da = sign(a), 0 at a == 0 (as in PyTorch).
struct AbsFn : Function<AbsFn> {
  static constexpr const char* name = "AbsBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a) {
    if (ctx.recording()) ctx.save_for_backward({a});
    return map(a.data(), [](T x) { return std::abs(x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    return gradients(zip(g, ctx.saved(0), g.shape(),
                         [](T gi, T x) { return x > 0 ? gi : (x < 0 ? -gi : T(0)); }));
  }
};

// Clamp to [lo, hi] (either may be infinite). NaN inputs stay NaN; the
// gradient passes where lo <= a <= hi.
struct ClampFn : Function<ClampFn> {
  static constexpr const char* name = "ClampBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, T lo, T hi) {
    if (ctx.recording()) {
      ctx.save_for_backward({a});
      ctx.saved_scalars = {lo, hi};
    }
    return map(a.data(), [lo, hi](T x) { return x < lo ? lo : (x > hi ? hi : x); });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const T lo = static_cast<T>(ctx.saved_scalars[0]), hi = static_cast<T>(ctx.saved_scalars[1]);
    return gradients(zip(g, ctx.saved(0), g.shape(),
                         [lo, hi](T gi, T x) { return lo <= x && x <= hi ? gi : T(0); }));
  }
};

// ---- two-tensor selections ----

// Elementwise min (IsMax = false) or max of a and b. A NaN in either wins.
// Gradient as in PyTorch: ties split it evenly; the losing side gets 0.
template <bool IsMax>
struct MinMaxFn : Function<MinMaxFn<IsMax>> {
  static constexpr const char* name = IsMax ? "MaximumBackward" : "MinimumBackward";
  static constexpr const char* op = IsMax ? "maximum" : "minimum";
  // True when x beats y.
  template <class T>
  static bool wins(T x, T y) {
    return IsMax ? x > y : x < y;
  }
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& a, const Tensor<T>& b) {
    const Shape shape = result_shape(a.shape(), b.shape(), op);
    if (ctx.recording()) ctx.save_for_backward({a, b});
    return zip(a.data(), b.data(), shape, [](T x, T y) { return wins(x, y) || x != x ? x : y; });
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const xt::xarray<T>& a = ctx.saved(0);
    const xt::xarray<T>& b = ctx.saved(1);
    // Share of the gradient that goes to x when competing against y.
    const auto share = [](T x, T y) { return x == y ? T(0.5) : (wins(y, x) ? T(0) : T(1)); };
    const auto times = [](T x, T y) { return x * y; };
    xt::xarray<T> ga, gb;
    if (ctx.needs_input_grad(0)) {
      ga = input_grad(ctx, 0, zip(g, zip(a, b, g.shape(), share), g.shape(), times));
    }
    if (ctx.needs_input_grad(1)) {
      gb = input_grad(ctx, 1, zip(g, zip(b, a, g.shape(), share), g.shape(), times));
    }
    return gradients(std::move(ga), std::move(gb));
  }
};

// condition ? a : b with all three broadcast; the condition is saved as a 0/1
// mask of its own shape.
struct WhereFn : Function<WhereFn> {
  static constexpr const char* name = "WhereBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const xt::xarray<bool>& cond, const Tensor<T>& a,
                               const Tensor<T>& b) {
    const Shape ab = result_shape(a.shape(), b.shape(), "where");
    const Shape shape = result_shape(cond.shape(), ab, "where");
    if (ctx.recording()) ctx.saved_arrays.push_back(xt::cast<T>(cond));
    if (cond.shape() == a.shape() && a.shape() == b.shape()) {
      auto out = detail::new_array<T>(shape);
      const bool* pc = cond.data();
      const T *pa = a.data().data(), *pb = b.data().data();
      T* po = out.data();
      for (std::size_t i = 0; i < out.size(); ++i) po[i] = pc[i] ? pa[i] : pb[i];
      return out;
    }
    return xt::where(cond, a.data(), b.data());
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const xt::xarray<T>& mask = ctx.saved_arrays[0];
    xt::xarray<T> ga, gb;
    if (ctx.needs_input_grad(0)) {
      ga =
          input_grad(ctx, 0, zip(g, mask, g.shape(), [](T gi, T m) { return m != 0 ? gi : T(0); }));
    }
    if (ctx.needs_input_grad(1)) {
      gb =
          input_grad(ctx, 1, zip(g, mask, g.shape(), [](T gi, T m) { return m != 0 ? T(0) : gi; }));
    }
    return gradients(std::move(ga), std::move(gb));
  }
};

template <class T>
void check_clamp_bound(const char* op, const char* arg, T v) {
  XGRAD_CHECK(!std::isnan(v), ValueError, op, ": ", arg, " must not be NaN");
}

}  // namespace

template <class T>
Tensor<T> add(const Tensor<T>& a, const Tensor<T>& b) {
  return AddFn::apply(a, b);
}
template <class T>
Tensor<T> sub(const Tensor<T>& a, const Tensor<T>& b) {
  return SubFn::apply(a, b);
}
template <class T>
Tensor<T> mul(const Tensor<T>& a, const Tensor<T>& b) {
  return MulFn::apply(a, b);
}
template <class T>
Tensor<T> div(const Tensor<T>& a, const Tensor<T>& b) {
  return DivFn::apply(a, b);
}
template <class T>
Tensor<T> add(const Tensor<T>& a, scalar_t<T> s) {
  return AddScalarFn::apply(a, s);
}
template <class T>
Tensor<T> sub(const Tensor<T>& a, scalar_t<T> s) {
  return AddScalarFn::apply(a, T(-s));
}
template <class T>
Tensor<T> sub(scalar_t<T> s, const Tensor<T>& a) {
  return RSubScalarFn::apply(a, s);
}
template <class T>
Tensor<T> mul(const Tensor<T>& a, scalar_t<T> s) {
  return MulScalarFn::apply(a, s);
}
template <class T>
Tensor<T> div(const Tensor<T>& a, scalar_t<T> s) {
  return DivScalarFn::apply(a, s);
}
template <class T>
Tensor<T> div(scalar_t<T> s, const Tensor<T>& a) {
  return RDivScalarFn::apply(a, s);
}
template <class T>
Tensor<T> neg(const Tensor<T>& a) {
  return NegFn::apply(a);
}
template <class T>
Tensor<T> pow(const Tensor<T>& a, scalar_t<T> exponent) {
  return PowFn::apply(a, exponent);
}
template <class T>
Tensor<T> exp(const Tensor<T>& a) {
  return ExpFn::apply(a);
}
template <class T>
Tensor<T> log(const Tensor<T>& a) {
  return LogFn::apply(a);
}
template <class T>
Tensor<T> sqrt(const Tensor<T>& a) {
  return SqrtFn::apply(a);
}
template <class T>
Tensor<T> abs(const Tensor<T>& a) {
  return AbsFn::apply(a);
}
template <class T>
Tensor<T> clamp(const Tensor<T>& a, scalar_t<T> lo, scalar_t<T> hi) {
  check_clamp_bound("clamp", "lo", lo);
  check_clamp_bound("clamp", "hi", hi);
  XGRAD_CHECK(lo <= hi, ValueError, "clamp: lo (", lo, ") must not exceed hi (", hi, ")");
  return ClampFn::apply(a, lo, hi);
}
template <class T>
Tensor<T> clamp_min(const Tensor<T>& a, scalar_t<T> lo) {
  check_clamp_bound("clamp_min", "lo", lo);
  return ClampFn::apply(a, lo, std::numeric_limits<T>::infinity());
}
template <class T>
Tensor<T> clamp_max(const Tensor<T>& a, scalar_t<T> hi) {
  check_clamp_bound("clamp_max", "hi", hi);
  return ClampFn::apply(a, -std::numeric_limits<T>::infinity(), hi);
}
template <class T>
Tensor<T> minimum(const Tensor<T>& a, const Tensor<T>& b) {
  return MinMaxFn<false>::apply(a, b);
}
template <class T>
Tensor<T> maximum(const Tensor<T>& a, const Tensor<T>& b) {
  return MinMaxFn<true>::apply(a, b);
}
template <class T>
Tensor<T> detail::where(const xt::xarray<bool>& condition, const Tensor<T>& a, const Tensor<T>& b) {
  return WhereFn::apply(condition, a, b);
}

#define XGRAD_INSTANTIATE_ELEMENTWISE(T)                                \
  template Tensor<T> add(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> sub(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> mul(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> div(const Tensor<T>&, const Tensor<T>&);           \
  template Tensor<T> add(const Tensor<T>&, scalar_t<T>);                \
  template Tensor<T> sub(const Tensor<T>&, scalar_t<T>);                \
  template Tensor<T> sub(scalar_t<T>, const Tensor<T>&);                \
  template Tensor<T> mul(const Tensor<T>&, scalar_t<T>);                \
  template Tensor<T> div(const Tensor<T>&, scalar_t<T>);                \
  template Tensor<T> div(scalar_t<T>, const Tensor<T>&);                \
  template Tensor<T> neg(const Tensor<T>&);                             \
  template Tensor<T> pow(const Tensor<T>&, scalar_t<T>);                \
  template Tensor<T> exp(const Tensor<T>&);                             \
  template Tensor<T> log(const Tensor<T>&);                             \
  template Tensor<T> sqrt(const Tensor<T>&);                            \
  template Tensor<T> abs(const Tensor<T>&);                             \
  template Tensor<T> clamp(const Tensor<T>&, scalar_t<T>, scalar_t<T>); \
  template Tensor<T> clamp_min(const Tensor<T>&, scalar_t<T>);          \
  template Tensor<T> clamp_max(const Tensor<T>&, scalar_t<T>);          \
  template Tensor<T> minimum(const Tensor<T>&, const Tensor<T>&);       \
  template Tensor<T> maximum(const Tensor<T>&, const Tensor<T>&);       \
  template Tensor<T> detail::where(const xt::xarray<bool>&, const Tensor<T>&, const Tensor<T>&);

XGRAD_INSTANTIATE_ELEMENTWISE(float)
XGRAD_INSTANTIATE_ELEMENTWISE(double)

}  // namespace xgrad
