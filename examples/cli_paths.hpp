// CLI11 validators for the examples' output paths, so that a path that cannot
// be written is rejected while parsing the arguments, before any work.
#pragma once

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

namespace examples {

// A file that can be created or overwritten: not a directory, and its
// directory exists and is writable.
inline CLI::Validator writable_file() {
  return CLI::Validator(
      [](std::string& path) -> std::string {
        namespace fs = std::filesystem;
        std::error_code ec;
        if (path.empty()) return "the path is empty";
        if (fs::is_directory(path, ec)) return "'" + path + "' is a directory";
        fs::path dir = fs::path(path).parent_path();
        if (dir.empty()) dir = ".";
        if (!fs::is_directory(dir, ec)) return "directory '" + dir.string() + "' does not exist";
        if (::access(dir.c_str(), W_OK) != 0) {
          return "directory '" + dir.string() + "' is not writable";
        }
        if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) {
          return "'" + path + "' is not writable";
        }
        return std::string();
      },
      "FILE (writable)");
}

// An existing, writable directory.
inline CLI::Validator writable_directory() {
  return CLI::Validator(
      [](std::string& path) -> std::string {
        std::error_code ec;
        if (!std::filesystem::is_directory(path, ec)) {
          return "directory '" + path + "' does not exist";
        }
        if (::access(path.c_str(), W_OK) != 0) return "directory '" + path + "' is not writable";
        return std::string();
      },
      "DIR (writable)");
}

}  // namespace examples
