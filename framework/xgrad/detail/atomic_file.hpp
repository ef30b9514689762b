// Writing a file so that readers see the old file or the whole new one, never
// a half-written one (internal; checkpoints and ONNX export use it).
#pragma once

#include <functional>
#include <string>

namespace xgrad {
namespace detail {

// Calls write(tmp) to create a temporary file `tmp` beside `path`, then
// renames it to `path`. When write throws, or the rename fails (IOError
// naming `op` and `path`), the temporary file is removed and `path` is left as
// it was. Temporary files that a killed process left for the same `path`
// (same host, pid no longer running) are removed first, best effort.
void replace_file(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                  const std::string& op);

// replace_file with a writer of `bytes`: IOError naming `op` and `path` when
// the file cannot be created or written completely.
void replace_file_with_bytes(const std::string& path, const std::string& bytes,
                             const std::string& op);

}  // namespace detail
}  // namespace xgrad
