#include "member_names.hpp"

#include <cstdio>

#include "xgrad/errors.hpp"

namespace xgrad::detail {

std::string bad_key_reason(const std::string& key) {
  if (key.empty()) return "is empty";
  if (key.find('\0') != std::string::npos) return "contains a '\\0' byte";
  // Keys become member names: a path separator or ".." would let an unzip of
  // the checkpoint write outside its directory.
  if (key.find_first_of("/\\") != std::string::npos) return "contains a path separator";
  if ((key + ".npy").find("..") != std::string::npos)
    return "makes a member name with \"..\" (\"" + key + ".npy\")";
  if (key.size() > kMaxKeyBytes)
    return format_message("is ", key.size(), " bytes long (at most ", kMaxKeyBytes, ")");
  return "";
}

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

}  // namespace xgrad::detail
