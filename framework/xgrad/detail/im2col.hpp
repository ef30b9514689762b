// im2col / col2im for conv2d (internal: conv2d and the quantized Conv2d):
// the windows of one sample's channel block laid out as the columns of a
// matrix, so that a convolution is one gemm (weight [O, C kh kw] times
// columns [C kh kw, OH OW]).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "xgrad/ops/size2.hpp"
#include "xgrad/shape.hpp"

namespace xgrad {

// The geometry of one convolution, with every value already validated.
struct ConvGeometry {
  std::size_t channels;                   // input channels of one im2col (one group)
  std::size_t height, width;              // input plane
  std::size_t kh, kw;                     // kernel
  std::ptrdiff_t sh, sw, ph, pw, dh, dw;  // stride, padding, dilation
  std::size_t oh, ow;                     // output plane

  std::size_t rows() const { return channels * kh * kw; }  // of the column matrix
  std::size_t cols() const { return oh * ow; }
};

namespace detail {

// A validated conv2d call: the geometry of one group of one sample, and the
// counts around it.
struct Conv2dPlan {
  ConvGeometry geom;
  std::size_t batch, groups, out_per_group;

  std::size_t in_channels() const { return groups * geom.channels; }
  std::size_t out_channels() const { return groups * out_per_group; }
  bool pointwise() const {  // the input is its own column matrix
    return geom.kh == 1 && geom.kw == 1 && geom.sh == 1 && geom.sw == 1 && geom.ph == 0 &&
           geom.pw == 0;
  }
};

// conv2d's checks on the shapes (bias: null when there is none) and options,
// with its errors (ops/conv.hpp), and the plan.
Conv2dPlan plan_conv2d(const Shape& input, const Shape& weight, const Shape* bias, Size2 stride,
                       Size2 padding, Size2 dilation, std::int64_t groups);

// [lo, hi): the outputs o < n_out whose input o * stride + offset lies in
// [0, extent). Outside it the window reads zero padding.
inline void valid_range(std::ptrdiff_t offset, std::ptrdiff_t stride, std::size_t extent,
                        std::size_t n_out, std::size_t& lo, std::size_t& hi) {
  const auto n = static_cast<std::ptrdiff_t>(n_out);
  const std::ptrdiff_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::ptrdiff_t last_in = static_cast<std::ptrdiff_t>(extent) - 1 - offset;
  const std::ptrdiff_t end = last_in < 0 ? 0 : last_in / stride + 1;
  lo = static_cast<std::size_t>(std::min(first, n));
  hi = static_cast<std::size_t>(std::max(std::min(end, n), static_cast<std::ptrdiff_t>(lo)));
}

// Strides 1 and output rows as long as input rows ("same" padding): for one
// kernel offset (off_h, off_w), output (i, j) reads input (i + off_h, j +
// off_w), a fixed shift of the flattened plane, so the valid part of the
// column row is one contiguous span of the input. One plain loop copies (or
// adds) it. Span entries that wrap into a neighbouring input row are padding
// positions: zeroed after the copy, and zeroed in col before the add (col2im's
// col is scratch) so that they add nothing.
template <bool Gather, class X, class C>
void shifted_span(X* xc, const ConvGeometry& g, C* row, std::ptrdiff_t off_h,
                  std::ptrdiff_t off_w) {
  std::size_t ilo, ihi, lo, hi;
  valid_range(off_h, 1, g.height, g.oh, ilo, ihi);
  valid_range(off_w, 1, g.width, g.ow, lo, hi);
  if (ilo == ihi || lo == hi) {
    if constexpr (Gather) std::fill(row, row + g.cols(), C(0));
    return;
  }
  if constexpr (Gather) {
    std::fill(row, row + ilo * g.ow, C(0));
    std::fill(row + ihi * g.ow, row + g.cols(), C(0));
  } else {
    for (std::size_t i = ilo; i < ihi; ++i) {
      for (std::size_t j = 0; j < lo; ++j) row[i * g.ow + j] = C(0);
      for (std::size_t j = hi; j < g.ow; ++j) row[i * g.ow + j] = C(0);
    }
  }
  C* o = row + ilo * g.ow + lo;
  X* in = xc + static_cast<std::size_t>(static_cast<std::ptrdiff_t>(ilo) + off_h) * g.width +
          static_cast<std::size_t>(static_cast<std::ptrdiff_t>(lo) + off_w);
  const std::size_t n = (ihi - 1 - ilo) * g.ow + (hi - lo);
  if constexpr (Gather) {
    for (std::size_t j = 0; j < n; ++j) o[j] = in[j];
    for (std::size_t i = ilo; i < ihi; ++i) {
      for (std::size_t j = 0; j < lo; ++j) row[i * g.ow + j] = C(0);
      for (std::size_t j = hi; j < g.ow; ++j) row[i * g.ow + j] = C(0);
    }
  } else {
    for (std::size_t j = 0; j < n; ++j) in[j] += o[j];
  }
}

// Walks every (column row, output row) pair once. Gather copies x into col
// (zeros for padding); otherwise the column values are added back into x.
// Only channels [c0, c1): their rows of col.
template <bool Gather, class X, class C>
void im2col_walk(X* x, const ConvGeometry& g, C* col, std::size_t c0, std::size_t c1) {
  const std::size_t plane = g.height * g.width;
  const bool shifted = g.sh == 1 && g.sw == 1 && g.ow == g.width;
  for (std::size_t c = c0; c < c1; ++c) {
    X* xc = x + c * plane;
    for (std::size_t ki = 0; ki < g.kh; ++ki) {
      for (std::size_t kj = 0; kj < g.kw; ++kj) {
        C* row = col + ((c * g.kh + ki) * g.kw + kj) * g.cols();
        if (shifted) {
          shifted_span<Gather>(xc, g, row, static_cast<std::ptrdiff_t>(ki) * g.dh - g.ph,
                               static_cast<std::ptrdiff_t>(kj) * g.dw - g.pw);
          continue;
        }
        const std::ptrdiff_t off_w = static_cast<std::ptrdiff_t>(kj) * g.dw - g.pw;
        std::size_t lo, hi;
        valid_range(off_w, g.sw, g.width, g.ow, lo, hi);
        for (std::size_t i = 0; i < g.oh; ++i) {
          C* out = row + i * g.ow;
          const std::ptrdiff_t ih =
              static_cast<std::ptrdiff_t>(i) * g.sh - g.ph + static_cast<std::ptrdiff_t>(ki) * g.dh;
          const bool inside = ih >= 0 && ih < static_cast<std::ptrdiff_t>(g.height);
          if constexpr (Gather) {
            if (!inside) {
              std::fill(out, out + g.ow, C(0));
              continue;
            }
            for (std::size_t j = 0; j < lo; ++j) out[j] = C(0);  // 0 or a few: no memset call
            for (std::size_t j = hi; j < g.ow; ++j) out[j] = C(0);
          } else if (!inside) {
            continue;
          }
          if (lo == hi) continue;
          // Input column of output j: j * sw + off_w; `in` points at output lo's.
          X* in = xc + static_cast<std::size_t>(ih) * g.width +
                  static_cast<std::size_t>(static_cast<std::ptrdiff_t>(lo) * g.sw + off_w);
          C* o = out + lo;
          const std::size_t n = hi - lo;
          if (g.sw == 1) {  // contiguous: plain loops the compiler vectorizes (rows are
                            // short, a memmove call per row costs more than it saves)
            if constexpr (Gather) {
              for (std::size_t j = 0; j < n; ++j) o[j] = in[j];
            } else {
              for (std::size_t j = 0; j < n; ++j) in[j] += o[j];
            }
          } else {
            const auto step = static_cast<std::size_t>(g.sw);
            for (std::size_t j = 0; j < n; ++j) {
              if constexpr (Gather) {
                o[j] = in[j * step];
              } else {
                in[j * step] += o[j];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace detail

// col [g.rows(), g.cols()] = the windows of x [g.channels, height, width];
// with a channel range, only the rows of channels [c0, c1).
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col, std::size_t c0, std::size_t c1) {
  detail::im2col_walk<true>(x, g, col, c0, c1);
}
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
  im2col(x, g, col, 0, g.channels);
}

// x [g.channels, height, width] += col [g.rows(), g.cols()] scattered back to
// the positions im2col read (padding positions are dropped). col is scratch:
// its padding entries may be overwritten with zeros.
template <class T>
void col2im(T* col, const ConvGeometry& g, T* x) {
  detail::im2col_walk<false>(x, g, col, 0, g.channels);
}

}  // namespace xgrad
