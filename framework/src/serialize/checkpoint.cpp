// Checkpoints (serialize.hpp): a state dict as a zip of .npy members, one per
// key, written through a temporary file and read member by member.
#include <algorithm>
#include <set>

#include "member_names.hpp"
#include "npy.hpp"
#include "xgrad/detail/replace_file.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/serialize.hpp"
#include "zip_archive.hpp"

namespace xgrad {

namespace {

const char kSuffix[] = ".npy";
constexpr std::size_t kSuffixSize = sizeof kSuffix - 1;

}  // namespace

template <class T>
void save(const StateDict<T>& dict, const std::string& path) {
  save(dict, path, {});
}

template <class T>
void save(const StateDict<T>& dict, const std::string& path,
          const std::vector<std::string>& uint8_keys) {
  const std::set<std::string> bytes(uint8_keys.begin(), uint8_keys.end());
  for (const auto& key : bytes) {
    const bool known =
        std::any_of(dict.begin(), dict.end(), [&key](const auto& kv) { return kv.first == key; });
    XGRAD_CHECK(known, ValueError, "save: uint8 key \"", printable(key),
                "\" is not a key of the state dict");
  }
  std::set<std::string> names;
  std::vector<std::pair<std::string, std::string>> members;
  members.reserve(dict.size());
  for (const auto& kv : dict) {
    const std::string why = detail::bad_key_reason(kv.first);
    XGRAD_CHECK(why.empty(), ValueError, "save: key \"", printable(kv.first), "\" ", why);
    XGRAD_CHECK(names.insert(kv.first).second, ValueError, "save: key \"", printable(kv.first),
                "\" appears more than once");
    members.emplace_back(kv.first + kSuffix,
                         bytes.count(kv.first)
                             ? detail::to_npy_uint8_bytes(kv.second, "key \"" + kv.first + "\"")
                             : to_npy_bytes(kv.second));
  }
  detail::replace_file(path, "save", [&](const std::string& temporary) {
    detail::write_zip(members, temporary, path);
  });
}

template <class T>
StateDict<T> load_state_dict_file(const std::string& path) {
  const detail::ZipReader zip(path);
  StateDict<T> out;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < zip.size(); ++i) {
    const detail::ZipReader::Entry e = zip.entry(i);
    const std::string& name = e.name;
    XGRAD_CHECK(name.size() > kSuffixSize &&
                    name.compare(name.size() - kSuffixSize, kSuffixSize, kSuffix) == 0,
                IOError, "load: ", e.label, " is not a .npy file");
    const std::string key = name.substr(0, name.size() - kSuffixSize);
    const std::string why = detail::bad_key_reason(key);
    XGRAD_CHECK(why.empty(), IOError, "load: ", e.label, ": its key ", why);
    XGRAD_CHECK(keys.insert(key).second, IOError, "load: ", e.label, " appears more than once");
    // Decompresses only as far as read_npy asks: never past the array the
    // header describes (plus one byte to detect excess).
    const detail::ReadFn read = zip.open(e);
    out.emplace_back(key, detail::read_npy<T>(read, "member \"" + key + "\" of \"" + path + "\"",
                                              e.size, e.size));
  }
  return out;
}

template void save<float>(const StateDict<float>&, const std::string&);
template void save<double>(const StateDict<double>&, const std::string&);
template void save<float>(const StateDict<float>&, const std::string&,
                          const std::vector<std::string>&);
template void save<double>(const StateDict<double>&, const std::string&,
                           const std::vector<std::string>&);
template StateDict<float> load_state_dict_file<float>(const std::string&);
template StateDict<double> load_state_dict_file<double>(const std::string&);

}  // namespace xgrad
