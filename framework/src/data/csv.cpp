#include "xgrad/data/csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <new>

#include "gz_reader.hpp"
#include "xgrad/data/limits.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::data {
namespace {

// The whole field (spaces around it allowed) as a finite double, else false.
// Every byte counts: a '\0' inside the field makes it no number.
bool parse_number(const std::string& field, double* out) {
  const char* begin = field.c_str();
  const char* const last = begin + field.size();
  while (begin < last && (*begin == ' ' || *begin == '\t')) ++begin;
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin) return false;
  while (end < last && (*end == ' ' || *end == '\t')) ++end;
  if (end != last || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// A field as messages show it: quoted, at most 40 bytes of it (made
// printable), then its length when it is longer.
std::string shown(const std::string& field) {
  constexpr std::size_t kShown = 40;
  return "'" + printable(field, kShown) + "'" +
         (field.size() > kShown ? format_message(" (", field.size(), " bytes)") : "");
}

}  // namespace

template <class T>
Dataset<T> load_csv(const std::string& path, const CsvOptions& options) {
  const char d = options.delimiter;
  XGRAD_CHECK(std::strchr("0123456789+-.eE \r\n", d) == nullptr && d != '\0', ValueError,
              "load_csv: delimiter '", d, "' cannot separate numbers (it may be part of one)");
  detail::GzReader in("load_csv", path, options.missing_hint);
  // Each field is parsed where it lies in the line (through one reused
  // buffer), and the values go to deques, which grow by fixed blocks: memory
  // is the values read plus one line (at most kMaxLineBytes).
  std::string line, field;
  std::deque<T> values;
  std::deque<std::int64_t> labels;
  std::size_t columns = 0, label = 0;
  bool skip_header = options.header;
  const auto at = [&in] { return in.where() + "line " + std::to_string(in.line_number()) + ": "; };
  try {
    while (in.read_line(&line, kMaxLineBytes)) {
      if (skip_header) {
        skip_header = false;
        continue;
      }
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      const auto fields = static_cast<std::size_t>(std::count(line.begin(), line.end(), d)) + 1;
      if (columns == 0) {
        columns = fields;
        const auto c = static_cast<std::ptrdiff_t>(columns);
        const std::ptrdiff_t lc =
            options.label_column < 0 ? c + options.label_column : options.label_column;
        XGRAD_CHECK(columns >= 2 && lc >= 0 && lc < c, IOError, at(), "label_column ",
                    options.label_column, " is outside a row of ", columns,
                    " fields (a row needs a label and at least one feature)");
        label = static_cast<std::size_t>(lc);
      } else if (fields != columns) {
        throw_error<IOError>(at(), fields, " fields, but the first row has ", columns);
      }
      XGRAD_CHECK(values.size() <= kMaxFileValues - (columns - 1), IOError, at(), "more than the ",
                  kMaxFileValues, " values a file may hold (kMaxFileValues)");
      std::size_t start = 0;
      for (std::size_t j = 0; j < columns; ++j) {
        const std::size_t end = j + 1 < columns ? line.find(d, start) : line.size();
        field.assign(line, start, end - start);
        start = end + 1;
        double v = 0;
        XGRAD_CHECK(parse_number(field, &v), IOError, at(), "column ", j + 1, ": ", shown(field),
                    " is not a finite number");
        if (j != label) {
          // Checked before the conversion, which would make it inf (UB in C++).
          XGRAD_CHECK(std::fabs(v) <= double(std::numeric_limits<T>::max()), IOError, at(),
                      "column ", j + 1, ": ", shown(field), " is outside ",
                      sizeof(T) == 4 ? "float" : "double", "'s range");
          values.push_back(static_cast<T>(v));
        } else if (v < 0 || v != std::floor(v) || v > 1e15) {
          throw_error<IOError>(at(), "column ", j + 1, ": label ", shown(field),
                               " is not a non-negative integer");
        } else {
          labels.push_back(static_cast<std::int64_t>(v));
        }
      }
    }
    XGRAD_CHECK(!labels.empty(), IOError, in.where(), "no data rows");
    const std::size_t n = labels.size();
    xt::xarray<T> features = xt::xarray<T>::from_shape({n, columns - 1});
    std::copy(values.begin(), values.end(), features.begin());
    values.clear();
    Labels y = Labels::from_shape({n});
    std::copy(labels.begin(), labels.end(), y.begin());
    return Dataset<T>{Tensor<T>(std::move(features)), std::move(y)};
  } catch (const std::bad_alloc&) {
    const std::size_t read = values.size();
    values.clear();  // give the memory back before the message needs some
    values.shrink_to_fit();
    throw_error<ResourceError>(in.where(), "out of memory at line ", in.line_number(), " (", read,
                               " values read)");
  }
}

template Dataset<float> load_csv<float>(const std::string&, const CsvOptions&);
template Dataset<double> load_csv<double>(const std::string&, const CsvOptions&);

}  // namespace xgrad::data
