#include "xgrad/data/idx.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <new>
#include <vector>

#include "../deflate_ratio.hpp"
#include "gz_reader.hpp"
#include "xgrad/data/limits.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::data {
namespace {

std::string hex(unsigned v, int digits) {
  static const char* d = "0123456789abcdef";
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = d[v & 15];
  return "0x" + s;
}

std::size_t element_size(unsigned type) {
  switch (type) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

std::uint64_t big_endian(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

template <class T>
T decode(const unsigned char* p, unsigned type) {
  switch (type) {
    case 0x08:
      return static_cast<T>(p[0]);
    case 0x09:
      return static_cast<T>(static_cast<std::int8_t>(p[0]));
    case 0x0B:
      return static_cast<T>(static_cast<std::int16_t>(big_endian(p, 2)));
    case 0x0C:
      return static_cast<T>(static_cast<std::int32_t>(big_endian(p, 4)));
    case 0x0D: {
      const auto bits = static_cast<std::uint32_t>(big_endian(p, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return static_cast<T>(f);
    }
    default: {
      const std::uint64_t bits = big_endian(p, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      return static_cast<T>(d);
    }
  }
}

// Reads and validates one IDX file; `op` and `hint` go into the messages.
template <class T>
xt::xarray<T> read_idx_file(const std::string& op, const std::string& path,
                            const std::string& hint) {
  detail::GzReader in(op, path, hint);
  unsigned char magic[4];
  const std::size_t got = in.read(magic, 4);
  XGRAD_CHECK(got >= 4, IOError, in.where(), "truncated: ", got, " of the 4 magic bytes");
  const unsigned type = magic[2], ndim = magic[3];
  const std::size_t esize = element_size(type);
  XGRAD_CHECK(magic[0] == 0 && magic[1] == 0 && esize != 0, IOError, in.where(), "bad magic ",
              hex(static_cast<unsigned>(big_endian(magic, 4)), 8),
              " (an IDX file starts with 0x0000, then an element type 08, 09, 0b, 0c, 0d or 0e, "
              "then the number of dimensions)");
  XGRAD_CHECK(ndim != 0, IOError, in.where(), "the header declares 0 dimensions");
  std::vector<unsigned char> extents(4 * ndim);
  const std::size_t got_extents = in.read(extents.data(), extents.size());
  XGRAD_CHECK(got_extents == extents.size(), IOError, in.where(), "truncated header: ", ndim,
              " dimensions declared but their extents are missing");
  Shape shape(ndim);
  for (unsigned i = 0; i < ndim; ++i) {
    const std::uint64_t e = big_endian(&extents[4 * i], 4);
    XGRAD_CHECK(e <= std::numeric_limits<std::int32_t>::max(), IOError, in.where(), "extent ", i,
                " is negative (", hex(static_cast<unsigned>(e), 8), ")");
    shape[i] = static_cast<std::size_t>(e);
  }
  // The product of the non-zero extents is bounded even when another extent
  // is 0 (no values): xtensor's strides are those products.
  std::size_t nonzero = 1;
  bool empty = false;
  for (std::size_t e : shape) {
    if (e == 0) {
      empty = true;
      continue;
    }
    const bool overflow = __builtin_mul_overflow(nonzero, e, &nonzero);
    XGRAD_CHECK(!overflow && nonzero <= kMaxFileValues, IOError, in.where(), "the extents ", shape,
                " are too large: more than the ", kMaxFileValues,
                " values a file may hold (kMaxFileValues)");
  }
  const std::size_t count = empty ? 0 : nonzero;
  const std::uint64_t bytes = std::uint64_t{count} * esize;

  // What the file can hold, known before a value is read: a plain file holds
  // exactly its size less the header; gzip data inflates at most 1032:1.
  const std::uint64_t header_bytes = 4 + extents.size();
  if (in.file_size() != 0 && !in.compressed()) {
    const std::uint64_t has = in.file_size() - std::min(in.file_size(), header_bytes);
    XGRAD_CHECK(has >= bytes, IOError, in.where(), "truncated: the header ", shape, " needs ",
                bytes, " bytes of values, the file has ", has);
    XGRAD_CHECK(has == bytes, IOError, in.where(), "longer than its header ", shape,
                " says (data after the last value)");
  } else if (in.file_size() != 0) {
    XGRAD_CHECK(bytes <= xgrad::detail::max_inflated_size(in.file_size()), IOError, in.where(),
                "the header ", shape, " needs ", bytes,
                " bytes of values, more than a gzip file of ", in.file_size(),
                " bytes can hold (deflate expands at most 1032:1)");
  }

  // The array the header declares, filled from bounded reads.
  constexpr std::size_t kChunk = std::size_t{1} << 20;  // a multiple of every element size
  xt::xarray<T> out;
  std::vector<unsigned char> chunk;
  try {
    out = xt::xarray<T>::from_shape(shape);
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, kChunk)));
  } catch (const std::bad_alloc&) {
    throw_error<ResourceError>(in.where(), "cannot allocate ", count * sizeof(T),
                               " bytes for its values (shape ", shape, ")");
  }
  T* dst = out.data();
  for (std::uint64_t done = 0; done < bytes;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - done));
    const std::size_t n = in.read(chunk.data(), want);
    XGRAD_CHECK(n == want, IOError, in.where(), "truncated: the header ", shape, " needs ", bytes,
                " bytes of values, the file has ", done + n);
    for (std::size_t i = 0; i < want; i += esize) *dst++ = decode<T>(&chunk[i], type);
    done += want;
  }
  unsigned char extra;
  const std::size_t after_last = in.read(&extra, 1);
  XGRAD_CHECK(after_last == 0, IOError, in.where(), "longer than its header ", shape,
              " says (data after the last value)");
  return out;
}

template <class T>
Dataset<T> load_pair(const std::string& op, const std::string& images_path,
                     const std::string& labels_path, const std::string& hint) {
  xt::xarray<T> images = read_idx_file<T>(op, images_path, hint);
  const xt::xarray<T> labels = read_idx_file<T>(op, labels_path, hint);
  const std::string where = op + ": \"" + labels_path + "\": ";
  XGRAD_CHECK(images.dimension() >= 2, IOError, op, ": \"", images_path,
              "\": expected images [N, ...] with 2 or more dimensions, got ", images.shape());
  XGRAD_CHECK(labels.dimension() == 1, IOError, where, "expected labels [N], got ", labels.shape());
  XGRAD_CHECK(labels.size() == images.shape()[0], IOError, op, ": wrong count: \"", images_path,
              "\" holds ", images.shape()[0], " images but \"", labels_path, "\" holds ",
              labels.size(), " labels");
  Labels y;
  try {
    y = Labels::from_shape({labels.size()});
  } catch (const std::bad_alloc&) {
    throw_error<ResourceError>(where, "cannot allocate ", labels.size() * sizeof(std::int64_t),
                               " bytes for its labels");
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const T v = labels(i);
    XGRAD_CHECK(v >= 0 && v == std::floor(v) && v <= T(1e15), IOError, where, "label ", i, " is ",
                v, " (labels must be non-negative integers)");
    y(i) = static_cast<std::int64_t>(v);
  }
  const std::size_t n = images.shape()[0];
  const std::size_t features = n == 0 ? 0 : images.size() / n;
  images.reshape({n, features});
  return Dataset<T>{Tensor<T>(std::move(images)), std::move(y)};
}

}  // namespace

template <class T>
xt::xarray<T> read_idx(const std::string& path) {
  return read_idx_file<T>("read_idx", path, "");
}

template <class T>
Dataset<T> load_idx(const std::string& images_path, const std::string& labels_path) {
  return load_pair<T>("load_idx", images_path, labels_path, "");
}

template <class T>
Dataset<T> load_mnist(const std::string& dir, Split split) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  // The compressed name when it exists, else the plain one; a missing file is
  // reported under the .gz name (the form MNIST and Debian ship).
  const auto pick = [&dir](const std::string& name) {
    const std::filesystem::path base = std::filesystem::path(dir) / name;
    std::error_code ec;
    const bool plain_only =
        !std::filesystem::exists(base.string() + ".gz", ec) && std::filesystem::exists(base, ec);
    return plain_only ? base.string() : base.string() + ".gz";
  };
  const std::string hint =
      std::filesystem::path(dir) == std::filesystem::path(kFashionMnistDir)
          ? "install Fashion-MNIST with: sudo apt-get install dataset-fashion-mnist (or run bash "
            ".ci/setup)"
          : "expected the MNIST file names " + prefix + "-images-idx3-ubyte[.gz] and " + prefix +
                "-labels-idx1-ubyte[.gz] in \"" + dir + "\"";
  return load_pair<T>("load_mnist", pick(prefix + "-images-idx3-ubyte"),
                      pick(prefix + "-labels-idx1-ubyte"), hint);
}

#define XGRAD_INSTANTIATE(T)                                               \
  template xt::xarray<T> read_idx<T>(const std::string&);                  \
  template Dataset<T> load_idx<T>(const std::string&, const std::string&); \
  template Dataset<T> load_mnist<T>(const std::string&, Split);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::data
