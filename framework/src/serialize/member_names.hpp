// Checkpoint keys as zip member names: the one rule that save and load share
// (messages show a name through printable, errors.hpp).
#pragma once

#include <cstddef>
#include <string>

namespace xgrad::detail {

// A zip member name holds at most 65535 bytes, ".npy" included.
constexpr std::size_t kMaxKeyBytes = 65535 - 4;

// Why `key` cannot be a checkpoint member name, or "" when it can. The same
// rule on save and load, so whatever saves also loads, under the same key.
std::string bad_key_reason(const std::string& key);

}  // namespace xgrad::detail
