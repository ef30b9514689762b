// Replacing a file all at once (internal; checkpoints and ONNX export use it): the new content goes
// to a temporary file in the target's directory, "<target>.tmp-<host>-<pid>-<n>", which is then
// renamed over the target, so a crash or error never leaves a half-written
// file. A writer killed mid-write (SIGKILL, power loss) leaves its temporary
// file (or libzip's "<that name>.XXXXXX" when killed inside zip_close): the
// next replacement of the same target removes those of this host whose
// process no longer runs.
#pragma once

#include <functional>
#include <string>

namespace xgrad::detail {

// Calls write(temporary path), then renames the temporary file to `path`.
// IOError (messages naming `op` and `path`) when the rename fails; on any
// error the temporary file is removed and the target left as it was.
void replace_file(const std::string& path, const char* op,
                  const std::function<void(const std::string& temporary)>& write);

// replace_file with a writer of `bytes` (a file it creates itself, never one
// that exists): IOError naming `op` and `path` when the file cannot be
// created or written completely.
void replace_file_with_bytes(const std::string& path, const char* op, const std::string& bytes);

// "<path>.tmp-<host>-": the prefix of the temporary files of replacements of
// `path` from this host (a '/' or a backslash in the host name becomes '_'); the pid
// and a counter follow.
std::string temporary_prefix(const std::string& path);

}  // namespace xgrad::detail
