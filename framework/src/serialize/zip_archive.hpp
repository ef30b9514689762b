// Zip archives through libzip: writing named byte buffers, and reading
// members in bounded chunks, each member's declared sizes checked against the
// file before a byte of it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "npy.hpp"  // ReadFn

struct zip;  // libzip's zip_t

namespace xgrad::detail {

// Writes the zip file `file` holding `members` (name, bytes), stored
// uncompressed, like np.savez (fast, and the bytes stay inspectable); with no
// members, an empty archive. IOError messages name `path`, the file the user
// asked for (`file` may be its temporary).
void write_zip(const std::vector<std::pair<std::string, std::string>>& members,
               const std::string& file, const std::string& path);

// A zip archive open for reading; messages say "load: ...".
class ZipReader {
 public:
  // One directory entry. `label` names it in messages:
  // "\"<path>\": member <index> (\"<name>\")", the name made printable.
  struct Entry {
    std::size_t index = 0;
    std::string name, label;
    std::uint64_t size = 0;         // declared uncompressed size
    std::uint64_t stored_size = 0;  // compressed size in the file
    int method = 0;                 // compression method
  };

  // IOError when the file cannot be opened as a zip archive.
  explicit ZipReader(const std::string& path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  std::size_t size() const { return size_; }
  // IOError when the directory entry of member i cannot be read.
  Entry entry(std::size_t i) const;
  // The bytes of e, decompressed only as far as they are read; libzip checks
  // the CRC at the end. IOError unless e is stored or deflated, non-empty, and
  // its declared sizes fit in the file (deflate expands at most 1032:1); the
  // reader throws IOError on corrupt or truncated data.
  ReadFn open(const Entry& e) const;

 private:
  std::string path_;
  zip* archive_ = nullptr;
  std::size_t size_ = 0;
  std::uintmax_t file_size_ = 0;
  bool file_size_known_ = false;
};

}  // namespace xgrad::detail
