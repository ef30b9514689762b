// The number formats of error messages (errors.hpp): integers in decimal,
// floating point as the shortest text that reads back as the same value.
#include "xgrad/errors.hpp"

#include <charconv>
#include <cstdio>

namespace xgrad::detail {

namespace {

template <class T>
void append_chars(std::string& out, T v) {
  char buf[64];  // the longest double, "-2.2250738585072014e-308", needs 24
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

void append_integer(std::string& out, long long v) { append_chars(out, v); }
void append_integer(std::string& out, unsigned long long v) { append_chars(out, v); }
// Shortest round trip in the value's own type: 0.1f is "0.1", not the
// "0.100000001" of its double.
void append_float(std::string& out, float v) { append_chars(out, v); }
void append_float(std::string& out, double v) { append_chars(out, v); }

}  // namespace xgrad::detail

namespace xgrad {

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += text[i];
    }
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

}  // namespace xgrad
