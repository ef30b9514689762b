// The IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero
// bytes, an element-type byte, the number of dimensions, then each extent as
// a 32-bit integer) followed by the values in row-major order. Files may be
// gzip-compressed or plain (read through zlib either way).
//
// Every reader validates the header and the length and throws IOError naming
// the function, the file and the problem: a missing file (with the command
// that installs the data when known), bad magic, an unknown element type, a
// truncated or over-long file, corrupt gzip data, or (for image/label pairs)
// counts that disagree.
//
// Memory is bounded by what the header declares: the header is checked
// before a value is read (at most kMaxFileValues values, limits.hpp; a plain
// file must be exactly as long as it says; a gzip file cannot declare more
// than 1032 times its size, deflate's largest expansion), then the declared
// array is allocated once and filled through a 1 MiB buffer. ResourceError
// naming the file when it cannot be allocated.
#pragma once

#include <string>
#include <xtensor/xarray.hpp>

#include "xgrad/data.hpp"
#include "xgrad/data/limits.hpp"

namespace xgrad::data {

// Debian's dataset-fashion-mnist package installs its four .gz files here.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// An IDX file as an array of its own extents, each value converted to T.
// Element types: unsigned byte (0x08), signed byte (0x09), int16 (0x0B),
// int32 (0x0C), float32 (0x0D), float64 (0x0E).
template <class T>
xt::xarray<T> read_idx(const std::string& path);

// An images file [N, d1, d2, ...] and a labels file [N] as a Dataset: the
// features are [N, d1 * d2 * ...] with the raw values (pixels 0..255 for
// MNIST; scale them yourself), the labels the integer class of each row.
// IOError also when the labels file is not 1-D, holds a negative or
// non-integer label, or the two counts differ.
template <class T>
Dataset<T> load_idx(const std::string& images_path, const std::string& labels_path);

enum class Split { train, test };

// The MNIST file layout in `dir`: train-images-idx3-ubyte(.gz),
// train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz),
// t10k-labels-idx1-ubyte(.gz); the .gz name is used when present. For
// Fashion-MNIST pass kFashionMnistDir (a missing file's error then names
// `apt-get install dataset-fashion-mnist`).
template <class T>
Dataset<T> load_mnist(const std::string& dir, Split split);

}  // namespace xgrad::data
