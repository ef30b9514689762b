#include "gz_reader.hpp"

#include <algorithm>
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

bool GzReader::read_line(std::string* line, std::size_t max_bytes) {
  line->clear();
  if (buffer_.empty()) buffer_.resize(std::size_t{1} << 16);
  bool any = false;
  for (;;) {
    if (begin_ == end_) {
      begin_ = 0;
      end_ = read(buffer_.data(), buffer_.size());
      if (end_ == 0) break;
    }
    any = true;
    const char* start = buffer_.data() + begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    const std::size_t take = newline ? static_cast<std::size_t>(newline - start) : end_ - begin_;
    XGRAD_CHECK(take <= max_bytes - line->size(), IOError, where(), "line ", lines_ + 1,
                " is longer than ", max_bytes, " bytes (the most a line may hold)");
    // Grow by doubling, but never past max_bytes.
    if (line->size() + take > line->capacity())
      line->reserve(std::min(max_bytes, std::max(line->size() + take, 2 * line->capacity())));
    line->append(start, take);
    begin_ += take;
    if (newline) {
      ++begin_;
      break;
    }
  }
  if (!any) return false;
  ++lines_;
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

}  // namespace xgrad::data::detail
