#include "gz_reader.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "xgrad/errors.hpp"

namespace xgrad::data::detail {

GzReader::GzReader(std::string op, std::string path, const std::string& missing_hint)
    : op_(std::move(op)), path_(std::move(path)) {
  std::error_code ec;
  const auto status = std::filesystem::status(path_, ec);
  XGRAD_CHECK(std::filesystem::exists(status), IOError, where(), "no such file",
              (missing_hint.empty() ? "" : "; " + missing_hint));
  XGRAD_CHECK(!std::filesystem::is_directory(status), IOError, where(),
              "is a directory, not a file");
  if (std::filesystem::is_regular_file(status)) file_size_ = std::filesystem::file_size(path_, ec);
  if (ec) file_size_ = 0;
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  XGRAD_CHECK(file_ != nullptr, IOError, where(), "cannot open (",
              (errno != 0 ? std::strerror(errno) : "out of memory"), ")");
  gzbuffer(file_, 1 << 17);
}

GzReader::~GzReader() {
  if (file_ != nullptr) gzclose(file_);
}

std::size_t GzReader::read(void* buf, std::size_t n) {
  auto* out = static_cast<unsigned char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, INT_MAX / 2));
    const int got = gzread(file_, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(file_, &code);
      throw_error<IOError>(where(), "corrupt gzip data (", msg, ")");
    }
    done += static_cast<std::size_t>(got);
    if (static_cast<unsigned>(got) < chunk) break;
  }
  if (done < n) {
    // A gzip stream cut short reads as an early end with Z_BUF_ERROR set.
    int code = 0;
    const char* msg = gzerror(file_, &code);
    XGRAD_CHECK(code == Z_OK, IOError, where(), "truncated or corrupt gzip data (", msg, ")");
  }
  return done;
}

bool GzReader::read_line(std::string* line) {
  line->clear();
  char buf[4096];
  bool any = false;
  while (gzgets(file_, buf, sizeof buf) != nullptr) {
    any = true;
    line->append(buf);
    if (!line->empty() && line->back() == '\n') break;
  }
  int code = 0;
  const char* msg = gzerror(file_, &code);
  XGRAD_CHECK(code == Z_OK || code == Z_STREAM_END, IOError, where(),
              "truncated or corrupt gzip data (", msg, ")");
  if (!line->empty() && line->back() == '\n') line->pop_back();
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return any;
}

}  // namespace xgrad::data::detail
