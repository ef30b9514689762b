#include "zip_archive.hpp"

#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "../deflate_ratio.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::detail {

namespace {

std::string zip_message(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string msg = zip_error_strerror(&e);
  zip_error_fini(&e);
  return msg;
}

// An empty zip archive: just the end-of-central-directory record. libzip
// refuses to write an archive without members (it deletes the file instead).
void write_empty_zip(const std::string& file, const std::string& path) {
  const char eocd[22] = {0x50, 0x4b, 0x05, 0x06};  // signature, then 18 zero bytes
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(eocd, sizeof eocd);
  out.close();
  XGRAD_CHECK(out, IOError, "save: cannot write \"", path, "\"");
}

}  // namespace

// ---- writing ----

void write_zip(const std::vector<std::pair<std::string, std::string>>& members,
               const std::string& file, const std::string& path) {
  if (members.empty()) return write_empty_zip(file, path);
  int code = 0;
  zip_t* za = zip_open(file.c_str(), ZIP_CREATE | ZIP_EXCL, &code);
  XGRAD_CHECK(za, IOError, "save: cannot create \"", path, "\": ", zip_message(code));
  for (const auto& m : members) {
    // The buffers stay alive until zip_close, which is when libzip reads them.
    zip_source_t* src = zip_source_buffer(za, m.second.data(), m.second.size(), 0);
    zip_int64_t idx = src ? zip_file_add(za, m.first.c_str(), src, ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
      const std::string msg = zip_strerror(za);
      if (src) zip_source_free(src);
      zip_discard(za);
      throw_error<IOError>("save: cannot add \"", m.first, "\" to \"", path, "\": ", msg);
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  if (zip_close(za) != 0) {
    const std::string msg = zip_strerror(za);
    zip_discard(za);
    throw_error<IOError>("save: cannot write \"", path, "\": ", msg);
  }
}

// ---- reading ----

ZipReader::ZipReader(const std::string& path) : path_(path) {
  std::error_code ec;
  file_size_ = std::filesystem::file_size(path, ec);
  file_size_known_ = !ec;
  int code = 0;
  archive_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  XGRAD_CHECK(archive_, IOError, "load: cannot open \"", path, "\": ", zip_message(code));
  const zip_int64_t n = zip_get_num_entries(archive_, 0);
  size_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  // Each member is checked alone in open(); together, members whose data
  // overlap (a directory pointing several entries into the same bytes) would
  // multiply what a small file loads. Distinct members occupy distinct bytes,
  // so their stored sizes add up to at most the file's size.
  if (!file_size_known_) return;
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive_, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_COMP_SIZE))
      continue;  // entry() reports it
    stored += std::min<std::uint64_t>(st.comp_size, file_size_ + 1);
    if (stored > file_size_) {
      zip_discard(archive_);
      throw_error<IOError>("load: \"", path, "\": the stored sizes of members 0 to ", i,
                           " add up to more than the file's ", file_size_,
                           " bytes: members overlap (corrupt)");
    }
  }
}

// zip_discard: nothing to write back.
ZipReader::~ZipReader() { zip_discard(archive_); }

ZipReader::Entry ZipReader::entry(std::size_t i) const {
  const std::string at = format_message("\"", path_, "\": member ", i);
  zip_stat_t st;
  constexpr zip_uint64_t kNeeded =
      ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
  const bool stat_ok = zip_stat_index(archive_, static_cast<zip_uint64_t>(i), 0, &st) == 0 &&
                       (st.valid & kNeeded) == kNeeded;
  XGRAD_CHECK(stat_ok, IOError, "load: ", at,
              ": cannot read its directory entry: ", zip_strerror(archive_));
  Entry e;
  e.index = i;
  e.name = st.name;
  e.label = format_message(at, " (\"", printable(e.name), "\")");
  e.size = st.size;
  e.stored_size = st.comp_size;
  e.method = st.comp_method;
  return e;
}

ReadFn ZipReader::open(const Entry& e) const {
  // The most data the member can hold: its stored bytes (which must lie in
  // the file), expanded by at most deflate's ratio.
  std::uint64_t max_bytes = 0;
  if (e.method == ZIP_CM_STORE) {
    max_bytes = e.stored_size;
  } else if (e.method == ZIP_CM_DEFLATE) {
    max_bytes = max_inflated_size(e.stored_size);
  } else {
    throw_error<IOError>("load: ", e.label, " uses compression method ", e.method,
                         " (only stored and deflated are read)");
  }
  const bool in_file = !file_size_known_ || e.stored_size <= file_size_;
  XGRAD_CHECK(in_file && e.size <= max_bytes, IOError, "load: ", e.label, " declares ", e.size,
              " bytes from ", e.stored_size, " stored: corrupt");
  XGRAD_CHECK(e.size != 0, IOError, "load: ", e.label, " is empty");

  zip_file_t* zf = zip_fopen_index(archive_, static_cast<zip_uint64_t>(e.index), 0);
  XGRAD_CHECK(zf, IOError, "load: cannot open ", e.label, ": ", zip_strerror(archive_));
  const std::shared_ptr<zip_file_t> file(zf, zip_fclose);
  const std::string label = e.label;
  return [file, label](char* dst, std::size_t len) -> std::size_t {
    const zip_int64_t got = zip_fread(file.get(), dst, len);
    XGRAD_CHECK(got >= 0, IOError, "load: ", label,
                " is corrupt or truncated: ", zip_file_strerror(file.get()));
    return static_cast<std::size_t>(got);
  };
}

}  // namespace xgrad::detail
