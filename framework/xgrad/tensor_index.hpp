// The index terms of Tensor::index and index_put_, spelled as libtorch's
// torch::indexing: an integer (selects, removing the axis), Slice(start, stop,
// step) (Python's start:stop:step; None for a default bound), None (inserts
// an axis of extent 1) and Ellipsis or "..." (as many full slices as needed):
//
//   using namespace xgrad::indexing;
//   t.index({0, Slice(1, None), None, Ellipsis});   // t[0, 1:, None, ...]
#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

namespace xgrad::indexing {

// libtorch's None is c10::nullopt; here it is std::nullopt.
inline constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType {};
inline constexpr EllipsisIndexType Ellipsis{};

// Python's start:stop:step. A missing start / stop means the whole extent;
// negative bounds count from the end and are then clamped to the extent;
// step must be >= 1 (checked by index: ValueError).
struct Slice {
  Slice(std::optional<std::int64_t> start = None, std::optional<std::int64_t> stop = None,
        std::optional<std::int64_t> step = None)
      : start(start), stop(stop), step(step) {}
  std::optional<std::int64_t> start, stop, step;
};

// One term of an index list.
class TensorIndex {
 public:
  enum class Kind { integer, slice, none, ellipsis };

  template <class I,
            std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value, int> = 0>
  TensorIndex(I i) : kind_(Kind::integer), integer_(static_cast<std::int64_t>(i)) {}  // NOLINT
  TensorIndex(bool) = delete;  // libtorch's boolean index (a mask) is not supported
  TensorIndex(Slice s) : kind_(Kind::slice), slice_(s) {}    // NOLINT
  TensorIndex(std::nullopt_t) : kind_(Kind::none) {}         // NOLINT
  TensorIndex(EllipsisIndexType) : kind_(Kind::ellipsis) {}  // NOLINT
  // "..." as libtorch accepts it; any other text is a ValueError.
  TensorIndex(const char* text);  // NOLINT

  Kind kind() const { return kind_; }
  std::int64_t integer() const { return integer_; }
  const Slice& slice() const { return slice_; }

 private:
  Kind kind_;
  std::int64_t integer_ = 0;
  Slice slice_;
};

}  // namespace xgrad::indexing
