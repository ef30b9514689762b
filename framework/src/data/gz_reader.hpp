// Reads a file that may be gzip-compressed (zlib passes plain files through
// unchanged), with errors that name the caller, the file and the problem.
// Private to src/data.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
  // corrupt or truncated gzip stream. A reader uses read or read_line, not both.
  std::size_t read(void* buf, std::size_t n);
  // The next line, every byte of it ('\0' included) without its "\n" or
  // "\r\n"; false at the end of the data. IOError naming the line once it
  // is longer than max_bytes: `line` never grows past that.
  bool read_line(std::string* line, std::size_t max_bytes);
  // Lines read_line has returned so far: the number of the last one.
  std::size_t line_number() const { return lines_; }

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
  // read_line's buffer: bytes [begin_, end_) are read and not yet returned.
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0, lines_ = 0;
};

}  // namespace xgrad::data::detail
