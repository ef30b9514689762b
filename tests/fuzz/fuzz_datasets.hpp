// What the dataset harnesses share (private to tests/fuzz): the fuzzer's
// bytes as a file, plain or gzip-compressed, that a reader then opens.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace xgrad_fuzz {

// A scratch file of this process: `name` plus the pid, in /tmp.
inline std::string scratch_path(const std::string& name) {
  return "/tmp/xgrad-fuzz-" + name + "-" + std::to_string(::getpid());
}

// Writes `size` bytes to `path`: as they are, or through gzip, so that the
// fuzzer reaches the parser behind zlib as well as zlib's own checks.
inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size,
                       bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb1");
    if (f == nullptr) return;
    if (size) gzwrite(f, data, static_cast<unsigned>(size));
    gzclose(f);
  } else {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
}

}  // namespace xgrad_fuzz
