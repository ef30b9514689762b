#include "xgrad/data/csv.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gz_reader.hpp"
#include "xgrad/errors.hpp"

namespace xgrad::data {
namespace {

// Splits `line` at `delim` (no quoting: numeric tables need none).
void split(const std::string& line, char delim, std::vector<std::string>* fields) {
  fields->clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(delim, start);
    fields->push_back(line.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

// The whole field (spaces around it allowed) as a finite double, else false.
bool parse_number(const std::string& field, double* out) {
  const char* begin = field.c_str();
  while (*begin == ' ' || *begin == '\t') ++begin;
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin) return false;
  while (*end == ' ' || *end == '\t') ++end;
  if (*end != '\0' || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

template <class T>
Dataset<T> load_csv(const std::string& path, const CsvOptions& options) {
  const char d = options.delimiter;
  XGRAD_CHECK(std::strchr("0123456789+-.eE \r\n", d) == nullptr && d != '\0', ValueError,
              "load_csv: delimiter '", d, "' cannot separate numbers (it may be part of one)");
  detail::GzReader in("load_csv", path, options.missing_hint);
  std::string line;
  std::vector<std::string> fields;
  std::vector<T> values;
  std::vector<std::int64_t> labels;
  std::size_t columns = 0, label = 0, line_no = 0;
  bool skip_header = options.header;
  while (in.read_line(&line)) {
    ++line_no;
    if (skip_header) {
      skip_header = false;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    split(line, d, &fields);
    const std::string at = in.where() + "line " + std::to_string(line_no) + ": ";
    if (columns == 0) {
      columns = fields.size();
      const auto c = static_cast<std::ptrdiff_t>(columns);
      const std::ptrdiff_t lc =
          options.label_column < 0 ? c + options.label_column : options.label_column;
      XGRAD_CHECK(columns >= 2 && lc >= 0 && lc < c, IOError, at, "label_column ",
                  options.label_column, " is outside a row of ", columns,
                  " fields (a row needs a label and at least one feature)");
      label = static_cast<std::size_t>(lc);
    } else if (fields.size() != columns) {
      throw_error<IOError>(at, fields.size(), " fields, but the first row has ", columns);
    }
    for (std::size_t j = 0; j < columns; ++j) {
      double v = 0;
      XGRAD_CHECK(parse_number(fields[j], &v), IOError, at, "column ", j + 1, ": '", fields[j],
                  "' is not a finite number");
      if (j != label) {
        values.push_back(static_cast<T>(v));
      } else if (v < 0 || v != std::floor(v) || v > 1e15) {
        throw_error<IOError>(at, "column ", j + 1, ": label '", fields[j],
                             "' is not a non-negative integer");
      } else {
        labels.push_back(static_cast<std::int64_t>(v));
      }
    }
  }
  XGRAD_CHECK(!labels.empty(), IOError, in.where(), "no data rows");
  const std::size_t n = labels.size();
  xt::xarray<T> features = xt::xarray<T>::from_shape({n, columns - 1});
  std::copy(values.begin(), values.end(), features.begin());
  Labels y = Labels::from_shape({n});
  std::copy(labels.begin(), labels.end(), y.begin());
  return Dataset<T>{Tensor<T>(std::move(features)), std::move(y)};
}

template Dataset<float> load_csv<float>(const std::string&, const CsvOptions&);
template Dataset<double> load_csv<double>(const std::string&, const CsvOptions&);

}  // namespace xgrad::data
