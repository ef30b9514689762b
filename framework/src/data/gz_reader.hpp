// Reads a file that may be gzip-compressed (zlib passes plain files through
// unchanged), with errors that name the caller, the file and the problem.
// Private to src/data.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xgrad::data::detail {

class GzReader {
 public:
  // IOError when the file is missing (with `missing_hint`, e.g. the command
  // that installs it), is a directory or cannot be opened. `op` prefixes
  // every message ("read_idx").
  GzReader(std::string op, std::string path, const std::string& missing_hint = "");
  ~GzReader();
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Up to n bytes into buf; fewer only at the end of the data. IOError on a
  // corrupt or truncated gzip stream.
  std::size_t read(void* buf, std::size_t n);
  // The next line without its "\n" or "\r\n"; false at the end of the data.
  bool read_line(std::string* line);

  // Whether the file is gzip data (false: a plain file, passed through).
  bool compressed() const { return gzdirect(file_) == 0; }
  // The file's size on disk, or 0 when it is not a regular file (a pipe).
  std::uint64_t file_size() const { return file_size_; }

  // "op: \"path\": " for messages.
  std::string where() const { return op_ + ": \"" + path_ + "\": "; }
  const std::string& path() const { return path_; }

 private:
  std::string op_, path_;
  gzFile file_ = nullptr;
  std::uint64_t file_size_ = 0;
};

}  // namespace xgrad::data::detail
