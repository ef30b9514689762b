#include "member_names.hpp"

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

}  // namespace xgrad::detail
