// Reads typed values off a fuzzer's byte string (private to tests/fuzz):
// every read succeeds, returning zeros once the bytes run out, so a harness
// never needs to check sizes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xgrad_fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // A value in [0, n) (n >= 1).
  std::size_t below(std::size_t n) { return n ? byte() % n : 0; }
  template <class V>
  V raw() {
    V v{};
    unsigned char buf[sizeof(V)] = {};
    for (auto& c : buf) c = byte();
    std::memcpy(&v, buf, sizeof v);
    return v;
  }
  // Mostly ordinary numbers, sometimes any bit pattern (NaN, inf, subnormals).
  double number() {
    const std::uint8_t kind = byte();
    if (kind < 200) return (static_cast<int>(byte()) - 128) / 16.0;
    if (kind < 230) return raw<float>();
    return raw<double>();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace xgrad_fuzz
