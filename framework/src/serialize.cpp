#include "xgrad/serialize.hpp"

#include <unistd.h>
#include <zip.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>

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

std::uint32_t read_le(const std::string& b, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

const char kMagic[] = "\x93NUMPY";  // 6 bytes

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

std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
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
  const std::string where = "load: " + what;
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) {
    throw IOError(where + " is not a .npy array (bad magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t len_size = 0;
  if (major == 1) {
    len_size = 2;
  } else if (major == 2 || major == 3) {
    len_size = 4;
  } else {
    throw IOError(where + " has unsupported .npy version " + std::to_string(major));
  }
  if (bytes.size() < 8 + len_size) throw IOError(where + " is truncated (header length)");
  const std::size_t header_len = read_le(bytes, 8, len_size);
  const std::size_t data_offset = 8 + len_size + header_len;
  if (bytes.size() < data_offset) throw IOError(where + " is truncated (header)");
  const NpyHeader h = parse_header(bytes.substr(8 + len_size, header_len), what);

  if (h.descr != descr_of<T>()) {
    throw TypeError(where + " has dtype " + dtype_name(h.descr) + " ('" + h.descr +
                    "'), expected " + (sizeof(T) == 4 ? "float32 ('<f4')" : "float64 ('<f8')"));
  }
  std::size_t count = 1;
  for (std::size_t e : h.shape) {
    // Also each extent on its own (numpy's limit): with a zero extent elsewhere
    // the product stays 0, but shape arithmetic in ptrdiff_t would overflow.
    if (e > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) ||
        (e != 0 && count > std::numeric_limits<std::size_t>::max() / sizeof(T) / e)) {
      throw IOError(where + " has an impossible shape " + to_string(h.shape));
    }
    count *= e;
  }
  const std::size_t expected = count * sizeof(T);
  if (bytes.size() - data_offset != expected) {
    throw IOError(where + " has " + std::to_string(bytes.size() - data_offset) +
                  " data bytes, shape " + to_string(h.shape) + " needs " +
                  std::to_string(expected));
  }
  xt::xarray<T> out = xt::xarray<T>::from_shape(h.shape);
  if (!h.fortran_order) {
    if (count) std::memcpy(out.data(), bytes.data() + data_offset, expected);
    return out;
  }
  xt::xarray<T, xt::layout_type::column_major> f =
      xt::xarray<T, xt::layout_type::column_major>::from_shape(h.shape);
  if (count) std::memcpy(f.data(), bytes.data() + data_offset, expected);
  out = f;
  return out;
}

template <class T>
void save(const StateDict<T>& dict, const std::string& path) {
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::string>> members;
  members.reserve(dict.size());
  for (const auto& kv : dict) {
    if (kv.first.empty()) throw ValueError("save: a state dict key is empty");
    // Keys become member names: a path separator or ".." would let an unzip
    // of the checkpoint write outside its directory.
    if (kv.first.find_first_of("/\\") != std::string::npos ||
        kv.first.find("..") != std::string::npos) {
      throw ValueError("save: key \"" + kv.first +
                       "\" contains a path separator or \"..\" (not allowed in a member name)");
    }
    if (!names.insert(kv.first).second) {
      throw ValueError("save: key \"" + kv.first + "\" appears more than once");
    }
    members.emplace_back(kv.first, to_npy_bytes(kv.second));
  }
  const std::string tmp = temporary_name(path);
  try {
    if (members.empty()) {
      write_empty_zip(tmp);
    } else {
      write_zip(members, tmp, path);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw IOError("save: cannot rename the temporary file to \"" + path +
                    "\": " + std::strerror(errno));
    }
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

template <class T>
StateDict<T> load_state_dict_file(const std::string& path) {
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!za) throw IOError("load: cannot open \"" + path + "\": " + zip_message(code));
  // Closes the archive on every path out (zip_discard: nothing to write back).
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(za, [](zip_t* z) { zip_discard(z); });

  StateDict<T> out;
  std::set<std::string> keys;
  const zip_int64_t n = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME)) {
      throw IOError("load: \"" + path + "\": cannot read member " + std::to_string(i) + ": " +
                    zip_strerror(za));
    }
    const std::string name = st.name;
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      throw IOError("load: \"" + path + "\": member \"" + name + "\" is not a .npy file");
    }
    const std::string key = name.substr(0, name.size() - 4);
    if (!keys.insert(key).second) {
      throw IOError("load: \"" + path + "\": member \"" + name + "\" appears more than once");
    }
    zip_file_t* zf = zip_fopen_index(za, static_cast<zip_uint64_t>(i), 0);
    if (!zf) {
      throw IOError("load: \"" + path + "\": cannot open member \"" + name +
                    "\": " + zip_strerror(za));
    }
    // Read in chunks rather than trusting the (possibly corrupt) declared
    // size for one big allocation; libzip checks the CRC at the end.
    std::string bytes;
    char chunk[1 << 16];
    zip_int64_t got = 0;
    bool bad = false;
    while ((got = zip_fread(zf, chunk, sizeof chunk)) > 0) {
      bytes.append(chunk, static_cast<std::size_t>(got));
      if ((st.valid & ZIP_STAT_SIZE) && bytes.size() > st.size) {
        bad = true;
        break;
      }
    }
    std::string why = got < 0 ? zip_file_strerror(zf) : "";
    if (zip_fclose(zf) != 0 && why.empty()) why = "close failed";
    if (got < 0 || bad || !why.empty() || ((st.valid & ZIP_STAT_SIZE) && bytes.size() != st.size)) {
      throw IOError("load: \"" + path + "\": member \"" + name + "\" is corrupt or truncated" +
                    (why.empty() ? std::string() : ": " + why));
    }
    out.emplace_back(key, parse_npy<T>(bytes, "member \"" + key + "\" of \"" + path + "\""));
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
