// The exceptions xgrad throws, and the one way to raise them. Every message
// names the operation, the argument and the offending value or shape, so a
// user can act on it without a debugger.
//
//   XGRAD_CHECK(p >= 0 && p < 1, ValueError, "dropout: p must be in [0, 1), got ", p);
//   throw_error<ShapeError>("concat: tensor ", i, " has shape ", s);
//
// XGRAD_CHECK throws when its condition is false; its message parts are
// evaluated and formatted only then. throw_error throws unconditionally, and
// format_message returns the text. One formatter serves every part:
//   - text (string literals, std::string, std::string_view, char) as it is;
//   - bool as true or false; integers and enums in decimal;
//   - floating point as the shortest text that reads back as the same value of
//     its own type: 0.5 -> "0.5", 0.1f -> "0.1", 1e30 -> "1e+30", nan, -inf;
//   - a range of parts (Shape, std::vector<std::int64_t>, ...) as "[2, 3]";
//   - any other type through the to_string(value) of its namespace
//     (Size2 -> "[1, 2]").
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace xgrad {

// ---- the error types ----

// Base of everything xgrad throws on bad input or bad use.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Shapes that do not broadcast, wrong ranks, bad axes, non-scalar item().
struct ShapeError : Error {
  using Error::Error;
};

// A value out of its domain: bad sizes, NaN where a number is needed,
// invalid hyper-parameters, codes outside a level set.
struct ValueError : Error {
  using Error::Error;
};

// An object used in the wrong state: backward through a released graph, a saved
// tensor modified in place, qparams requested before anything was observed.
struct StateError : Error {
  using Error::Error;
};

// The wrong element type: float data where double is expected (checkpoints,
// state dicts), or the wrong kind: an Adam state dict loaded into AdamW.
// Mixing Tensor<float> and Tensor<double> in one op does not compile at all.
struct TypeError : Error {
  using Error::Error;
};

// Files that cannot be read or written, truncated or corrupt checkpoints.
struct IOError : Error {
  using Error::Error;
};

// Memory that could not be allocated (std::bad_alloc) for a tensor of a
// possible size: tensor creation, op results and backward. Impossible sizes
// (more elements than can be addressed) are ValueError instead.
struct ResourceError : Error {
  using Error::Error;
};

// ---- formatting and raising ----

namespace detail {

// Out of line (errors.cpp): the number formats.
void append_integer(std::string& out, long long v);
void append_integer(std::string& out, unsigned long long v);
void append_float(std::string& out, float v);
void append_float(std::string& out, double v);

template <class T, class = void>
struct is_range : std::false_type {};
template <class T>
struct is_range<T, std::void_t<decltype(std::declval<const T&>().begin()),
                               decltype(std::declval<const T&>().end())>> : std::true_type {};

// A part as the formatter takes it: text as a string_view, integers widened,
// so that the formatting code is instantiated for few types.
template <class T>
decltype(auto) as_part(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return std::string_view(v);
  } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, char> ||
                       std::is_floating_point_v<T>) {
    return v;
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<long long>(v);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return static_cast<long long>(v);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<unsigned long long>(v);
  } else {
    return (v);  // a reference: ranges and types with a to_string
  }
}

template <class T>
void append_part(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    out.append(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    out.append(v ? "true" : "false");
  } else if constexpr (std::is_same_v<T, char>) {
    out.push_back(v);
  } else if constexpr (std::is_same_v<T, long long> || std::is_same_v<T, unsigned long long>) {
    append_integer(out, v);
  } else if constexpr (std::is_same_v<T, float>) {
    append_float(out, v);
  } else if constexpr (std::is_floating_point_v<T>) {
    append_float(out, static_cast<double>(v));
  } else if constexpr (is_range<T>::value) {
    out.push_back('[');
    bool first = true;
    for (const auto& element : v) {
      if (!first) out.append(", ");
      first = false;
      append_part(out, as_part(element));
    }
    out.push_back(']');
  } else {
    out.append(to_string(v));
  }
}

template <class... Parts>
std::string format_parts(const Parts&... parts) {
  std::string out;
  (append_part(out, parts), ...);
  return out;
}

// Out of line and cold: a failing check costs its callers one call.
template <class E, class... Parts>
[[noreturn]] __attribute__((noinline, cold)) void throw_formatted(const Parts&... parts) {
  static_assert(std::is_base_of_v<Error, E>, "xgrad raises its own error types (errors.hpp)");
  throw E(format_parts(parts...));
}

}  // namespace detail

// Untrusted text (a file's bytes, a key) as messages show it: bytes below 0x20
// and 0x7f (e.g. '\0', which would end what()) as \xNN, and at most
// `max_bytes` of it, then "..." when there is more.
std::string printable(std::string_view text, std::size_t max_bytes = 200);

// The message the parts make (formatted as described at the top).
template <class... Parts>
std::string format_message(const Parts&... parts) {
  return detail::format_parts(detail::as_part(parts)...);
}

// Throws E with the message the parts make.
template <class E, class... Parts>
[[noreturn]] void throw_error(const Parts&... parts) {
  detail::throw_formatted<E>(detail::as_part(parts)...);
}

}  // namespace xgrad

// Throws ErrorType (one of the types above) with the message the parts make
// when `cond` is false; the parts are evaluated only then.
#define XGRAD_CHECK(cond, ErrorType, ...)                      \
  do {                                                         \
    if (!(cond)) ::xgrad::throw_error<ErrorType>(__VA_ARGS__); \
  } while (false)
