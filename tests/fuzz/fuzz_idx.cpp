// libFuzzer harness: the IDX reader (MNIST's format) from arbitrary bytes.
// The first byte picks plain or gzip-compressed; the rest is the file, read
// as float and as double and, as images and labels, by load_idx. Anything but
// success or an xgrad::Error is a finding (ASan/UBSan report memory errors and
// UB, libFuzzer leaks, -rss_limit_mb memory beyond what the header declares).
#include <cstdint>
#include <cstdio>

#include "fuzz_datasets.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::string path = xgrad_fuzz::scratch_path("idx");
  xgrad_fuzz::write_file(path, data + 1, size - 1, (data[0] & 1) != 0);
  try {
    xgrad::data::read_idx<float>(path);
  } catch (const xgrad::Error&) {
  }
  try {
    xgrad::data::read_idx<double>(path);
  } catch (const xgrad::Error&) {
  }
  try {
    xgrad::data::load_idx<float>(path, path);
  } catch (const xgrad::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
