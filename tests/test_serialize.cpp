// Checkpoints: .npz files that round-trip bit-exactly, that NumPy opens, and
// that fail with IOError / TypeError (never a crash) when missing, truncated,
// corrupt or of the wrong dtype. Saving is atomic.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/module.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_serialize)

namespace fs = std::filesystem;
using xgrad::StateDict;
using xgrad::Tensor;
using xgrad_test::equal_arrays;
using xgrad_test::read_file;
using xgrad_test::write_file;

using xgrad_test::TempDir;

namespace {

template <class T>
struct Small : xgrad::Module<T> {
  Tensor<T> weight, bias, stats;
  Small() : xgrad::Module<T>("Small") {
    xgrad::Generator gen(7);
    weight = this->register_parameter("weight", xgrad::randn<T>({3, 4}, gen));
    bias = this->register_parameter("bias", xgrad::randn<T>({3}, gen));
    stats = this->register_buffer("stats", xgrad::scalar<T>(5));
  }
};

template <class T>
struct Outer : xgrad::Module<T> {
  std::shared_ptr<Small<T>> inner;
  Outer() : xgrad::Module<T>("Outer") {
    inner = this->register_module("0", std::make_shared<Small<T>>());
  }
};

// Bit patterns must survive: NaN payloads, -0, infinities, subnormals.
template <class T>
xt::xarray<T> special_values() {
  using L = std::numeric_limits<T>;
  return xt::xarray<T>({{T(-0.0), L::quiet_NaN(), L::infinity(), -L::infinity()},
                        {L::denorm_min(), L::max(), L::lowest(), T(0.1)}});
}

template <class T>
bool same_bits(const xt::xarray<T>& a, const xt::xarray<T>& b) {
  return a.shape() == b.shape() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// A .npy header with the given dict text, then `data`.
std::string npy_with(const std::string& dict, const std::string& data) {
  std::string header = dict + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(&s[0], values.begin(), s.size());
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE_TEMPLATE(state_dict_round_trips_bit_exactly, T, xgrad_test::Reals) {
  TempDir tmp;
  xgrad::Generator gen(1);
  const StateDict<T> dict = {{"special", special_values<T>()},
                             {"random.weight", xgrad::randn<T>({5, 7}, gen).data()},
                             {"scalar", xt::xarray<T>(T(3.25))},
                             {"empty", xt::xarray<T>::from_shape({0, 3})},
                             {"rank4", xgrad::rand<T>({2, 1, 3, 2}, gen).data()}};
  xgrad::save(dict, tmp / "a.npz");
  const auto back = xgrad::load_state_dict_file<T>(tmp / "a.npz");
  BOOST_REQUIRE_EQUAL(back.size(), dict.size());
  for (std::size_t i = 0; i < dict.size(); ++i) {
    BOOST_TEST(back[i].first == dict[i].first);
    BOOST_TEST(same_bits(back[i].second, dict[i].second), "member " << dict[i].first);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(module_round_trips_through_save_and_load, T, xgrad_test::Reals) {
  TempDir tmp;
  Outer<T> a, b;
  {  // b differs from a until loaded
    xgrad::NoGradGuard no_grad;
    b.inner->weight.fill_(0);
  }
  xgrad::save(a, tmp / "m.npz");
  xgrad::load(b, tmp / "m.npz");
  BOOST_TEST(same_bits(b.inner->weight.data(), a.inner->weight.data()));
  BOOST_TEST(same_bits(b.inner->bias.data(), a.inner->bias.data()));
  BOOST_TEST(b.inner->stats.item() == T(5));
}

BOOST_AUTO_TEST_CASE(a_module_pointer_saves_and_loads_as_libtorch_spells_it) {
  TempDir tmp;
  auto a = std::make_shared<Outer<float>>(), b = std::make_shared<Outer<float>>();
  {
    xgrad::NoGradGuard no_grad;
    b->inner->weight.fill_(0);
  }
  xgrad::save(a, tmp / "m.npz");  // torch::save(net, path)
  xgrad::load(b, tmp / "m.npz");  // torch::load(net, path)
  BOOST_TEST(same_bits(b->inner->weight.data(), a->inner->weight.data()));
}

BOOST_AUTO_TEST_CASE(an_empty_state_dict_round_trips) {
  TempDir tmp;
  xgrad::save(StateDict<float>{}, tmp / "empty.npz");
  BOOST_TEST(xgrad::load_state_dict_file<float>(tmp / "empty.npz").empty());
}

BOOST_AUTO_TEST_CASE(npy_data_starts_on_a_64_byte_boundary) {
  const std::string bytes = xgrad::to_npy_bytes(xt::xarray<float>({1, 2, 3}));
  BOOST_TEST(bytes.size() % 64 == 12u);  // header padded to 64, then 3 floats
  BOOST_TEST(bytes.find("'descr': '<f4', 'fortran_order': False, 'shape': (3,), }") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(fortran_order_arrays_are_read_in_c_order) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column, as NumPy writes order='F'.
  const std::string npy = npy_with("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                   raw<double>({1, 4, 2, 5, 3, 6}));
  BOOST_TEST(equal_arrays(xgrad::parse_npy<double>(npy, "test"),
                          xt::xarray<double>({{1, 2, 3}, {4, 5, 6}})));
}

BOOST_AUTO_TEST_CASE(saving_over_an_existing_file_replaces_it_and_leaves_no_temporaries) {
  TempDir tmp;
  xgrad::save(StateDict<float>{{"a", xt::xarray<float>({1})}}, tmp / "c.npz");
  xgrad::save(StateDict<float>{{"b", xt::xarray<float>({2, 3})}}, tmp / "c.npz");
  const auto back = xgrad::load_state_dict_file<float>(tmp / "c.npz");
  BOOST_REQUIRE_EQUAL(back.size(), 1u);
  BOOST_TEST(back[0].first == "b");
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(tmp.path)) {
    (void)entry;
    ++files;
  }
  BOOST_TEST(files == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(numpy_interop)

// The python3 that can import numpy (the PATH one may be a bare pyenv).
std::string python_with_numpy() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    const std::string cmd = std::string(py) + " -c 'import numpy' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

BOOST_AUTO_TEST_CASE(numpy_opens_a_checkpoint_directly) {
  const std::string py = python_with_numpy();
  if (py.empty()) {
    BOOST_TEST_MESSAGE("skipped: no python3 with numpy");
    return;
  }
  TempDir tmp;
  const StateDict<float> f = {{"0.weight", xt::xarray<float>({{0.5f, -1.5f, 2}, {3, 4, -0.25f}})},
                              {"0.bias", xt::xarray<float>({1, 2})},
                              {"step", xt::xarray<float>(7)}};
  const StateDict<double> d = {{"fc1.weight", xt::xarray<double>({{0.1, 1e300}})}};
  xgrad::save(f, tmp / "f.npz");
  xgrad::save(d, tmp / "d.npz");
  const std::string script =
      "import numpy as np, sys\n"
      "f = np.load(sys.argv[1]); d = np.load(sys.argv[2])\n"
      "assert list(f.keys()) == ['0.weight', '0.bias', 'step'], list(f.keys())\n"
      "w = f['0.weight']\n"
      "assert w.dtype == np.float32 and w.shape == (2, 3) and w.flags['C_CONTIGUOUS']\n"
      "assert (w == np.array([[0.5, -1.5, 2], [3, 4, -0.25]], np.float32)).all()\n"
      "assert (f['0.bias'] == [1, 2]).all() and f['step'].shape == () and f['step'] == 7\n"
      "x = d['fc1.weight']\n"
      "assert x.dtype == np.float64 and x.shape == (1, 2) and x[0, 0] == 0.1 and x[0, 1] == "
      "1e300\n";
  write_file(tmp / "check.py", script);
  const std::string cmd =
      py + " " + (tmp / "check.py") + " " + (tmp / "f.npz") + " " + (tmp / "d.npz");
  BOOST_TEST(std::system(cmd.c_str()) == 0, "numpy rejected the checkpoint: " << cmd);
}

BOOST_AUTO_TEST_CASE(a_file_written_by_numpy_savez_loads) {
  const std::string py = python_with_numpy();
  if (py.empty()) {
    BOOST_TEST_MESSAGE("skipped: no python3 with numpy");
    return;
  }
  TempDir tmp;
  const std::string script =
      "import numpy as np, sys\n"
      "np.savez(sys.argv[1], **{'a.b': np.arange(6, dtype=np.float64).reshape(2, 3),\n"
      "                        'f': np.asfortranarray(np.arange(6.0).reshape(2, 3))})\n"
      "np.savez_compressed(sys.argv[2], w=np.ones((4,), np.float64))\n";
  write_file(tmp / "make.py", script);
  const std::string cmd =
      py + " " + (tmp / "make.py") + " " + (tmp / "np.npz") + " " + (tmp / "npc.npz");
  BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
  const auto dict = xgrad::load_state_dict_file<double>(tmp / "np.npz");
  BOOST_REQUIRE_EQUAL(dict.size(), 2u);
  BOOST_TEST(dict[0].first == "a.b");
  BOOST_TEST(equal_arrays(dict[0].second, xt::xarray<double>({{0, 1, 2}, {3, 4, 5}})));
  BOOST_TEST(equal_arrays(dict[1].second, xt::xarray<double>({{0, 1, 2}, {3, 4, 5}})));
  const auto compressed = xgrad::load_state_dict_file<double>(tmp / "npc.npz");
  BOOST_TEST(equal_arrays(compressed.at(0).second, xt::xarray<double>({1, 1, 1, 1})));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_files)

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_io_error) {
  TempDir tmp;
  BOOST_CHECK_THROW(xgrad::load_state_dict_file<float>(tmp / "nope.npz"), xgrad::IOError);
  Small<float> m;
  BOOST_CHECK_THROW(xgrad::load(m, tmp / "nope.npz"), xgrad::IOError);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_zip_is_an_io_error) {
  TempDir tmp;
  write_file(tmp / "text.npz", "this is not a zip archive at all");
  BOOST_CHECK_THROW(xgrad::load_state_dict_file<float>(tmp / "text.npz"), xgrad::IOError);
  write_file(tmp / "zero.npz", "");
  BOOST_CHECK_THROW(xgrad::load_state_dict_file<float>(tmp / "zero.npz"), xgrad::IOError);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_an_io_error) {
  TempDir tmp;
  Small<double> m;
  xgrad::save(m, tmp / "full.npz");
  const std::string bytes = read_file(tmp / "full.npz");
  // Every prefix, from the first byte to one byte short: none may load.
  for (std::size_t n = 1; n < bytes.size(); ++n) {
    write_file(tmp / "cut.npz", bytes.substr(0, n));
    BOOST_CHECK_THROW(xgrad::load_state_dict_file<double>(tmp / "cut.npz"), xgrad::IOError);
  }
}

BOOST_AUTO_TEST_CASE(corrupt_data_bytes_are_an_io_error) {
  TempDir tmp;
  const xt::xarray<float> values = {1.0f, 2.0f, 3.0f, 4.0f};
  xgrad::save(StateDict<float>{{"v", values}}, tmp / "ok.npz");
  std::string bytes = read_file(tmp / "ok.npz");
  // Flip one bit of the stored value 3.0f (found by its byte pattern): the zip
  // CRC no longer matches.
  const std::string three = raw<float>({3.0f});
  const std::size_t at = bytes.find(three);
  BOOST_REQUIRE(at != std::string::npos);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  write_file(tmp / "bad.npz", bytes);
  BOOST_CHECK_THROW(xgrad::load_state_dict_file<float>(tmp / "bad.npz"), xgrad::IOError);
}

BOOST_AUTO_TEST_CASE(corrupt_bytes_anywhere_never_crash) {
  TempDir tmp;
  Small<float> m;
  xgrad::save(m, tmp / "ok.npz");
  const std::string bytes = read_file(tmp / "ok.npz");
  // Overwrite each byte in turn with 0xff: loading either throws an xgrad
  // error or (for bytes the zip format ignores, e.g. timestamps) succeeds.
  std::size_t failures = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] == '\xff' ? 0 : 0xff);
    write_file(tmp / "bad.npz", bad);
    try {
      xgrad::load_state_dict_file<float>(tmp / "bad.npz");
    } catch (const xgrad::Error&) {
      ++failures;
    }
  }
  BOOST_TEST(failures > bytes.size() / 2);
}

BOOST_AUTO_TEST_CASE(a_float_file_loaded_as_double_is_a_type_error) {
  TempDir tmp;
  Small<float> f;
  xgrad::save(f, tmp / "f.npz");
  Small<double> d;
  const auto before = d.state_dict();
  BOOST_CHECK_EXCEPTION(
      xgrad::load(d, tmp / "f.npz"), xgrad::TypeError, [](const xgrad::TypeError& e) {
        const std::string msg = e.what();
        return msg.find("float32") != std::string::npos && msg.find("weight") != std::string::npos;
      });
  BOOST_TEST(same_bits(d.weight.data(), before[0].second));  // untouched
  BOOST_CHECK_THROW(xgrad::load_state_dict_file<double>(tmp / "f.npz"), xgrad::TypeError);
}

BOOST_AUTO_TEST_CASE(a_float_file_can_be_converted_explicitly) {
  TempDir tmp;
  Small<float> f;
  xgrad::save(f, tmp / "f.npz");
  Small<double> d;
  d.load_state_dict(
      xgrad::convert_state_dict<double>(xgrad::load_state_dict_file<float>(tmp / "f.npz")));
  BOOST_TEST(d.weight.data()(1, 2) == static_cast<double>(f.weight.data()(1, 2)));
}

// Malformed .npy members, one table row each.
BOOST_AUTO_TEST_CASE(malformed_npy_members_are_rejected_with_the_right_type) {
  const std::string two = raw<float>({1, 2});
  struct Case {
    const char* what;
    std::string bytes;
    bool type_error;
  };
  const std::vector<Case> cases = {
      {"bad magic",
       "\x93NUMPX" +
           npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two).substr(6),
       false},
      {"too short", std::string("\x93NUMPY\x01", 7), false},
      {"version 9", std::string("\x93NUMPY\x09\x00\x00\x00", 10), false},
      {"header longer than file", std::string("\x93NUMPY\x01\x00\xff\x00{", 11), false},
      {"not a dict", npy_with("['descr', '<f4']", two), false},
      {"missing shape", npy_with("{'descr': '<f4', 'fortran_order': False}", two), false},
      {"unknown key",
       npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two), false},
      {"negative extent",
       npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two), false},
      {"huge extent",
       npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                two),
       false},
      {"overflowing shape",
       npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                two),
       false},
      {"empty but huge extent",
       npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 18446744073709551615), }",
                ""),
       false},
      {"too few bytes", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", two),
       false},
      {"too many bytes", npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", two),
       false},
      {"bad bool", npy_with("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", two),
       false},
      {"int64 data",
       npy_with("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
                raw<std::int64_t>({1})),
       true},
      {"big endian", npy_with("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two),
       true},
      {"float64 data",
       npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", raw<double>({1})),
       true},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      if (c.type_error) {
        BOOST_CHECK_THROW(xgrad::parse_npy<float>(c.bytes, c.what), xgrad::TypeError);
      } else {
        BOOST_CHECK_THROW(xgrad::parse_npy<float>(c.bytes, c.what), xgrad::IOError);
      }
    }
  }
  // The well-formed version of the same member parses.
  const auto ok = npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two);
  BOOST_TEST(equal_arrays(xgrad::parse_npy<float>(ok, "ok"), xt::xarray<float>({1, 2})));
}

BOOST_AUTO_TEST_CASE(strict_load_of_a_mismatching_file_changes_nothing) {
  TempDir tmp;
  xgrad::save(StateDict<float>{{"weight", xt::xarray<float>::from_shape({3, 4})}},
              tmp / "part.npz");
  Small<float> m;
  const auto before = m.state_dict();
  BOOST_CHECK_THROW(xgrad::load(m, tmp / "part.npz"), xgrad::ValueError);  // bias, stats missing
  for (std::size_t i = 0; i < before.size(); ++i)
    BOOST_TEST(same_bits(m.state_dict()[i].second, before[i].second));
  xgrad::load(m, tmp / "part.npz", /*strict=*/false);
  BOOST_TEST(!same_bits(m.weight.data(), before[0].second));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bad_saves)

BOOST_AUTO_TEST_CASE(an_unwritable_path_is_an_io_error_and_leaves_nothing) {
  TempDir tmp;
  BOOST_CHECK_THROW(
      xgrad::save(StateDict<float>{{"a", xt::xarray<float>({1})}}, tmp / "no/such/dir/x.npz"),
      xgrad::IOError);
  BOOST_CHECK_THROW(xgrad::save(StateDict<float>{}, tmp / "no/such/dir/x.npz"), xgrad::IOError);
  BOOST_TEST(fs::is_empty(tmp.path));
}

BOOST_AUTO_TEST_CASE(a_failed_rename_removes_the_temporary_file) {
  // The temporary file is written, then rename() fails: the target is a directory.
  TempDir tmp;
  fs::create_directory(tmp / "model.npz");
  for (const auto& dict : {StateDict<float>{{"a", xt::xarray<float>({1})}}, StateDict<float>{}}) {
    try {
      xgrad::save(dict, tmp / "model.npz");
      BOOST_ERROR("saved over a directory");
    } catch (const xgrad::IOError& e) {
      BOOST_TEST(std::string(e.what()).find("cannot rename") != std::string::npos, e.what());
    }
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(tmp.path)) {
      names.push_back(entry.path().filename().string());
    }
    BOOST_TEST(names == std::vector<std::string>{"model.npz"}, boost::test_tools::per_element());
    BOOST_TEST(fs::is_empty(tmp / "model.npz"));
  }
}

BOOST_AUTO_TEST_CASE(bad_keys_are_value_errors_and_keep_the_old_file) {
  TempDir tmp;
  xgrad::save(StateDict<float>{{"a", xt::xarray<float>({1})}}, tmp / "keep.npz");
  const std::string before = read_file(tmp / "keep.npz");
  const StateDict<float> repeated = {{"a", xt::xarray<float>({1})}, {"a", xt::xarray<float>({2})}};
  BOOST_CHECK_THROW(xgrad::save(repeated, tmp / "keep.npz"), xgrad::ValueError);
  BOOST_CHECK_THROW(xgrad::save(StateDict<float>{{"", xt::xarray<float>({1})}}, tmp / "keep.npz"),
                    xgrad::ValueError);
  BOOST_TEST(read_file(tmp / "keep.npz") == before);
}

BOOST_AUTO_TEST_CASE(keys_that_would_escape_an_unzip_are_value_errors) {
  TempDir tmp;
  for (const char* key : {"../evil", "a/b", "a\\b", "x..y"}) {
    BOOST_CHECK_THROW(xgrad::save(StateDict<float>{{key, xt::xarray<float>({1})}}, tmp / "m.npz"),
                      xgrad::ValueError);
  }
  BOOST_TEST(!fs::exists(tmp / "m.npz"));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  static xgrad_test::TempDir tmp;  // static: the rows' calls use it without a capture
  auto m = std::make_shared<nn::Linear<double>>(3, 2);
  xgrad::save(*m, tmp / "m.npz");
  xgrad::save(StateDict<double>{{"weight", xt::xarray<double>::from_shape({2, 3})}},
              tmp / "partial.npz");
  xgrad_test::write_file(tmp / "garbage.npz", "not a zip");
  nn::Linear<float> f(3, 2);
  xgrad::save(f, tmp / "float.npz");
  r.push_back({"load: missing file",
               raises<IOError>("load", {"cannot open", "nope.npz"}),
               [m] { xgrad::load(*m, tmp / "nope.npz"); },
               {},
               {m}});
  r.push_back({"load: not a zip",
               raises<IOError>("load", {"cannot open", "garbage.npz"}),
               [m] { xgrad::load(*m, tmp / "garbage.npz"); },
               {},
               {m}});
  r.push_back({"load: float file as double",
               raises<TypeError>("load", {"member \"weight\"", "float.npz", "dtype float32"}),
               [m] { xgrad::load(*m, tmp / "float.npz"); },
               {},
               {m}});
  r.push_back({"load: missing key",
               raises<ValueError>("Linear::load_state_dict", {"missing keys: bias"}),
               [m] { xgrad::load(*m, tmp / "partial.npz"); },
               {},
               {m}});
  r.push_back({"save: empty key", raises<ValueError>("save", {"key \"\"", "is empty"}), [] {
                 xgrad::save(StateDict<double>{{"", xt::xarray<double>({1.0})}}, tmp / "x.npz");
               }});
  r.push_back(
      {"save: key with '/'", raises<ValueError>("save", {"key \"a/b\"", "path separator"}), [] {
         xgrad::save(StateDict<double>{{"a/b", xt::xarray<double>({1.0})}}, tmp / "x.npz");
       }});
  r.push_back({"save: key with '..'", raises<ValueError>("save", {"key \"a..b\"", "\"..\""}), [] {
                 xgrad::save(StateDict<double>{{"a..b", xt::xarray<double>({1.0})}}, tmp / "x.npz");
               }});
  r.push_back({"save: key with a NUL byte",
               raises<ValueError>("save", {"key \"a\\x00b\"", "'\\0' byte"}), [] {
                 xgrad::save(StateDict<double>{{std::string("a\0b", 3), xt::xarray<double>({1.0})}},
                             tmp / "x.npz");
               }});
  r.push_back(
      {"save: repeated key", raises<ValueError>("save", {"key \"a\"", "more than once"}), [] {
         xgrad::save(
             StateDict<double>{{"a", xt::xarray<double>({1.0})}, {"a", xt::xarray<double>({1.0})}},
             tmp / "x.npz");
       }});
  r.push_back({"save: unwritable directory",
               raises<IOError>("save", {"cannot write", "no/such/dir/m.npz"}),
               [m] { xgrad::save(*m, tmp / "no/such/dir/m.npz"); },
               {},
               {m}});
  r.push_back({"parse_npy: bad magic", raises<IOError>("load", {"member x", "bad magic"}),
               [] { xgrad::parse_npy<double>("garbage!garbage!", "member x"); }});
  r.push_back({"save: a null module pointer", raises<ValueError>("save", {"pointer is null"}),
               [] { xgrad::save(std::shared_ptr<nn::Linear<double>>(), tmp / "n.npz"); }});
  r.push_back({"load: a null module pointer", raises<ValueError>("load", {"pointer is null"}),
               [] { xgrad::load(std::shared_ptr<nn::Linear<double>>(), tmp / "m.npz"); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_serialize
