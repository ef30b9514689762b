// The straight-through affine fake quantize as an engine Function (internal),
// behind fake_quantize_per_tensor_affine (one grid) and
// fake_quantize_per_channel_affine (one grid per channel): forward runs the
// affine kernel and saves its in-range mask (one byte per element), backward
// passes the gradient where the mask is set. Name is the backward's name.
#pragma once

#include <utility>
#include <vector>

#include "../kernels/affine.hpp"
#include "../kernels/ste_mask.hpp"
#include "../observers/channel_layout.hpp"
#include "xgrad/detail/array_cache.hpp"
#include "xgrad/function.hpp"

namespace xgrad::quant::detail {

template <class Name>
struct AffineFakeQuantizeFn : Function<AffineFakeQuantizeFn<Name>> {
  static constexpr const char* name = Name::value;

  // grids[c] for channel c of x seen as [outer, channels, inner].
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x,
                               const std::vector<AffineGrid<T>>& grids, const ChannelLayout& lay) {
    xt::xarray<T> out = xgrad::detail::new_array<T>(x.shape());
    fake_quantize_per_channel_kernel(x.data().data(), lay.outer, lay.channels, lay.inner,
                                     grids.data(), out.data(),
                                     saved_mask(ctx, x.numel(), ctx.recording()));
    return out;
  }

  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, xt::xarray<T> grad) {
    return xgrad::gradients(masked_gradient(ctx, std::move(grad)));
  }
};

}  // namespace xgrad::quant::detail
