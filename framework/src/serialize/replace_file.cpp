#include "xgrad/detail/replace_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "xgrad/errors.hpp"

namespace xgrad::detail {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "host";
  std::string h = buf;
  for (char& c : h)
    if (c == '/' || c == '\\') c = '_';
  return h;
}

}  // namespace

std::string temporary_prefix(const std::string& path) { return path + ".tmp-" + host_name() + "-"; }

namespace {

std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return format_message(temporary_prefix(path), ::getpid(), "-", counter++);
}

// Removes the temporary files of `path` whose process (same host, pid no
// longer running) is gone. Best effort: never fails the save.
void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = fs::path(temporary_prefix(path)).filename().string();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // The rest must be "<pid>-<counter>", all digits, optionally followed by
    // ".XXXXXX": libzip's zip_close writes the archive to "<our name>.XXXXXX"
    // (mkstemp-style letters and digits) and renames it to our name, so a
    // save killed inside zip_close leaves a file of that name.
    std::string rest = name.substr(prefix.size());
    const std::size_t dot = rest.find('.');
    if (dot != std::string::npos) {
      const std::string letters = rest.substr(dot + 1);
      const bool libzip_suffix = !letters.empty() && letters.size() <= 16 &&
                                 std::all_of(letters.begin(), letters.end(), [](char c) {
                                   return std::isalnum(static_cast<unsigned char>(c)) != 0;
                                 });
      if (!libzip_suffix) continue;
      rest.resize(dot);
    }
    const std::size_t dash = rest.find('-');
    auto digits = [](const std::string& s) {
      return !s.empty() && s.size() < 19 &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (dash == std::string::npos || !digits(rest.substr(0, dash)) ||
        !digits(rest.substr(dash + 1)))
      continue;
    const long long pid = std::stoll(rest.substr(0, dash));
    if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive, or unknown
    std::error_code ignored;
    fs::remove(it->path(), ignored);
  }
}

}  // namespace

void replace_file(const std::string& path, const char* op,
                  const std::function<void(const std::string& temporary)>& write) {
  remove_stale_temporaries(path);
  const std::string tmp = temporary_name(path);
  try {
    write(tmp);
    XGRAD_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, IOError, op,
                ": cannot rename the temporary file to \"", path, "\": ", std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

void replace_file_with_bytes(const std::string& path, const char* op, const std::string& bytes) {
  replace_file(path, op, [&](const std::string& tmp) {
    // O_EXCL: never write through a file (or link) someone else made.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    XGRAD_CHECK(fd >= 0, IOError, op, ": cannot create \"", path, "\": ", std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : EIO;
        ::close(fd);
        throw_error<IOError>(op, ": cannot write \"", path, "\": ", std::strerror(err));
      }
      done += static_cast<std::size_t>(n);
    }
    XGRAD_CHECK(::close(fd) == 0, IOError, op, ": cannot write \"", path,
                "\": ", std::strerror(errno));
  });
}

}  // namespace xgrad::detail
