// Dataset files: the IDX reader (MNIST, Fashion-MNIST) and the numeric CSV
// reader (the 8x8 digits), on small files each case writes itself; the real
// Debian files are checked too when installed (bash .ci/setup).
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "alloc_limit.hpp"
#include "test_util.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/limits.hpp"
#include "xgrad/errors.hpp"

BOOST_AUTO_TEST_SUITE(test_datasets)

using xgrad::IOError;
using xgrad::ResourceError;
using xgrad::ValueError;
using xgrad::data::CsvOptions;
using xgrad::data::DataLoader;
using xgrad::data::load_csv;
using xgrad::data::load_idx;
using xgrad::data::load_mnist;
using xgrad::data::read_idx;
using xgrad::data::Split;
using xgrad_test::AllocationLimit;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;
using xgrad_test::message_of;
using xgrad_test::TempDir;
using Bytes = std::vector<unsigned char>;

namespace {

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  BOOST_REQUIRE(f != nullptr);
  BOOST_REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                static_cast<int>(bytes.size()));
  gzclose(f);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// An IDX header: two zero bytes, the type, the rank, then big-endian extents.
Bytes idx_header(unsigned char type, const std::vector<std::uint32_t>& extents) {
  Bytes b = {0, 0, type, static_cast<unsigned char>(extents.size())};
  for (std::uint32_t e : extents) {
    for (int shift = 24; shift >= 0; shift -= 8)
      b.push_back(static_cast<unsigned char>(e >> shift));
  }
  return b;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Two 2x3 "images" with pixels 0..11 and their labels 7 and 2.
Bytes images_2x2x3() {
  return concat(idx_header(0x08, {2, 2, 3}), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
}
Bytes labels_7_2() { return concat(idx_header(0x08, {2}), {7, 2}); }

}  // namespace

BOOST_AUTO_TEST_SUITE(idx)

BOOST_AUTO_TEST_CASE(reads_unsigned_bytes_with_the_header_shape) {
  TempDir dir;
  write_plain(dir / "a.idx", images_2x2x3());
  const xt::xarray<float> a = read_idx<float>(dir / "a.idx");
  const xt::xarray<float> expected = {{{0, 1, 2}, {3, 4, 5}}, {{6, 7, 8}, {9, 10, 255}}};
  BOOST_TEST(equal_arrays(a, expected));
}

BOOST_AUTO_TEST_CASE(gzip_and_plain_files_read_the_same) {
  TempDir dir;
  write_plain(dir / "a.idx", images_2x2x3());
  write_gz(dir / "a.idx.gz", images_2x2x3());
  BOOST_TEST(equal_arrays(read_idx<double>(dir / "a.idx.gz"), read_idx<double>(dir / "a.idx")));
}

BOOST_AUTO_TEST_CASE(every_element_type_decodes_big_endian) {
  struct Case {
    unsigned char type;
    Bytes value;
    double expected;
  };
  const Case cases[] = {
      {0x08, {0xC8}, 200},
      {0x09, {0xFF}, -1},
      {0x0B, {0xFE, 0xD4}, -300},
      {0x0C, {0x00, 0x01, 0x11, 0x70}, 70000},
      {0x0D, {0x3F, 0xC0, 0x00, 0x00}, 1.5},
      {0x0E, {0xC0, 0x02, 0, 0, 0, 0, 0, 0}, -2.25},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT("type " << int(c.type)) {
      TempDir dir;
      write_plain(dir / "v.idx", concat(idx_header(c.type, {1}), c.value));
      const xt::xarray<double> a = read_idx<double>(dir / "v.idx");
      BOOST_TEST(a.size() == 1u);
      BOOST_TEST(a(0) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(load_idx_flattens_images_into_feature_rows) {
  TempDir dir;
  write_gz(dir / "img.gz", images_2x2x3());
  write_gz(dir / "lab.gz", labels_7_2());
  const auto set = load_idx<float>(dir / "img.gz", dir / "lab.gz");
  const xt::xarray<float> features = {{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 255}};
  BOOST_TEST(equal_arrays(set.features.data(), features));
  BOOST_TEST(equal_arrays(set.labels, xgrad::Labels{7, 2}));
}

BOOST_AUTO_TEST_CASE(load_mnist_finds_gzip_or_plain_names_and_feeds_a_data_loader) {
  TempDir dir;
  write_gz(dir / "train-images-idx3-ubyte.gz", images_2x2x3());
  write_gz(dir / "train-labels-idx1-ubyte.gz", labels_7_2());
  write_plain(dir / "t10k-images-idx3-ubyte", images_2x2x3());
  write_plain(dir / "t10k-labels-idx1-ubyte", labels_7_2());
  const auto train = load_mnist<float>(dir.path.string(), Split::train);
  const auto test = load_mnist<float>(dir.path.string(), Split::test);
  BOOST_TEST(equal_arrays(train.features.data(), test.features.data()));
  DataLoader<float> loader(train, 1, /*shuffle=*/false);
  std::vector<std::int64_t> seen;
  for (const auto& batch : loader) seen.push_back(batch.labels(0));
  BOOST_TEST(seen == (std::vector<std::int64_t>{7, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named) {
  TempDir dir;
  const std::string msg = message_of([&] { read_idx<float>(dir / "none.gz"); });
  BOOST_TEST(contains(msg, "read_idx"));
  BOOST_TEST(contains(msg, dir / "none.gz"));
  BOOST_TEST(contains(msg, "no such file"));
  const std::string mnist = message_of([&] { load_mnist<float>(dir.path.string(), Split::test); });
  BOOST_TEST(contains(mnist, dir / "t10k-images-idx3-ubyte.gz"));
  BOOST_TEST(contains(mnist, "expected the MNIST file names"));
}

BOOST_AUTO_TEST_CASE(a_directory_is_not_a_file) {
  TempDir dir;
  BOOST_CHECK_EXCEPTION(read_idx<float>(dir.path.string()), IOError,
                        mentions<IOError>("is a directory"));
}

BOOST_AUTO_TEST_CASE(malformed_files_are_refused_with_the_problem_named) {
  struct Case {
    const char* what;
    Bytes bytes;
    const char* message;
  };
  const Case cases[] = {
      {"bad magic", concat({1, 2, 8, 1}, {0, 0, 0, 1, 5}), "bad magic 0x01020801"},
      {"unknown type", concat(idx_header(0x0A, {1}), {5}), "bad magic 0x00000a01"},
      {"no dimensions", idx_header(0x08, {}), "0 dimensions"},
      {"short magic", {0, 0}, "truncated: 2 of the 4 magic bytes"},
      {"short header", {0, 0, 8, 3, 0, 0, 0, 2}, "truncated header"},
      {"short values", concat(idx_header(0x08, {2, 3}), {1, 2, 3, 4}),
       "truncated: the header [2, 3] needs 6 bytes of values, the file has 4"},
      {"negative extent", concat(idx_header(0x08, {0x80000000u}), {}), "extent 0 is negative"},
      {"huge extents", idx_header(0x0E, {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}), "too large"},
      // No values, but xtensor's strides are products of the non-zero extents.
      {"empty with huge extents", idx_header(0x08, {0, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}),
       "extents [0, 2147483647, 2147483647, 2147483647] are too large"},
      {"claims more than it has", idx_header(0x08, {0x7FFF, 0x7FFF}), "truncated"},
      {"trailing data", concat(idx_header(0x08, {2}), {1, 2, 3}), "longer than its header [2]"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      TempDir dir;
      write_plain(dir / "bad.idx", c.bytes);
      BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "bad.idx"), IOError,
                            mentions<IOError>(c.message));
      BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "bad.idx"), IOError,
                            mentions<IOError>(dir / "bad.idx"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_cut_gzip_stream_is_truncated_not_short_data) {
  TempDir dir;
  Bytes big = idx_header(0x08, {1000, 100});
  for (int i = 0; i < 100000; ++i) big.push_back(static_cast<unsigned char>(i * 7919 % 251));
  write_gz(dir / "full.gz", big);
  std::ifstream in(dir / "full.gz", std::ios::binary);
  Bytes gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() / 2);
  write_plain(dir / "cut.gz", gz);
  BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "cut.gz"), IOError,
                        mentions<IOError>("truncated or corrupt gzip data"));
}

BOOST_AUTO_TEST_CASE(images_and_labels_must_agree) {
  TempDir dir;
  write_plain(dir / "img", images_2x2x3());
  write_plain(dir / "three", concat(idx_header(0x08, {3}), {1, 2, 3}));
  write_plain(dir / "matrix", concat(idx_header(0x08, {2, 1}), {1, 2}));
  write_plain(dir / "negative", concat(idx_header(0x09, {2}), {1, 0xFF}));
  write_plain(dir / "flat", concat(idx_header(0x08, {2}), {1, 2}));
  BOOST_CHECK_EXCEPTION(
      load_idx<float>(dir / "img", dir / "three"), IOError,
      mentions<IOError>("wrong count: \"" + dir / "img" + "\" holds 2 images but"));
  BOOST_CHECK_EXCEPTION(load_idx<float>(dir / "img", dir / "matrix"), IOError,
                        mentions<IOError>("expected labels [N], got [2, 1]"));
  BOOST_CHECK_EXCEPTION(load_idx<float>(dir / "img", dir / "negative"), IOError,
                        mentions<IOError>("label 1 is -1"));
  BOOST_CHECK_EXCEPTION(load_idx<float>(dir / "flat", dir / "flat"), IOError,
                        mentions<IOError>("2 or more dimensions"));
}

bool fashion_mnist_installed() {
  return std::filesystem::exists(std::string(xgrad::data::kFashionMnistDir) +
                                 "/t10k-labels-idx1-ubyte.gz");
}

BOOST_AUTO_TEST_CASE(debian_fashion_mnist_test_split_is_10000_balanced_images,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return fashion_mnist_installed();
                     })) {
  const auto test = load_mnist<float>(xgrad::data::kFashionMnistDir, Split::test);
  BOOST_TEST(xgrad::to_string(test.features.shape()) == "[10000, 784]");
  std::vector<int> per_class(10, 0);
  for (std::int64_t y : test.labels) {
    BOOST_REQUIRE(y >= 0);
    BOOST_REQUIRE(y < 10);
    ++per_class[static_cast<std::size_t>(y)];
  }
  for (int n : per_class) BOOST_TEST(n == 1000);  // Fashion-MNIST's test split is balanced
  BOOST_TEST(xt::amax(test.features.data())() == 255.f);
  BOOST_TEST(xt::amin(test.features.data())() == 0.f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(csv)

BOOST_AUTO_TEST_CASE(the_last_column_is_the_label_by_default) {
  TempDir dir;
  write_text(dir / "t.csv", "0,1.5,2\n3,-4,0\n");
  const auto set = load_csv<double>(dir / "t.csv");
  const xt::xarray<double> features = {{0, 1.5}, {3, -4}};
  BOOST_TEST(equal_arrays(set.features.data(), features));
  BOOST_TEST(equal_arrays(set.labels, xgrad::Labels{2, 0}));
}

BOOST_AUTO_TEST_CASE(header_label_column_delimiter_crlf_spaces_and_blank_lines) {
  TempDir dir;
  write_text(dir / "t.csv", "label;a;b\r\n1; 0.25 ;8\r\n\r\n0;1e1;-2\r\n\n");
  const auto set = load_csv<float>(
      dir / "t.csv", CsvOptions().set_label_column(0).set_header(true).set_delimiter(';'));
  const xt::xarray<float> features = {{0.25f, 8}, {10, -2}};
  BOOST_TEST(equal_arrays(set.features.data(), features));
  BOOST_TEST(equal_arrays(set.labels, xgrad::Labels{1, 0}));
}

BOOST_AUTO_TEST_CASE(a_gzip_file_reads_like_a_plain_one) {
  TempDir dir;
  const std::string text = "1,2,3\n4,5,6\n";
  write_text(dir / "t.csv", text);
  write_gz(dir / "t.csv.gz", Bytes(text.begin(), text.end()));
  BOOST_TEST(equal_arrays(load_csv<float>(dir / "t.csv.gz").features.data(),
                          load_csv<float>(dir / "t.csv").features.data()));
}

BOOST_AUTO_TEST_CASE(bad_content_names_the_line_and_column) {
  struct Case {
    const char* what;
    const char* text;
    CsvOptions options;
    const char* message;
  };
  const Case cases[] = {
      {"field count", "1,2,3\n4,5\n", {}, "line 2: 2 fields, but the first row has 3"},
      {"not a number", "1,2,3\n4,x5,6\n", {}, "line 2: column 2: 'x5' is not a finite number"},
      {"partly a number", "1,2,3\n4,5a,6\n", {}, "column 2: '5a' is not a finite number"},
      {"empty field", "1,,3\n", {}, "line 1: column 2: '' is not a finite number"},
      {"nan", "1,nan,3\n", {}, "'nan' is not a finite number"},
      {"fractional label",
       "1,2,0.5\n",
       {},
       "line 1: column 3: label '0.5' is not a non-negative integer"},
      {"negative label", "-1,2,3\n", CsvOptions().set_label_column(0), "label '-1'"},
      {"label column outside", "1,2,3\n", CsvOptions().set_label_column(3),
       "label_column 3 is outside a row of 3"},
      {"negative label column outside", "1,2,3\n", CsvOptions().set_label_column(-4),
       "label_column -4"},
      {"one column", "1\n2\n", {}, "outside a row of 1 fields"},
      {"no rows", "\n\n", {}, "no data rows"},
      {"header only", "a,b\n", CsvOptions().set_header(true), "no data rows"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      TempDir dir;
      write_text(dir / "bad.csv", c.text);
      const std::string msg = message_of([&] { load_csv<float>(dir / "bad.csv", c.options); });
      BOOST_TEST(contains(msg, c.message), msg);
      BOOST_TEST(contains(msg, "load_csv: \"" + dir / "bad.csv" + "\""), msg);
      BOOST_CHECK_THROW(load_csv<float>(dir / "bad.csv", c.options), IOError);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_nul_byte_is_a_bad_field_not_the_end_of_the_line) {
  // zlib's gzgets stops at the NUL's string end: "0" was kept and the rest
  // of the line glued to the next, a wrong row read without a word.
  TempDir dir;
  write_text(dir / "nul.csv", std::string("0\0,1,2\n3,4,5\n", 13));
  BOOST_CHECK_EXCEPTION(load_csv<float>(dir / "nul.csv"), IOError,
                        mentions<IOError>("line 1: column 1: '0\\x00' is not a finite number"));
}

BOOST_AUTO_TEST_CASE(a_value_outside_the_feature_type_is_refused) {
  TempDir dir;
  write_text(dir / "big.csv", "1,2,0\n-1e300,3,1\n");
  BOOST_CHECK_EXCEPTION(load_csv<float>(dir / "big.csv"), IOError,
                        mentions<IOError>("line 2: column 1: '-1e300' is outside float's range"));
  // 1e300 is a double.
  BOOST_TEST(load_csv<double>(dir / "big.csv").features.data()(1, 0) == -1e300);
  // Tiny values round to 0 or a subnormal, as any conversion does.
  write_text(dir / "tiny.csv", "1e-60,2,0\n");
  BOOST_TEST(load_csv<float>(dir / "tiny.csv").features.data()(0, 0) == 0.f);
}

BOOST_AUTO_TEST_CASE(a_bad_field_is_shown_in_part_with_its_length) {
  TempDir dir;
  write_text(dir / "long.csv", "1,2," + std::string(1 << 20, '7') + "x\n");
  const std::string msg = message_of([&] { load_csv<float>(dir / "long.csv"); });
  BOOST_TEST(contains(msg, "column 3: '7777777777"), msg);
  BOOST_TEST(contains(msg, "...' (1048577 bytes) is not a finite number"), msg);
  BOOST_TEST(msg.size() < 300u, msg.size());
}

BOOST_AUTO_TEST_CASE(a_missing_file_carries_the_hint) {
  TempDir dir;
  BOOST_CHECK_EXCEPTION(
      load_csv<float>(dir / "digits.csv.gz", CsvOptions().set_missing_hint("run bash .ci/setup")),
      IOError, mentions<IOError>("digits.csv.gz\": no such file; run bash .ci/setup"));
}

BOOST_AUTO_TEST_CASE(a_delimiter_that_can_be_part_of_a_number_is_refused) {
  TempDir dir;
  write_text(dir / "t.csv", "1,2\n");
  for (char d : {'.', '-', '3', 'e', ' '}) {
    BOOST_TEST_CONTEXT("delimiter '" << d << "'") {
      BOOST_CHECK_EXCEPTION(load_csv<float>(dir / "t.csv", CsvOptions().set_delimiter(d)),
                            ValueError, mentions<ValueError>("cannot separate numbers"));
    }
  }
}

// Tests run in tests/; .ci/setup extracts the digits set to data/.
const char* kDigits = "../data/digits.csv.gz";

BOOST_AUTO_TEST_CASE(the_digits_set_is_1797_rows_of_64_pixels_in_0_to_16,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return std::filesystem::exists(kDigits);
                     })) {
  const auto set = load_csv<float>(kDigits);
  BOOST_TEST(xgrad::to_string(set.features.shape()) == "[1797, 64]");
  BOOST_TEST(xt::amin(set.features.data())() == 0.f);
  BOOST_TEST(xt::amax(set.features.data())() == 16.f);
  BOOST_TEST(xt::amin(set.labels)() == 0);
  BOOST_TEST(xt::amax(set.labels)() == 9);
}

BOOST_AUTO_TEST_SUITE_END()

// Files made to exhaust memory: whatever they hold, a reader never uses more
// than the array the header declares (IDX), the values it has read (CSV), and
// the documented caps (xgrad/data/limits.hpp).
BOOST_AUTO_TEST_SUITE(hostile_files)

constexpr std::size_t kMiB = std::size_t(1) << 20;

// `n` zero bytes after `head`, gzip-compressed (about 1000:1).
void write_gz_zeros(const std::string& path, const Bytes& head, std::size_t n) {
  gzFile f = gzopen(path.c_str(), "wb9");
  BOOST_REQUIRE(f != nullptr);
  BOOST_REQUIRE(gzwrite(f, head.data(), static_cast<unsigned>(head.size())) ==
                static_cast<int>(head.size()));
  const std::vector<unsigned char> zeros(kMiB, 0);
  for (std::size_t done = 0; done < n; done += kMiB) {
    const auto len = static_cast<unsigned>(std::min(kMiB, n - done));
    BOOST_REQUIRE(gzwrite(f, zeros.data(), len) == static_cast<int>(len));
  }
  gzclose(f);
}

BOOST_AUTO_TEST_CASE(an_idx_gzip_bomb_is_refused_before_a_byte_is_inflated) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  // 2^28 values declared (under the cap), 32 MiB of zeros in about 32 KB:
  // deflate cannot expand 32 KB to 2^28 bytes (at most 1032:1).
  TempDir dir;
  write_gz_zeros(dir / "bomb.gz", idx_header(0x08, {std::uint32_t(1) << 28}), 32 * kMiB);
  BOOST_TEST(std::filesystem::file_size(dir / "bomb.gz") < 100000u);
  AllocationLimit limit;
  BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "bomb.gz"), IOError,
                        mentions<IOError>("more than a gzip file of"));
  BOOST_TEST(limit.largest() < 2 * kMiB);  // zlib's buffers, not the inflated data
}

BOOST_AUTO_TEST_CASE(an_idx_header_declaring_more_than_the_cap_is_refused_unallocated) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  TempDir dir;
  write_gz_zeros(dir / "cap.gz", idx_header(0x08, {0x7FFFFFFF}), 32 * kMiB);
  AllocationLimit limit;
  BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "cap.gz"), IOError,
                        mentions<IOError>("more than the 1073741824 values a file may hold"));
  BOOST_TEST(limit.largest() < 2 * kMiB);
}

BOOST_AUTO_TEST_CASE(a_plain_idx_file_shorter_than_its_header_says_is_refused_unread) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  TempDir dir;
  write_plain(dir / "short.idx", concat(idx_header(0x08, {std::uint32_t(1) << 28}), {1, 2, 3}));
  AllocationLimit limit;
  BOOST_CHECK_EXCEPTION(read_idx<float>(dir / "short.idx"), IOError,
                        mentions<IOError>("needs 268435456 bytes of values, the file has 3"));
  BOOST_TEST(limit.largest() < 2 * kMiB);
}

BOOST_AUTO_TEST_CASE(reading_an_idx_file_allocates_its_array_and_a_bounded_buffer) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  // 8 MiB of bytes become a 32 MiB float array; nothing else near that size.
  TempDir dir;
  write_gz_zeros(dir / "ok.gz", idx_header(0x08, {8, 1024, 1024}), 8 * kMiB);
  AllocationLimit limit;
  const xt::xarray<float> a = read_idx<float>(dir / "ok.gz");
  BOOST_TEST(a.size() == 8 * kMiB);
  BOOST_TEST(limit.largest() == 32 * kMiB);
}

// `text` repeated to `n` bytes, then `tail`, gzip-compressed.
void write_gz_repeated(const std::string& path, const std::string& text, std::size_t n,
                       const std::string& tail) {
  gzFile f = gzopen(path.c_str(), "wb9");
  BOOST_REQUIRE(f != nullptr);
  std::string block;
  while (block.size() < kMiB) block += text;
  for (std::size_t done = 0; done < n; done += block.size()) {
    const auto len = static_cast<unsigned>(std::min(block.size(), n - done));
    BOOST_REQUIRE(gzwrite(f, block.data(), len) == static_cast<int>(len));
  }
  BOOST_REQUIRE(gzwrite(f, tail.data(), static_cast<unsigned>(tail.size())) ==
                static_cast<int>(tail.size()));
  gzclose(f);
}

BOOST_AUTO_TEST_CASE(a_csv_line_longer_than_the_cap_is_refused_before_it_is_held) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  // One 64 MiB line (a few tens of KB compressed): 32 Mi fields "0".
  TempDir dir;
  write_gz_repeated(dir / "long.csv.gz", "0,", 64 * kMiB, "1\n");
  BOOST_TEST(std::filesystem::file_size(dir / "long.csv.gz") < 200000u);
  AllocationLimit limit;
  BOOST_CHECK_EXCEPTION(load_csv<float>(dir / "long.csv.gz"), IOError,
                        mentions<IOError>("line 1 is longer than 16777216 bytes"));
  BOOST_TEST(limit.largest() <= xgrad::data::kMaxLineBytes + 1);
}

BOOST_AUTO_TEST_CASE(a_wide_csv_row_costs_its_values_not_a_string_per_field) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  // An 8 MiB line of 4 Mi fields: 32 MiB of double features in the end. The
  // largest request is that array (the line's buffer is at most 16 MiB), not
  // a string of 32 bytes or more per field.
  TempDir dir;
  write_gz_repeated(dir / "wide.csv.gz", "0,", 8 * kMiB, "1\n");
  AllocationLimit limit;
  const auto set = load_csv<double>(dir / "wide.csv.gz");
  BOOST_TEST(set.features.numel() == 4 * kMiB);
  BOOST_TEST(limit.largest() == 32 * kMiB);
}

BOOST_AUTO_TEST_CASE(running_out_of_memory_is_a_resource_error_naming_the_file) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  // Legitimate files whose arrays (4 MiB of float) do not fit a "machine"
  // that cannot allocate 1 MiB at once.
  TempDir dir;
  write_gz_zeros(dir / "train-images-idx3-ubyte.gz", idx_header(0x08, {1024, 32, 32}), kMiB);
  write_gz_zeros(dir / "train-labels-idx1-ubyte.gz", idx_header(0x08, {1024}), 1024);
  write_gz_repeated(dir / "big.csv.gz", "0,0,0,0,0,0,0,1\n", 2 * kMiB, "");
  AllocationLimit limit(kMiB);
  BOOST_CHECK_EXCEPTION(
      read_idx<float>(dir / "train-images-idx3-ubyte.gz"), ResourceError,
      mentions<ResourceError>("read_idx: \"" + dir / "train-images-idx3-ubyte.gz" +
                              "\": cannot allocate 4194304 bytes"));
  BOOST_CHECK_EXCEPTION(
      load_mnist<float>(dir.path.string(), Split::train), ResourceError,
      mentions<ResourceError>("load_mnist: \"" + dir / "train-images-idx3-ubyte.gz"));
  BOOST_CHECK_EXCEPTION(
      load_csv<float>(dir / "big.csv.gz"), ResourceError,
      mentions<ResourceError>("load_csv: \"" + dir / "big.csv.gz" + "\": out of memory"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  static TempDir dir;  // static: the rows' calls use it without a capture
  write_plain(dir / "strides.idx", idx_header(0x08, {0, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF}));
  r.push_back(
      {"read_idx: empty, but its strides overflow",
       raises<IOError>("read_idx",
                       {"strides.idx", "[0, 2147483647, 2147483647, 2147483647]", "too large"}),
       [] { read_idx<float>(dir / "strides.idx"); }});
  write_text(dir / "nul.csv", std::string("1,2\0,3\n", 7));
  r.push_back({"load_csv: a NUL byte",
               raises<IOError>("load_csv", {"nul.csv", "line 1: column 2", "'2\\x00'"}),
               [] { load_csv<float>(dir / "nul.csv"); }});
  write_text(dir / "inf.csv", "1e39,3\n");
  r.push_back({"load_csv: a value beyond float",
               raises<IOError>("load_csv", {"inf.csv", "column 1", "'1e39'", "float's range"}),
               [] { load_csv<float>(dir / "inf.csv"); }});
  if (xgrad_test::kAllocationLimitWorks) {  // not under ASan or TSan
    write_plain(dir / "4mib.idx", concat(idx_header(0x08, {1024, 1024}), Bytes(1 << 20, 0)));
    write_text(dir / "4mib.csv", [] {
      std::string text;
      for (int i = 0; i < 1 << 17; ++i) text += "0,0,0,0,0,0,0,1\n";
      return text;
    }());
    r.push_back({"read_idx: out of memory",
                 raises<ResourceError>("read_idx", {"4mib.idx", "cannot allocate 4194304 bytes"}),
                 [] {
                   AllocationLimit limit(1 << 20);
                   read_idx<float>(dir / "4mib.idx");
                 }});
    r.push_back({"load_csv: out of memory",
                 raises<ResourceError>("load_csv", {"4mib.csv", "out of memory"}), [] {
                   AllocationLimit limit(1 << 20);
                   load_csv<float>(dir / "4mib.csv");
                 }});
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_datasets
