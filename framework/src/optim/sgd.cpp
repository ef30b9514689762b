#include "xgrad/optim/sgd.hpp"

#include <cmath>

#include "xgrad/detail/parallel.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::optim {

namespace {

// Calls body(k) for k in [0, n) in blocks of 8: GCC's -O2 vectorizer only
// takes loops with a known trip count, so each block becomes SIMD code (2x on
// large parameters; measured).
template <class Body>
inline void blocked(std::size_t n, Body body) {
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (std::size_t u = 0; u < 8; ++u) body(k + u);
  }
  for (; k < n; ++k) body(k);
}

// The kernels take __restrict pointers so the blocks may be vectorized; they
// stay out of line because inlining into step() loses that no-alias promise.
template <class T>
__attribute__((noinline)) void plain_update(T* __restrict w, const T* __restrict g, std::size_t n,
                                            T lr, T wd) {
  blocked(n, [&](std::size_t k) { w[k] = w[k] - lr * (g[k] + wd * w[k]); });
}

// First step with momentum: the buffer starts as the (decayed) gradient.
template <class T, bool Nesterov>
__attribute__((noinline)) void first_momentum_update(T* __restrict w, const T* __restrict g,
                                                     T* __restrict b, std::size_t n, T lr, T wd,
                                                     T momentum) {
  blocked(n, [&](std::size_t k) {
    const T d = g[k] + wd * w[k];
    b[k] = d;
    w[k] = w[k] - lr * (Nesterov ? d + momentum * d : d);
  });
}

template <class T, bool Nesterov>
__attribute__((noinline)) void momentum_update(T* __restrict w, const T* __restrict g,
                                               T* __restrict b, std::size_t n, T lr, T wd,
                                               T momentum, T keep) {
  blocked(n, [&](std::size_t k) {
    const T d = g[k] + wd * w[k];
    b[k] = momentum * b[k] + keep * d;
    w[k] = w[k] - lr * (Nesterov ? d + momentum * b[k] : b[k]);
  });
}

// Element ranges of one parameter, over threads when it is large (elements
// are independent: the result does not depend on the split).
template <class Body>
void split(std::size_t n, const Body& body) {
  detail::parallel_for(n, detail::kElementGrain, body);
}

void check_sgd_options(const SGDOptions& o) {
  XGRAD_CHECK(o.momentum() >= 0 && std::isfinite(o.momentum()), ValueError,
              "SGD: momentum must be >= 0, got ", o.momentum());
  XGRAD_CHECK(std::isfinite(o.dampening()), ValueError, "SGD: dampening must be finite, got ",
              o.dampening());
  XGRAD_CHECK(!o.nesterov() || (o.momentum() > 0 && o.dampening() == 0), ValueError,
              "SGD: nesterov requires momentum > 0 and dampening = 0, got momentum ", o.momentum(),
              " and dampening ", o.dampening());
}

}  // namespace

template <class T>
SGD<T>::SGD(std::vector<Tensor<T>> params, const SGDOptions& options)
    : SGD(one_group(std::move(params)), options) {}

template <class T>
SGD<T>::SGD(std::vector<ParamGroup<T>> groups, const SGDOptions& options)
    : Optimizer<T>("SGD", std::move(groups), options.lr(), options.weight_decay()),
      options_(options) {
  check_sgd_options(options_);
}

template <class T>
std::vector<std::string> SGD<T>::buffer_names() const {
  if (options_.momentum() == 0) return {};
  return {"momentum_buffer"};
}

template <class T>
std::vector<std::pair<std::string, T>> SGD<T>::shared_options() const {
  return {{"momentum", T(options_.momentum())},
          {"dampening", T(options_.dampening())},
          {"nesterov", T(options_.nesterov() ? 1 : 0)}};
}

template <class T>
void SGD<T>::step() {
  NoGradGuard no_grad;
  // Scalars are rounded to T once, as PyTorch does for the alpha of add_.
  const T momentum = static_cast<T>(options_.momentum());
  const T keep = static_cast<T>(1.0 - options_.dampening());
  const bool nesterov = options_.nesterov();
  this->for_each_update([&](const auto& group, Tensor<T>& param, const Tensor<T>& grad,
                            auto& state) {
    const T lr = group.lr, wd = group.weight_decay;
    const std::size_t n = param.numel();
    const T* g = grad.data().data();
    T* w = param.mutable_data().data();
    if (momentum == 0) {
      split(n, [&](std::size_t b, std::size_t e) { plain_update(w + b, g + b, e - b, lr, wd); });
      return;
    }
    if (!state.initialized) {
      state.buffers.assign(1, xt::xarray<T>::from_shape(param.shape()));
      T* b = state.buffers[0].data();
      split(n, [&](std::size_t s, std::size_t e) {
        if (nesterov) {
          first_momentum_update<T, true>(w + s, g + s, b + s, e - s, lr, wd, momentum);
        } else {
          first_momentum_update<T, false>(w + s, g + s, b + s, e - s, lr, wd, momentum);
        }
      });
      state.initialized = true;
      return;
    }
    T* b = state.buffers[0].data();
    split(n, [&](std::size_t s, std::size_t e) {
      if (nesterov) {
        momentum_update<T, true>(w + s, g + s, b + s, e - s, lr, wd, momentum, keep);
      } else {
        momentum_update<T, false>(w + s, g + s, b + s, e - s, lr, wd, momentum, keep);
      }
    });
  });
}

XGRAD_INSTANTIATE_CLASS(SGD);

}  // namespace xgrad::optim
