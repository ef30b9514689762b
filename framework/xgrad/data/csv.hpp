// Numeric CSV files with one integer label column, e.g. the 8x8 digits set
// (64 pixel columns, then the digit) or a user's own table. Gzip-compressed
// files are read through zlib like plain ones.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "xgrad/data.hpp"
#include "xgrad/data/limits.hpp"

namespace xgrad::data {

struct CsvOptions {
  // The label's column; negative counts from the end (-1: the last column).
  std::ptrdiff_t label_column = -1;
  // The first line names the columns and is skipped.
  bool header = false;
  char delimiter = ',';
  // Appended to the error for a missing file, e.g. the command that fetches it.
  std::string missing_hint;

  CsvOptions& set_label_column(std::ptrdiff_t c) { return label_column = c, *this; }
  CsvOptions& set_header(bool h) { return header = h, *this; }
  CsvOptions& set_delimiter(char d) { return delimiter = d, *this; }
  CsvOptions& set_missing_hint(std::string h) { return missing_hint = std::move(h), *this; }
};

// Every non-empty line is one row: the label column becomes the row's label
// (a non-negative integer), the other columns its features, as written. Line
// ends may be "\n" or "\r\n"; empty lines are skipped; fields may be padded
// with spaces.
// IOError naming the file (and the line and column where one is at fault): a
// missing or unreadable file, corrupt gzip data, no data rows, a row whose
// field count differs from the first row's, a field that is not a finite
// number (every byte counts: a '\0' too) or is outside T's range (1e300 as
// float), a bad label, a label column outside the row, a line longer than
// kMaxLineBytes, or more than kMaxFileValues values (limits.hpp).
// Messages show at most 40 bytes of a bad field, and its length.
// Memory: the values read (held twice at the end, while they are copied into
// the features) and one line; never more per field than its value.
// ResourceError naming the file when memory runs out.
// ValueError for a delimiter that is a digit, sign, '.', space or line end.
template <class T>
Dataset<T> load_csv(const std::string& path, const CsvOptions& options = CsvOptions());

}  // namespace xgrad::data
