// Checkpoints from a hostile source: decompression bombs, headers whose sizes
// overflow, member names the saver refuses, allocation failure while loading,
// and the temporary files of interrupted saves. Every failure is an IOError
// naming the file and the member, memory stays bounded by what the headers
// legitimately describe, and keys follow one rule on save and load.
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "alloc_limit.hpp"
#include "test_util.hpp"
#include "xgrad/detail/replace_file.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_serialize_hostile)

namespace fs = std::filesystem;
using xgrad::StateDict;
using xgrad_test::AllocationLimit;
using xgrad_test::contains;
using xgrad_test::read_file;
using xgrad_test::TempDir;
using xgrad_test::write_file;

namespace {

struct Member {
  std::string name;
  std::string bytes;
  bool deflate = false;
};

// A zip written by libzip (so only the content is hostile, not the container).
void write_zip(const std::string& path, const std::vector<Member>& members) {
  int code = 0;
  zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  BOOST_REQUIRE(za);
  for (const auto& m : members) {
    zip_source_t* src = zip_source_buffer(za, m.bytes.data(), m.bytes.size(), 0);
    BOOST_REQUIRE(src);
    const zip_int64_t idx = zip_file_add(za, m.name.c_str(), src, ZIP_FL_ENC_UTF_8);
    BOOST_REQUIRE(idx >= 0);
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx),
                             m.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 9);
  }
  BOOST_REQUIRE(zip_close(za) == 0);
}

// A v1 .npy header for float32 data of `shape` (e.g. "(2,)"), then `data`.
std::string npy(const std::string& shape, const std::string& data) {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_le16(std::string& s, std::size_t at, std::uint16_t v) {
  for (int i = 0; i < 2; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// A v1 .npy header for `floats` float32 values, padded (as numpy pads) to a
// multiple of 64 bytes.
std::string npy_header(std::size_t floats) {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(floats) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header;
}

// A zip of n stored members written by hand, each member's data running on to
// the end of all members' data: member i's array holds the local headers and
// data of members i+1 ... n-1 (an "overlapping" zip bomb: a directory of n
// entries into nested bytes). The last member holds `tail` bytes of zeros.
// libzip's consistency checks accept it (every local header matches its
// directory entry); only the total gives it away.
std::string overlapping_zip(std::size_t n, std::size_t tail) {
  std::vector<std::string> names, locals;
  std::vector<std::uint32_t> crcs, sizes;
  std::vector<std::size_t> headers;  // .npy header sizes
  std::string rest(tail, '\0');      // what follows member i's .npy header
  for (std::size_t k = n; k-- > 0;) {
    const std::string name = "m" + std::string(3 - std::to_string(k).size(), '0') +
                             std::to_string(k) + ".npy";  // 8 bytes
    const std::string header = npy_header(rest.size() / 4);
    const std::string data = header + rest;
    // 30 bytes + name + 2 extra bytes: 40, so the next array stays a whole
    // number of floats.
    std::string local(30, '\0');
    put_le32(local, 0, 0x04034b50);
    put_le16(local, 4, 20);     // version needed
    put_le16(local, 12, 0x21);  // date: 1980-01-01
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    put_le32(local, 14, crc);
    put_le32(local, 18, static_cast<std::uint32_t>(data.size()));
    put_le32(local, 22, static_cast<std::uint32_t>(data.size()));
    put_le16(local, 26, static_cast<std::uint16_t>(name.size()));
    put_le16(local, 28, 2);
    local += name + std::string(2, '\0');
    rest = local + data;
    names.insert(names.begin(), name);
    crcs.insert(crcs.begin(), crc);
    sizes.insert(sizes.begin(), static_cast<std::uint32_t>(data.size()));
    locals.insert(locals.begin(), local);
    headers.insert(headers.begin(), header.size());
  }
  std::string central;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::string e(46, '\0');
    put_le32(e, 0, 0x02014b50);
    put_le16(e, 4, 20);  // version made by
    put_le16(e, 6, 20);  // version needed
    put_le16(e, 14, 0x21);
    put_le32(e, 16, crcs[i]);
    put_le32(e, 20, sizes[i]);
    put_le32(e, 24, sizes[i]);
    put_le16(e, 28, static_cast<std::uint16_t>(names[i].size()));
    put_le32(e, 42, static_cast<std::uint32_t>(offset));
    central += e + names[i];
    offset += locals[i].size() + headers[i];  // member i+1 starts inside member i's array
  }
  std::string eocd(22, '\0');
  put_le32(eocd, 0, 0x06054b50);
  put_le16(eocd, 8, static_cast<std::uint16_t>(n));
  put_le16(eocd, 10, static_cast<std::uint16_t>(n));
  put_le32(eocd, 12, static_cast<std::uint32_t>(central.size()));
  put_le32(eocd, 16, static_cast<std::uint32_t>(rest.size()));
  return rest + central + eocd;
}

// The IOError of loading `path` as float must name the file and `member`.
boost::test_tools::predicate_result io_error_names(const std::string& path,
                                                   const std::string& member) {
  try {
    xgrad::load_state_dict_file<float>(path);
  } catch (const xgrad::IOError& e) {
    const std::string msg = e.what();
    boost::test_tools::predicate_result r(contains(msg, path) && contains(msg, member));
    r.message() << "message: " << msg;
    return r;
  }
  boost::test_tools::predicate_result r(false);
  r.message() << "no IOError";
  return r;
}

// The pid of a process that has exited and been reaped.
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decompression_bombs)

BOOST_AUTO_TEST_CASE(a_member_inflating_past_its_header_is_refused_before_inflating,
                     *xgrad_test::needs_allocation_limit()) {
  // Shape (2,) (8 data bytes) followed by 16 MiB of zeros: a few KB deflated.
  TempDir tmp;
  write_zip(tmp / "bomb.npz", {{"w.npy", npy("(2,)", std::string(16 << 20, '\0')), true}});
  BOOST_TEST(fs::file_size(tmp / "bomb.npz") < 100000u);
  AllocationLimit limit;
  BOOST_TEST(io_error_names(tmp / "bomb.npz", "\"w\""));
  // The header and a few libzip buffers; nothing near the inflated size.
  BOOST_TEST(limit.largest() < (1u << 20));
}

BOOST_AUTO_TEST_CASE(a_member_whose_declared_size_lies_stops_at_the_header_size,
                     *xgrad_test::needs_allocation_limit()) {
  // As above, but the zip entry declares exactly what the header needs (the
  // sizes patched in the local and central headers): decompression must stop
  // there, and the excess is an error.
  TempDir tmp;
  const std::string member = npy("(2,)", std::string(16 << 20, '\0'));
  write_zip(tmp / "lie.npz", {{"w.npy", member, true}});
  std::string bytes = read_file(tmp / "lie.npz");
  const std::uint32_t honest = static_cast<std::uint32_t>(member.size() - (16 << 20) + 8);
  put_le32(bytes, 22, honest);  // local file header: uncompressed size
  const std::size_t central = bytes.find(std::string("PK\x01\x02", 4));
  BOOST_REQUIRE(central != std::string::npos);
  put_le32(bytes, central + 24, honest);  // central directory: uncompressed size
  write_file(tmp / "lie.npz", bytes);
  AllocationLimit limit;
  BOOST_TEST(io_error_names(tmp / "lie.npz", "\"w\""));
  BOOST_TEST(limit.largest() < (1u << 20));
}

BOOST_AUTO_TEST_CASE(a_header_asking_for_more_than_the_member_holds_is_refused_unallocated,
                     *xgrad_test::needs_allocation_limit()) {
  // Shape (2^28,) is 1 GiB of float32, but the stored member holds 8 bytes.
  TempDir tmp;
  write_zip(tmp / "big.npz", {{"w.npy", npy("(268435456,)", std::string(8, '\0'))}});
  AllocationLimit limit;
  BOOST_TEST(io_error_names(tmp / "big.npz", "\"w\""));
  BOOST_TEST(limit.largest() < (1u << 20));
}

BOOST_AUTO_TEST_CASE(members_overlapping_in_the_file_are_refused_before_any_is_read) {
  // 64 nested members: 18,326 bytes on disk whose members would load
  // 609,024 bytes (33x the file; quadratic in the count) if each member were
  // only checked against the file alone.
  TempDir tmp;
  const std::string bytes = overlapping_zip(64, 4096);
  write_file(tmp / "nested.npz", bytes);
  BOOST_TEST_REQUIRE(bytes.size() < 20000u);
  try {
    xgrad::load_state_dict_file<float>(tmp / "nested.npz");
    BOOST_FAIL("no IOError");
  } catch (const xgrad::IOError& e) {
    const std::string msg = e.what();
    BOOST_TEST(contains(msg, tmp / "nested.npz"), msg);
    BOOST_TEST(contains(msg, "members overlap"), msg);
    BOOST_TEST(contains(msg, std::to_string(bytes.size()) + " bytes"), msg);
  }
}

BOOST_AUTO_TEST_CASE(one_member_of_the_hand_written_zip_loads) {
  // The same writer with one member (nothing overlaps): libzip and the loader
  // accept it, so the refusal above is the overlap's.
  TempDir tmp;
  write_file(tmp / "one.npz", overlapping_zip(1, 4096));
  const auto dict = xgrad::load_state_dict_file<float>(tmp / "one.npz");
  BOOST_REQUIRE_EQUAL(dict.size(), 1u);
  BOOST_TEST(dict[0].first == "m000");
  BOOST_TEST(dict[0].second.size() == 1024u);
}

BOOST_AUTO_TEST_CASE(a_failed_allocation_while_loading_is_an_io_error,
                     *xgrad_test::needs_allocation_limit()) {
  // A legitimate 4 MiB array on a "machine" that cannot allocate 1 MiB at once.
  TempDir tmp;
  write_zip(tmp / "ok.npz", {{"w.npy", npy("(1048576,)", std::string(4 << 20, '\0')), true}});
  {
    AllocationLimit limit(1u << 20);
    BOOST_TEST(io_error_names(tmp / "ok.npz", "\"w\""));
  }
  // Without the limit the same file loads.
  const auto dict = xgrad::load_state_dict_file<float>(tmp / "ok.npz");
  BOOST_TEST(dict.at(0).second.size() == 1048576u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(overflowing_headers)

BOOST_AUTO_TEST_CASE(an_empty_shape_whose_other_extents_overflow_is_an_io_error) {
  // 0 elements, but the product of the non-zero extents (2^64) overflows, and
  // with it xtensor's strides.
  TempDir tmp;
  write_zip(tmp / "o.npz", {{"w.npy", npy("(0, 4294967296, 4294967296)", "")}});
  BOOST_TEST(io_error_names(tmp / "o.npz", "\"w\""));
  BOOST_CHECK_THROW(xgrad::parse_npy<float>(npy("(0, 4294967296, 4294967296)", ""), "w"),
                    xgrad::IOError);
  BOOST_CHECK_THROW(xgrad::parse_npy<float>(npy("(4294967296, 0, 4294967296)", ""), "w"),
                    xgrad::IOError);
}

BOOST_AUTO_TEST_CASE(an_empty_shape_with_addressable_extents_loads) {
  TempDir tmp;
  write_zip(tmp / "e.npz", {{"w.npy", npy("(0, 65536, 65536)", "")}});
  const auto dict = xgrad::load_state_dict_file<float>(tmp / "e.npz");
  BOOST_TEST(dict.at(0).second.size() == 0u);
  BOOST_TEST(dict.at(0).second.shape(2) == 65536u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keys)

BOOST_AUTO_TEST_CASE(a_key_holding_a_nul_byte_is_refused_on_save) {
  TempDir tmp;
  const std::string key("a\0b", 3);
  BOOST_CHECK_EXCEPTION(xgrad::save(StateDict<float>{{key, xt::xarray<float>({1})}}, tmp / "m.npz"),
                        xgrad::ValueError, xgrad_test::mentions<xgrad::ValueError>("'\\0'"));
  BOOST_TEST(!fs::exists(tmp / "m.npz"));
}

BOOST_AUTO_TEST_CASE(member_names_the_saver_refuses_are_refused_on_load) {
  const std::string ok = npy("(1,)", std::string(4, '\0'));
  for (const char* name :
       {"...npy", "..npy", "a/../b.npy", "a/b.npy", "a\\b.npy", "x..y.npy", "a..npy", ".npy"}) {
    BOOST_TEST_CONTEXT(name) {
      TempDir tmp;
      write_zip(tmp / "m.npz", {{name, ok}});
      BOOST_TEST(io_error_names(tmp / "m.npz", name));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_key_that_saves_loads_back_under_the_same_key) {
  TempDir tmp;
  const std::vector<std::string> keys = {
      "w", "0.weight", "fc1.bias", ".a", "a b", "é", std::string(65531, 'k')};
  StateDict<float> dict;
  for (const auto& k : keys) dict.emplace_back(k, xt::xarray<float>({1.5f}));
  xgrad::save(dict, tmp / "k.npz");
  const auto back = xgrad::load_state_dict_file<float>(tmp / "k.npz");
  BOOST_REQUIRE_EQUAL(back.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) BOOST_TEST(back[i].first == keys[i]);
}

BOOST_AUTO_TEST_CASE(a_key_too_long_for_a_zip_name_is_refused_on_save) {
  TempDir tmp;
  BOOST_CHECK_EXCEPTION(
      xgrad::save(StateDict<float>{{std::string(65532, 'k'), xt::xarray<float>({1})}},
                  tmp / "m.npz"),
      xgrad::ValueError, xgrad_test::mentions<xgrad::ValueError>("65531"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(interrupted_saves)

BOOST_AUTO_TEST_CASE(a_temporary_file_left_by_a_dead_process_is_removed_by_the_next_save) {
  TempDir tmp;
  const std::string prefix = xgrad::detail::temporary_prefix("model.npz");
  const std::string stale = prefix + std::to_string(dead_pid()) + "-0";
  const std::string alive = prefix + std::to_string(::getppid()) + "-3";  // a running process
  const std::string other_host = "model.npz.tmp-elsewhere-" + std::to_string(dead_pid()) + "-0";
  const std::string other_target =
      xgrad::detail::temporary_prefix("other.npz") + std::to_string(dead_pid()) + "-0";
  for (const auto& name : {stale, alive, other_host, other_target})
    write_file(tmp / name, std::string(1000, 'x'));  // a half-written checkpoint
  xgrad::save(StateDict<float>{{"w", xt::xarray<float>({1})}}, tmp / "model.npz");
  std::vector<std::string> want = {"model.npz", alive, other_host, other_target};
  std::sort(want.begin(), want.end());
  BOOST_TEST(names_in(tmp.path) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(libzips_temporary_file_of_a_dead_process_is_removed_by_the_next_save) {
  // zip_close writes "<our temporary>.XXXXXX" (letters and digits) and renames
  // it; a save killed there leaves that name.
  TempDir tmp;
  const std::string ours =
      xgrad::detail::temporary_prefix("model.npz") + std::to_string(dead_pid()) + "-0";
  const std::string stale = ours + ".a1b2c3";
  const std::string other = ours + ".a-b";  // a dash is not libzip's
  for (const auto& name : {stale, other}) write_file(tmp / name, std::string(1000, 'x'));
  xgrad::save(StateDict<float>{{"w", xt::xarray<float>({1})}}, tmp / "model.npz");
  std::vector<std::string> want = {"model.npz", other};
  std::sort(want.begin(), want.end());
  BOOST_TEST(names_in(tmp.path) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // test_serialize_hostile
