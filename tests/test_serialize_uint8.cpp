// uint8 checkpoint members (serialize.hpp): a module's byte buffers
// (Module::register_byte_buffer, packed codes) are saved as '|u1' and load
// into float and double state dicts exactly; numpy's uint8 arrays read the
// same way; sizes and dtypes checked as for float members.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_serialize_uint8)

using xgrad::Module;
using xgrad::StateDict;
using xgrad::Tensor;
using xgrad_test::contains;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

// A .npy file as numpy writes it: magic, version 1.0, header padded to 64.
std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                bool fortran = false) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(dict.size() & 0xff);
  out += char(dict.size() >> 8);
  return out + dict + data;
}

struct Packed : Module<float> {
  Tensor<float> codes, scale;
  Packed() : Module<float>("Packed") {
    codes = register_byte_buffer("codes", Tensor<float>(xt::xarray<float>({0.f, 17.f, 255.f})));
    scale = register_buffer("scale", Tensor<float>(xt::xarray<float>({0.5f})));
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(byte_buffers_are_saved_as_uint8_members_and_load_back_exactly) {
  xgrad_test::TempDir dir;
  Packed m;
  BOOST_TEST(m.byte_state_keys() == std::vector<std::string>{"codes"});
  xgrad::save(m, dir / "m.npz");
  const StateDict<float> f = xgrad::load_state_dict_file<float>(dir / "m.npz");
  BOOST_TEST(equal_arrays(f[0].second, xt::xarray<float>({0.f, 17.f, 255.f})));
  // A uint8 member loads into a double state dict too.
  xgrad::save(StateDict<float>{{"codes", f[0].second}}, dir / "codes.npz", {"codes"});
  const StateDict<double> d = xgrad::load_state_dict_file<double>(dir / "codes.npz");
  BOOST_TEST(equal_arrays(d[0].second, xt::xarray<double>({0.0, 17.0, 255.0})));
  Packed fresh;
  fresh.codes.mutable_data() = xt::xarray<float>({1.f});
  xgrad::load(fresh, dir / "m.npz");
  BOOST_TEST(equal_arrays(fresh.codes.data(), m.codes.data()));
}

BOOST_AUTO_TEST_CASE(a_uint8_member_holds_one_byte_per_element) {
  const std::string bytes = npy("|u1", "(2, 3)", std::string("\x00\x01\x02\xfd\xfe\xff", 6));
  BOOST_TEST(bytes.size() % 64u == 6u);  // a header padded to 64, one byte each
  const auto a = xgrad::parse_npy<float>(bytes, "test");
  BOOST_TEST(equal_arrays(a, xt::xarray<float>({{0.f, 1.f, 2.f}, {253.f, 254.f, 255.f}})));
  // Fortran order: column by column.
  const auto f = xgrad::parse_npy<double>(
      npy("|u1", "(2, 3)", std::string("\x00\x01\x02\x03\x04\x05", 6), true), "test");
  BOOST_TEST(equal_arrays(f, xt::xarray<double>({{0, 2, 4}, {1, 3, 5}})));
}

BOOST_AUTO_TEST_CASE(a_uint8_member_of_the_wrong_size_or_another_dtype_is_refused) {
  BOOST_CHECK_EXCEPTION(xgrad::parse_npy<float>(npy("|u1", "(4,)", "abc"), "m"), xgrad::IOError,
                        mentions<xgrad::IOError>("has 3 data bytes, shape [4] needs 4"));
  BOOST_CHECK_EXCEPTION(xgrad::parse_npy<float>(npy("|u1", "(2,)", "abc"), "m"), xgrad::IOError,
                        mentions<xgrad::IOError>("needs 2"));
  BOOST_CHECK_EXCEPTION(xgrad::parse_npy<float>(npy("<u2", "(1,)", "ab"), "m"), xgrad::TypeError,
                        mentions<xgrad::TypeError>("or uint8 ('|u1')"));
}

BOOST_AUTO_TEST_SUITE_END()
