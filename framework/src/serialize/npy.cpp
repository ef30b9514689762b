#include "npy.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <new>
#include <set>
#include <vector>

#include "xgrad/errors.hpp"
#include "xgrad/serialize.hpp"

// The .npy bytes are the host's: only little-endian hosts write '<f4'/'<f8'.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xgrad checkpoints assume little-endian");

namespace xgrad::detail {

namespace {

template <class T>
const char* descr_of() {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

// uint8 members (packed codes, Module::register_byte_buffer) load into any
// T exactly; numpy writes '|u1'.
bool is_uint8(const std::string& descr) { return descr == "|u1" || descr == "<u1"; }

const char* dtype_name(const std::string& descr) {
  if (descr == "<f4") return "float32";
  if (descr == "<f8") return "float64";
  if (is_uint8(descr)) return "uint8";
  return "unsupported";
}

const char kMagic[] = "\x93NUMPY";  // 6 bytes

// numpy writes headers of a few hundred bytes (and by default refuses to read
// ones over 10000); anything near this bound is not a checkpoint.
constexpr std::size_t kMaxHeaderBytes = std::size_t(1) << 16;

// ---- the header dict ----

// A parser for the header dict, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct HeaderParser {
  const std::string& s;
  const std::string& what;
  std::size_t pos = 0;

  [[noreturn]] void fail(const std::string& why) const {
    throw_error<IOError>("load: ", what, " has a malformed .npy header (", why, ")");
  }
  void skip_ws() {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  bool eat(char c) {
    skip_ws();
    if (pos < s.size() && s[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(format_message("expected '", c, "'"));
  }
  std::string string_literal() {
    skip_ws();
    if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"')) fail("expected a string");
    const char quote = s[pos++];
    const std::size_t end = s.find(quote, pos);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s.substr(pos, end - pos);
    pos = end + 1;
    return out;
  }
  bool boolean() {
    skip_ws();
    if (s.compare(pos, 4, "True") == 0) {
      pos += 4;
      return true;
    }
    if (s.compare(pos, 5, "False") == 0) {
      pos += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::size_t integer() {
    skip_ws();
    if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos]))) {
      fail("expected a non-negative integer in the shape");
    }
    std::size_t v = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      const std::size_t d = static_cast<std::size_t>(s[pos++] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) fail("extent too large");
      v = v * 10 + d;
    }
    return v;
  }
  Shape shape_tuple() {
    expect('(');
    Shape shape;
    while (!eat(')')) {
      shape.push_back(integer());
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }
};

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
};

NpyHeader parse_header(const std::string& text, const std::string& what) {
  HeaderParser p{text, what};
  NpyHeader h;
  std::set<std::string> seen;
  p.expect('{');
  while (!p.eat('}')) {
    const std::string key = p.string_literal();
    if (!seen.insert(key).second) p.fail("key '" + key + "' repeated");
    p.expect(':');
    if (key == "descr") {
      h.descr = p.string_literal();
    } else if (key == "fortran_order") {
      h.fortran_order = p.boolean();
    } else if (key == "shape") {
      h.shape = p.shape_tuple();
    } else {
      p.fail("unknown key '" + key + "'");
    }
    if (!p.eat(',')) {
      p.expect('}');
      break;
    }
  }
  p.skip_ws();
  if (p.pos != text.size()) p.fail("trailing characters after the dict");
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (!seen.count(key)) p.fail(format_message("missing key '", key, "'"));
  }
  return h;
}

// ---- reading ----

std::uint64_t read_le(const char* b, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
  return v;
}

// Reads exactly n bytes (fewer only at the end of the source).
std::size_t read_fully(const ReadFn& read, char* dst, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    // Bounded chunks: the source may decompress, and must stop where we do.
    const std::size_t step = std::min<std::size_t>(n - got, std::size_t(1) << 20);
    const std::size_t r = read(dst + got, step);
    if (r == 0) break;
    got += r;
  }
  return got;
}

// Data bytes needed by `shape` of elements of `element` bytes, read into T,
// or throws IOError: the product of the non-zero extents (xtensor's strides,
// even when another extent is 0) and the byte count of the T array must fit in
// ptrdiff_t. No signed arithmetic, so no UB on any header.
template <class T>
std::size_t data_bytes_of(const Shape& shape, std::size_t element, const std::string& where) {
  constexpr auto kMaxNonzero =
      static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T);
  std::size_t nonzero = 1, count = 1;
  for (std::size_t e : shape) {
    if (e == 0) {
      count = 0;
      continue;
    }
    const bool overflow = __builtin_mul_overflow(nonzero, e, &nonzero);
    XGRAD_CHECK(!overflow && nonzero <= kMaxNonzero, IOError, where, " has an impossible shape ",
                shape);
  }
  if (count) count = nonzero;
  return count * element;
}

}  // namespace

template <class T>
xt::xarray<T> read_npy(const ReadFn& read, const std::string& what, std::uint64_t total,
                       std::uint64_t max_data) {
  const std::string where = "load: " + what;
  char pre[12];
  const bool magic = read_fully(read, pre, 8) == 8 && std::memcmp(pre, kMagic, 6) == 0;
  XGRAD_CHECK(magic, IOError, where, " is not a .npy array (bad magic)");
  const int major = static_cast<unsigned char>(pre[6]);
  XGRAD_CHECK(major >= 1 && major <= 3, IOError, where, " has unsupported .npy version ", major);
  const std::size_t len_size = major == 1 ? 2 : 4;
  XGRAD_CHECK(read_fully(read, pre + 8, len_size) == len_size, IOError, where,
              " is truncated (header length)");
  const std::uint64_t header_len = read_le(pre + 8, len_size);
  XGRAD_CHECK(header_len <= kMaxHeaderBytes, IOError, where, " has a .npy header of ", header_len,
              " bytes (at most ", kMaxHeaderBytes, " accepted)");
  std::string text(static_cast<std::size_t>(header_len), '\0');
  XGRAD_CHECK(read_fully(read, &text[0], text.size()) == text.size(), IOError, where,
              " is truncated (header)");
  const NpyHeader h = parse_header(text, what);
  const bool bytes = is_uint8(h.descr);
  XGRAD_CHECK(bytes || h.descr == descr_of<T>(), TypeError, where, " has dtype ",
              dtype_name(h.descr), " ('", h.descr, "'), expected ",
              sizeof(T) == 4 ? "float32 ('<f4')" : "float64 ('<f8')", " or uint8 ('|u1')");
  const std::size_t expected = data_bytes_of<T>(h.shape, bytes ? 1 : sizeof(T), where);
  const std::uint64_t data_offset = 8 + len_size + header_len;
  XGRAD_CHECK(total == 0 || total == data_offset + expected, IOError, where, " has ",
              total - std::min(total, data_offset), " data bytes, shape ", h.shape, " needs ",
              expected);
  XGRAD_CHECK(expected <= max_data, IOError, where, ": shape ", h.shape, " needs ", expected,
              " data bytes, more than the stored member can hold (", max_data, ")");

  // Allocate exactly what the header asks for, then fill it (uint8: the bytes,
  // then the array they convert to).
  xt::xarray<T> out;
  xt::xarray<T, xt::layout_type::column_major> f;
  std::vector<unsigned char> raw;
  char* dst = nullptr;
  try {
    if (bytes) {
      raw.resize(expected);
      dst = reinterpret_cast<char*>(raw.data());
      if (h.fortran_order) {
        f = xt::xarray<T, xt::layout_type::column_major>::from_shape(h.shape);
      } else {
        out = xt::xarray<T>::from_shape(h.shape);
      }
    } else if (h.fortran_order) {
      f = xt::xarray<T, xt::layout_type::column_major>::from_shape(h.shape);
      dst = reinterpret_cast<char*>(f.data());
    } else {
      out = xt::xarray<T>::from_shape(h.shape);
      dst = reinterpret_cast<char*>(out.data());
    }
  } catch (const std::bad_alloc&) {
    throw_error<IOError>(where, ": cannot allocate ", expected, " bytes for shape ", h.shape);
  }
  const std::size_t got = expected ? read_fully(read, dst, expected) : 0;
  XGRAD_CHECK(got == expected, IOError, where, " has ", got, " data bytes, shape ", h.shape,
              " needs ", expected);
  char extra;
  XGRAD_CHECK(read(&extra, 1) == 0, IOError, where, " has more data bytes than shape ", h.shape,
              " needs (", expected, ")");
  if (bytes) std::copy(raw.begin(), raw.end(), h.fortran_order ? f.data() : out.data());
  if (h.fortran_order) out = f;
  return out;
}

template xt::xarray<float> read_npy<float>(const ReadFn&, const std::string&, std::uint64_t,
                                           std::uint64_t);
template xt::xarray<double> read_npy<double>(const ReadFn&, const std::string&, std::uint64_t,
                                             std::uint64_t);

}  // namespace xgrad::detail

namespace xgrad {

namespace detail {

namespace {

// The .npy bytes of `array` with elements written as `descr` by `write`
// (element size `element`).
template <class T, class Write>
std::string npy_bytes(const xt::xarray<T>& array, const char* descr, std::size_t element,
                      Write write) {
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < array.dimension(); ++i) {
    dict += std::to_string(array.shape()[i]);
    if (i + 1 < array.dimension() || array.dimension() == 1) dict += ",";
    if (i + 1 < array.dimension()) dict += " ";
  }
  dict += "), }";
  // Pad with spaces so the data starts on a 64-byte boundary, '\n' last.
  const std::size_t prefix = 10;
  std::size_t total = prefix + dict.size() + 1;
  total = (total + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  const std::size_t header_len = dict.size();  // < 65536 for any sane rank

  std::string out(detail::kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header_len & 0xff);
  out += static_cast<char>((header_len >> 8) & 0xff);
  out += dict;
  const std::size_t offset = out.size();
  out.resize(offset + array.size() * element);
  // xarray is row-major and contiguous.
  if (array.size()) write(&out[offset]);
  return out;
}

}  // namespace

template <class T>
std::string to_npy_uint8_bytes(const xt::xarray<T>& array, const std::string& what) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    const T v = array.data()[i];
    XGRAD_CHECK(v >= T(0) && v <= T(255) && v == T(static_cast<int>(v)), ValueError, "save: ", what,
                "[", i, "] = ", v, " is not a byte (an integer in [0, 255])");
  }
  return npy_bytes(array, "|u1", 1, [&array](char* dst) {
    for (std::size_t i = 0; i < array.size(); ++i)
      dst[i] = static_cast<char>(static_cast<unsigned char>(array.data()[i]));
  });
}

template std::string to_npy_uint8_bytes<float>(const xt::xarray<float>&, const std::string&);
template std::string to_npy_uint8_bytes<double>(const xt::xarray<double>&, const std::string&);

}  // namespace detail

template <class T>
std::string to_npy_bytes(const xt::xarray<T>& array) {
  return detail::npy_bytes(array, detail::descr_of<T>(), sizeof(T), [&array](char* dst) {
    std::memcpy(dst, array.data(), array.size() * sizeof(T));
  });
}

template <class T>
xt::xarray<T> parse_npy(const std::string& bytes, const std::string& what) {
  std::size_t pos = 0;
  const detail::ReadFn read = [&bytes, &pos](char* dst, std::size_t n) {
    const std::size_t r = std::min(n, bytes.size() - pos);
    if (r) std::memcpy(dst, bytes.data() + pos, r);
    pos += r;
    return r;
  };
  // An empty string has no declared size to compare with: 0 means unknown,
  // and the magic check refuses it anyway.
  return detail::read_npy<T>(read, what, bytes.size(), bytes.size());
}

template std::string to_npy_bytes<float>(const xt::xarray<float>&);
template std::string to_npy_bytes<double>(const xt::xarray<double>&);
template xt::xarray<float> parse_npy<float>(const std::string&, const std::string&);
template xt::xarray<double> parse_npy<double>(const std::string&, const std::string&);

}  // namespace xgrad
