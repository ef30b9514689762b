#include "xgrad/serialize.hpp"

#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <set>

#include "xgrad/detail/atomic_file.hpp"
#include "xgrad/errors.hpp"

// The .npy bytes are the host's: only little-endian hosts write '<f4'/'<f8'.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "xgrad checkpoints assume little-endian");

namespace xgrad {

namespace {

template <class T>
const char* descr_of() {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

const char* dtype_name(const std::string& descr) {
  if (descr == "<f4") return "float32";
  if (descr == "<f8") return "float64";
  return "unsupported";
}

// --- A parser for the header dict, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
struct HeaderParser {
  const std::string& s;
  const std::string& what;
  std::size_t pos = 0;

  [[noreturn]] void fail(const std::string& why) const {
    throw IOError("load: " + what + " has a malformed .npy header (" + why + ")");
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
    if (!eat(c)) fail(std::string("expected '") + c + "'");
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
    if (!seen.count(key)) p.fail(std::string("missing key '") + key + "'");
  }
  return h;
}

std::uint64_t read_le(const char* b, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[i])) << (8 * i);
  return v;
}

const char kMagic[] = "\x93NUMPY";  // 6 bytes

// A zip member name holds at most 65535 bytes, ".npy" included.
constexpr std::size_t kMaxKeyBytes = 65535 - 4;

// numpy writes headers of a few hundred bytes (and by default refuses to read
// ones over 10000); anything near this bound is not a checkpoint.
constexpr std::size_t kMaxHeaderBytes = std::size_t(1) << 16;

// deflate cannot expand data by more than 1032:1 (RFC 1951: a 258-byte match
// costs at least 2 bits); a member declaring more is lying.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

// A source of bytes for read_npy: fills dst with up to n bytes, returns how
// many (0 at the end); throws IOError on a read error.
using ReadFn = std::function<std::size_t(char* dst, std::size_t n)>;

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

// Data bytes needed by `shape` of T, or throws IOError: the product of the
// non-zero extents (xtensor's strides, even when another extent is 0) and the
// byte count must fit in ptrdiff_t. No signed arithmetic, so no UB on any header.
template <class T>
std::size_t data_bytes_of(const Shape& shape, const std::string& where) {
  std::size_t nonzero = 1, count = 1;
  for (std::size_t e : shape) {
    if (e == 0) {
      count = 0;
      continue;
    }
    if (__builtin_mul_overflow(nonzero, e, &nonzero) ||
        nonzero > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / sizeof(T))
      throw IOError(where + " has an impossible shape " + to_string(shape));
  }
  if (count) count = nonzero;
  return count * sizeof(T);
}

// One .npy array from `read`: the preamble and header first, then (only once
// the shape, dtype and sizes are known to be consistent) one allocation of
// exactly the array, filled by bounded reads, then a check that nothing
// follows. `total` is the member's declared size when known (0: unknown) and
// `max_data` bounds the data bytes the source can legitimately hold.
template <class T>
xt::xarray<T> read_npy(const ReadFn& read, const std::string& what, std::uint64_t total,
                       std::uint64_t max_data) {
  const std::string where = "load: " + what;
  char pre[12];
  if (read_fully(read, pre, 8) != 8 || std::memcmp(pre, kMagic, 6) != 0)
    throw IOError(where + " is not a .npy array (bad magic)");
  const int major = static_cast<unsigned char>(pre[6]);
  std::size_t len_size = 0;
  if (major == 1) {
    len_size = 2;
  } else if (major == 2 || major == 3) {
    len_size = 4;
  } else {
    throw IOError(where + " has unsupported .npy version " + std::to_string(major));
  }
  if (read_fully(read, pre + 8, len_size) != len_size)
    throw IOError(where + " is truncated (header length)");
  const std::uint64_t header_len = read_le(pre + 8, len_size);
  if (header_len > kMaxHeaderBytes)
    throw IOError(where + " has a .npy header of " + std::to_string(header_len) +
                  " bytes (at most " + std::to_string(kMaxHeaderBytes) + " accepted)");
  std::string text(static_cast<std::size_t>(header_len), '\0');
  if (read_fully(read, &text[0], text.size()) != text.size())
    throw IOError(where + " is truncated (header)");
  const NpyHeader h = parse_header(text, what);
  if (h.descr != descr_of<T>()) {
    throw TypeError(where + " has dtype " + dtype_name(h.descr) + " ('" + h.descr +
                    "'), expected " + (sizeof(T) == 4 ? "float32 ('<f4')" : "float64 ('<f8')"));
  }
  const std::size_t expected = data_bytes_of<T>(h.shape, where);
  const std::uint64_t data_offset = 8 + len_size + header_len;
  if (total != 0 && total != data_offset + expected) {
    throw IOError(where + " has " + std::to_string(total - std::min(total, data_offset)) +
                  " data bytes, shape " + to_string(h.shape) + " needs " +
                  std::to_string(expected));
  }
  if (expected > max_data) {
    throw IOError(where + ": shape " + to_string(h.shape) + " needs " + std::to_string(expected) +
                  " data bytes, more than the stored member can hold (" + std::to_string(max_data) +
                  ")");
  }

  // Allocate exactly what the header asks for, then fill it.
  xt::xarray<T> out;
  xt::xarray<T, xt::layout_type::column_major> f;
  char* dst = nullptr;
  try {
    if (h.fortran_order) {
      f = xt::xarray<T, xt::layout_type::column_major>::from_shape(h.shape);
      dst = reinterpret_cast<char*>(f.data());
    } else {
      out = xt::xarray<T>::from_shape(h.shape);
      dst = reinterpret_cast<char*>(out.data());
    }
  } catch (const std::bad_alloc&) {
    throw IOError(where + ": cannot allocate " + std::to_string(expected) + " bytes for shape " +
                  to_string(h.shape));
  }
  const std::size_t got = expected ? read_fully(read, dst, expected) : 0;
  if (got != expected) {
    throw IOError(where + " has " + std::to_string(got) + " data bytes, shape " +
                  to_string(h.shape) + " needs " + std::to_string(expected));
  }
  char extra;
  if (read(&extra, 1) != 0) {
    throw IOError(where + " has more data bytes than shape " + to_string(h.shape) + " needs (" +
                  std::to_string(expected) + ")");
  }
  if (h.fortran_order) out = f;
  return out;
}

std::string zip_message(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  return msg;
}

// An empty zip archive: just the end-of-central-directory record. libzip
// refuses to write an archive without members (it deletes the file instead).
void write_empty_zip(const std::string& path) {
  const char eocd[22] = {0x50, 0x4b, 0x05, 0x06};  // signature, then 18 zero bytes
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(eocd, sizeof eocd);
  out.close();
  if (!out) throw IOError("save: cannot write \"" + path + "\"");
}

void write_zip(const std::vector<std::pair<std::string, std::string>>& members,
               const std::string& tmp, const std::string& path) {
  int code = 0;
  zip_t* za = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_EXCL, &code);
  if (!za) throw IOError("save: cannot create \"" + path + "\": " + zip_message(code));
  for (const auto& m : members) {
    // The buffers stay alive until zip_close, which is when libzip reads them.
    zip_source_t* src = zip_source_buffer(za, m.second.data(), m.second.size(), 0);
    zip_int64_t idx =
        src ? zip_file_add(za, (m.first + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
      const std::string msg = zip_strerror(za);
      if (src) zip_source_free(src);
      zip_discard(za);
      throw IOError("save: cannot add \"" + m.first + "\" to \"" + path + "\": " + msg);
    }
    // Stored, like np.savez: fast, and the bytes are directly inspectable.
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  if (zip_close(za) != 0) {
    const std::string msg = zip_strerror(za);
    zip_discard(za);
    throw IOError("save: cannot write \"" + path + "\": " + msg);
  }
}

// Why `key` cannot be a checkpoint member name, or "" when it can. The same
// rule on save and load, so whatever saves also loads, under the same key.
std::string bad_key_reason(const std::string& key) {
  if (key.empty()) return "is empty";
  if (key.find('\0') != std::string::npos) return "contains a '\\0' byte";
  // Keys become member names: a path separator or ".." would let an unzip of
  // the checkpoint write outside its directory.
  if (key.find_first_of("/\\") != std::string::npos) return "contains a path separator";
  if ((key + ".npy").find("..") != std::string::npos)
    return "makes a member name with \"..\" (\"" + key + ".npy\")";
  if (key.size() > kMaxKeyBytes)
    return "is " + std::to_string(key.size()) + " bytes long (at most " +
           std::to_string(kMaxKeyBytes) + ")";
  return "";
}

// A key as messages show it: bytes below 0x20 (e.g. '\0', which would end
// what()) as \xNN, and at most 200 bytes.
std::string printable(const std::string& key) {
  std::string out;
  for (std::size_t i = 0; i < key.size() && i < 200; ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += key[i];
    }
  }
  if (key.size() > 200) out += "...";
  return out;
}

}  // namespace

template <class T>
std::string to_npy_bytes(const xt::xarray<T>& array) {
  std::string dict =
      std::string("{'descr': '") + descr_of<T>() + "', 'fortran_order': False, 'shape': (";
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

  std::string out(kMagic, 6);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header_len & 0xff);
  out += static_cast<char>((header_len >> 8) & 0xff);
  out += dict;
  const std::size_t offset = out.size();
  out.resize(offset + array.size() * sizeof(T));
  // xarray is row-major and contiguous.
  if (array.size()) std::memcpy(&out[offset], array.data(), array.size() * sizeof(T));
  return out;
}

template <class T>
xt::xarray<T> parse_npy(const std::string& bytes, const std::string& what) {
  std::size_t pos = 0;
  const ReadFn read = [&bytes, &pos](char* dst, std::size_t n) {
    const std::size_t r = std::min(n, bytes.size() - pos);
    if (r) std::memcpy(dst, bytes.data() + pos, r);
    pos += r;
    return r;
  };
  // An empty string has no declared size to compare with: 0 means unknown,
  // and the magic check refuses it anyway.
  return read_npy<T>(read, what, bytes.size(), bytes.size());
}

template <class T>
void save(const StateDict<T>& dict, const std::string& path) {
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::string>> members;
  members.reserve(dict.size());
  for (const auto& kv : dict) {
    const std::string why = bad_key_reason(kv.first);
    if (!why.empty()) throw ValueError("save: key \"" + printable(kv.first) + "\" " + why);
    if (!names.insert(kv.first).second) {
      throw ValueError("save: key \"" + printable(kv.first) + "\" appears more than once");
    }
    members.emplace_back(kv.first, to_npy_bytes(kv.second));
  }
  detail::replace_file(
      path,
      [&](const std::string& tmp) {
        if (members.empty()) {
          write_empty_zip(tmp);
        } else {
          write_zip(members, tmp, path);
        }
      },
      "save");
}

template <class T>
StateDict<T> load_state_dict_file(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!za) throw IOError("load: cannot open \"" + path + "\": " + zip_message(code));
  // Closes the archive on every path out (zip_discard: nothing to write back).
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(za, [](zip_t* z) { zip_discard(z); });

  StateDict<T> out;
  std::set<std::string> keys;
  const zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const std::string at = "\"" + path + "\": member " + std::to_string(i);
    zip_stat_t st;
    constexpr zip_uint64_t kNeeded =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (st.valid & kNeeded) != kNeeded) {
      throw IOError("load: " + at + ": cannot read its directory entry: " + zip_strerror(za));
    }
    const std::string name = st.name;
    const std::string member = at + " (\"" + printable(name) + "\")";
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      throw IOError("load: " + member + " is not a .npy file");
    }
    const std::string key = name.substr(0, name.size() - 4);
    const std::string why = bad_key_reason(key);
    if (!why.empty()) throw IOError("load: " + member + ": its key " + why);
    if (!keys.insert(key).second) throw IOError("load: " + member + " appears more than once");

    // The most data the member can hold: its stored bytes (which must lie in
    // the file), expanded by at most deflate's ratio.
    std::uint64_t max_bytes = 0;
    if (st.comp_method == ZIP_CM_STORE) {
      max_bytes = st.comp_size;
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      max_bytes = st.comp_size > std::numeric_limits<std::uint64_t>::max() / kMaxDeflateRatio
                      ? std::numeric_limits<std::uint64_t>::max()
                      : st.comp_size * kMaxDeflateRatio;
    } else {
      throw IOError("load: " + member + " uses compression method " +
                    std::to_string(st.comp_method) + " (only stored and deflated are read)");
    }
    if ((!ec && st.comp_size > file_size) || st.size > max_bytes) {
      throw IOError("load: " + member + " declares " + std::to_string(st.size) + " bytes from " +
                    std::to_string(st.comp_size) + " stored: corrupt");
    }
    if (st.size == 0) throw IOError("load: " + member + " is empty");

    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (!zf) throw IOError("load: cannot open " + member + ": " + zip_strerror(za));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zf, zip_fclose);
    // Decompresses only as far as read_npy asks: never past the array the
    // header describes (plus one byte to detect excess); libzip checks the
    // CRC when the end is reached.
    const ReadFn read = [&](char* dst, std::size_t len) -> std::size_t {
      const zip_int64_t got = zip_fread(zf, dst, len);
      if (got < 0) {
        throw IOError("load: " + member + " is corrupt or truncated: " + zip_file_strerror(zf));
      }
      return static_cast<std::size_t>(got);
    };
    out.emplace_back(
        key, read_npy<T>(read, "member \"" + key + "\" of \"" + path + "\"", st.size, st.size));
  }
  return out;
}

#define XGRAD_INSTANTIATE(T)                                                   \
  template std::string to_npy_bytes<T>(const xt::xarray<T>&);                  \
  template xt::xarray<T> parse_npy<T>(const std::string&, const std::string&); \
  template void save<T>(const StateDict<T>&, const std::string&);              \
  template StateDict<T> load_state_dict_file<T>(const std::string&);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad
