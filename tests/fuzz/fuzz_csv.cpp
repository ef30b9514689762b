// libFuzzer harness: the CSV reader from arbitrary bytes. The first byte
// picks plain or gzip-compressed, a header line or not, and the label column;
// the second the delimiter; the rest is the file, read as float and double.
// Anything but success or an xgrad::Error is a finding.
#include <cstdint>
#include <cstdio>

#include "fuzz_datasets.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const std::string path = xgrad_fuzz::scratch_path("csv");
  const std::uint8_t flags = data[0];
  xgrad_fuzz::write_file(path, data + 2, size - 2, (flags & 1) != 0);
  xgrad::data::CsvOptions options;
  options.set_header((flags & 2) != 0)
      .set_label_column(static_cast<std::ptrdiff_t>(flags >> 2) - 32)  // -32..31
      .set_delimiter(static_cast<char>(data[1]));
  try {
    xgrad::data::load_csv<float>(path, options);
  } catch (const xgrad::Error&) {
  }
  try {
    xgrad::data::load_csv<double>(path, options);
  } catch (const xgrad::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
