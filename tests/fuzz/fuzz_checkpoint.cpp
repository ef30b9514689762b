// libFuzzer harness: checkpoint loading from arbitrary bytes. The bytes are
// written to a file and loaded as float and as double, and parsed as a bare
// .npy member; anything but success or an xgrad::Error (IOError, TypeError)
// is a finding (ASan/UBSan report memory errors and UB, libFuzzer leaks,
// -rss_limit_mb unbounded memory).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "xgrad/errors.hpp"
#include "xgrad/serialize.hpp"

namespace {

const std::string& scratch_path() {
  static const std::string path = "/tmp/xgrad-fuzz-checkpoint-" + std::to_string(::getpid());
  return path;
}

template <class T>
void load_both_ways(const std::string& bytes) {
  try {
    xgrad::load_state_dict_file<T>(scratch_path());
  } catch (const xgrad::Error&) {
  }
  try {
    xgrad::parse_npy<T>(bytes, "fuzz");
  } catch (const xgrad::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  load_both_ways<float>(bytes);
  load_both_ways<double>(bytes);
  std::remove(scratch_path().c_str());
  return 0;
}
