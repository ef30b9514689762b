// Helpers shared by the test suites.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>

#include "xgrad/errors.hpp"
#include "xgrad/gradcheck.hpp"
#include "xgrad/module.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad_test {

// Exact equality of shape and every element (NaN equals NaN).
template <class A, class B>
boost::test_tools::predicate_result equal_arrays(const A& a, const B& b) {
  if (a.shape() != b.shape()) {
    boost::test_tools::predicate_result r(false);
    r.message() << "shapes differ: "
                << xgrad::to_string(xgrad::Shape(a.shape().begin(), a.shape().end())) << " vs "
                << xgrad::to_string(xgrad::Shape(b.shape().begin(), b.shape().end()));
    return r;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = static_cast<double>(a.data()[i]), y = static_cast<double>(b.data()[i]);
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) {
      boost::test_tools::predicate_result r(false);
      r.message() << "element " << i << " differs: " << x << " vs " << y;
      return r;
    }
  }
  return true;
}

// The same keys in the same order, each value equal_arrays.
template <class T>
boost::test_tools::predicate_result same_state(const xgrad::StateDict<T>& a,
                                               const xgrad::StateDict<T>& b) {
  if (a.size() != b.size()) {
    boost::test_tools::predicate_result r(false);
    r.message() << a.size() << " vs " << b.size() << " entries";
    return r;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].first != b[i].first) {
      boost::test_tools::predicate_result r(false);
      r.message() << "entry " << i << ": " << a[i].first << " vs " << b[i].first;
      return r;
    }
    const auto values = equal_arrays(a[i].second, b[i].second);
    if (!values) {
      boost::test_tools::predicate_result r(false);
      r.message() << a[i].first << ": " << values.message();
      return r;
    }
  }
  return true;
}

// The element types of typed test cases (BOOST_AUTO_TEST_CASE_TEMPLATE).
using Reals = std::tuple<float, double>;

// Backpropagates a seed of ones of y's shape.
template <class T>
void backward_ones(const xgrad::Tensor<T>& y) {
  y.backward(xt::xarray<T>(xt::ones<T>(y.shape())));
}

// |a - b| <= tol elementwise, same shape.
template <class A, class B>
boost::test_tools::predicate_result close_arrays(const A& a, const B& b, double tol) {
  if (a.shape() != b.shape()) {
    boost::test_tools::predicate_result r(false);
    r.message() << "shapes differ";
    return r;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = static_cast<double>(a.data()[i]), y = static_cast<double>(b.data()[i]);
    if (!(std::abs(x - y) <= tol)) {
      boost::test_tools::predicate_result r(false);
      r.message() << "element " << i << " differs: " << x << " vs " << y << " (tol " << tol << ")";
      return r;
    }
  }
  return true;
}

// ---- rounding-error bounds ----
//
// A sum or dot product of n terms evaluated in T, in any order and grouping,
// with or without fused multiply-adds, is within gamma_n(T) * sum |terms| of
// its exact value, where gamma_n = n u / (1 - n u) and u is T's unit roundoff
// (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., 3.1).
// BLAS kernel sets (SSE3, AVX2, AVX-512, small-matrix kernels) differ only in
// that order and grouping, so a tolerance built from this bound holds on every
// one of them; a constant that one machine's kernels happen to meet does not.

// u = eps / 2: the largest relative error of one rounding to T.
template <class T>
constexpr double unit_roundoff() {
  return std::numeric_limits<T>::epsilon() / 2;
}

template <class T>
double gamma_n(std::size_t n) {
  const double nu = static_cast<double>(n) * unit_roundoff<T>();
  return nu / (1 - nu);
}

// |a[i] - b[i]| <= bound[i] elementwise, all three of one shape.
template <class A, class B, class C>
boost::test_tools::predicate_result close_within(const A& a, const B& b, const C& bound) {
  if (a.shape() != b.shape() || a.size() != bound.size()) {
    boost::test_tools::predicate_result r(false);
    r.message() << "shapes differ";
    return r;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = static_cast<double>(a.data()[i]), y = static_cast<double>(b.data()[i]);
    const double tol = static_cast<double>(bound.data()[i]);
    if (!(std::abs(x - y) <= tol)) {
      boost::test_tools::predicate_result r(false);
      r.message() << "element " << i << " differs: " << x << " vs " << y << " by "
                  << std::abs(x - y) << " (bound " << tol << ")";
      return r;
    }
  }
  return true;
}

// A result computed in T as sums of n terms, against the same sums computed
// in double (by definition, in another order): the two differ by at most
// (gamma_n(T) + gamma_n(double)) * sum |terms| elementwise. abs_sums holds
// sum |terms| per element (the definition applied to the absolute values).
template <class T, class A, class B, class C>
boost::test_tools::predicate_result close_as_sums(const A& actual, const B& definition,
                                                  const C& abs_sums, std::size_t n) {
  xt::xarray<double> bound = xt::cast<double>(abs_sums);
  bound *= gamma_n<T>(n) + gamma_n<double>(n);
  return close_within(actual, definition, bound);
}

// y [N, O] = x [N, K] w[O, K]^T + b [O] (b may be empty) computed in float in
// any order (BLAS, the lookup-table kernels), against the definition in
// double: each output is a sum of K + 1 terms, so close_as_sums with n = K + 1
// and sum |terms| = |x| |w|^T + |b|.
template <class X>
boost::test_tools::predicate_result close_as_linear(const xt::xarray<float>& y, const X& x,
                                                    const X& w, const X& b) {
  const std::size_t K = w.shape()[1], O = w.shape()[0], N = x.size() / K;
  xt::xarray<double> def = xt::zeros<double>({N, O}), abs = xt::zeros<double>({N, O});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < O; ++o) {
      double s = b.size() ? double(b.data()[o]) : 0.0, a = std::fabs(s);
      for (std::size_t k = 0; k < K; ++k) {
        const double t = double(x.data()[n * K + k]) * double(w.data()[o * K + k]);
        s += t;
        a += std::fabs(t);
      }
      def(n, o) = s;
      abs(n, o) = a;
    }
  xt::xarray<double> flat = xt::cast<double>(y);
  flat.reshape({N, O});
  return close_as_sums<float>(flat, def, abs, K + 1);
}

// Wraps gradcheck so a failure prints the worst element.
inline boost::test_tools::predicate_result passes_gradcheck(
    const xgrad::GradcheckFn& fn, const std::vector<xgrad::Tensor<double>>& inputs,
    double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3) {
  const auto result = xgrad::gradcheck(fn, inputs, eps, atol, rtol);
  boost::test_tools::predicate_result r(result.passed);
  r.message() << result.message;
  return r;
}

// A double array of `shape` filled row-major with `values`.
inline xt::xarray<double> array_of(const xgrad::Shape& shape,
                                   std::initializer_list<double> values) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  std::copy(values.begin(), values.end(), a.begin());
  return a;
}

// The message of the xgrad::Error that f throws ("" if it throws none).
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const xgrad::Error& e) {
    return e.what();
  }
  return "";
}

// A fresh directory per test case (unique per process and instance), removed
// afterwards. `dir / "name"` is the path of a file in it, as a string.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("xgrad-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// A BOOST_CHECK_EXCEPTION predicate: what() of the exception contains `needle`.
template <class E>
std::function<bool(const E&)> mentions(const std::string& needle) {
  return [needle](const E& e) { return std::string(e.what()).find(needle) != std::string::npos; };
}

// The names of (name, value) pairs: named_parameters(), state_dict(), ...
template <class Pairs>
std::vector<std::string> names_of(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& kv : pairs) out.push_back(kv.first);
  return out;
}

// The bytes of a file ("" if it cannot be read), and a file holding `bytes`.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ---- bad-input tables ----
//
// Each concept's test file ends with a table of the bad calls a hostile but
// fair user could make on it. A row names the error type the call must raise,
// the op its message must start with, the words the message must contain (the
// argument and the bad value), and the tensors and modules that must be
// unchanged afterwards (data, version, grad and requires_grad of tensors; state
// dict and training mode of modules):
//
//   r.push_back({"sum: axis out of range", raises<ShapeError>("sum", {"axis 2"}),
//                [a] { sum(a, {2}); }, {a}});

// The error a bad call must raise: its type, the op that begins its message
// ("sum: axis 2 is out of range ..." begins with "sum") and words it contains.
struct Raises {
  std::string type;
  std::function<bool(const xgrad::Error&)> is_type;
  std::string op;
  std::vector<std::string> words;
};

template <class E>
Raises raises(std::string op, std::vector<std::string> words = {}) {
  static_assert(std::is_base_of<xgrad::Error, E>::value, "an xgrad error type");
  const char* type = std::is_same<E, xgrad::ShapeError>::value      ? "ShapeError"
                     : std::is_same<E, xgrad::ValueError>::value    ? "ValueError"
                     : std::is_same<E, xgrad::StateError>::value    ? "StateError"
                     : std::is_same<E, xgrad::TypeError>::value     ? "TypeError"
                     : std::is_same<E, xgrad::IOError>::value       ? "IOError"
                     : std::is_same<E, xgrad::ResourceError>::value ? "ResourceError"
                                                                    : "Error";
  return {type, [](const xgrad::Error& e) { return dynamic_cast<const E*>(&e) != nullptr; },
          std::move(op), std::move(words)};
}

struct BadCall {
  std::string what;
  Raises raises;
  std::function<void()> call;
  std::vector<xgrad::Tensor<double>> tensors = {};
  std::vector<std::shared_ptr<xgrad::Module<double>>> modules = {};
};

// A row calling module->forward(x), which must leave the module and x
// unchanged.
inline BadCall forward_of(std::string what, Raises raises,
                          std::shared_ptr<xgrad::Module<double>> module, xgrad::Tensor<double> x) {
  return {std::move(what), std::move(raises), [module, x] { module->forward(x); }, {x}, {module}};
}

// A row loading into `module` its own state dict with element `i` of entry
// `key` set to `value`: load_state_dict must refuse it and leave the module
// unchanged.
inline BadCall load_of(std::string what, Raises raises,
                       std::shared_ptr<xgrad::Module<double>> module, const std::string& key,
                       std::size_t i, double value) {
  return {std::move(what),
          std::move(raises),
          [module, key, i, value] {
            xgrad::StateDict<double> dict = module->state_dict();
            bool found = false;
            for (auto& kv : dict)
              if (kv.first == key) {
                kv.second.data()[i] = value;
                found = true;
              }
            if (!found) throw std::logic_error("load_of: no key " + key);
            module->load_state_dict(dict);
          },
          {},
          {module}};
}

// The row every module's table has: forward of an undefined tensor raises
// ValueError "<op>: <arg> is undefined" and leaves the module unchanged.
inline BadCall forward_of_undefined(std::shared_ptr<xgrad::Module<double>> module, std::string op,
                                    const std::string& arg) {
  return {module->type_name() + ": forward undefined",
          raises<xgrad::ValueError>(std::move(op), {arg + " is undefined"}),
          [module] { module->forward(xgrad::Tensor<double>()); },
          {},
          {module}};
}

// The row of an op given an undefined tensor `arg`: ValueError "<op>: <arg> is
// undefined" (require_defined's message), `tensors` unchanged.
inline BadCall undefined_argument(const std::string& op, const std::string& arg,
                                  std::function<void()> call,
                                  std::vector<xgrad::Tensor<double>> tensors = {}) {
  return {op + ": undefined " + arg, raises<xgrad::ValueError>(op, {arg + " is undefined"}),
          std::move(call), std::move(tensors)};
}

// An op of one tensor in a bad-call table: its name, the Function that names
// an undefined input ("ReluBackward") and the op.
struct UnaryOp {
  const char* name;
  const char* function;
  xgrad::Tensor<double> (*f)(const xgrad::Tensor<double>&);
};

// For each op, the row of an undefined input: ValueError "<function>: input
// tensor 0 is undefined".
inline void add_undefined_input_rows(std::vector<BadCall>& rows,
                                     std::initializer_list<UnaryOp> ops) {
  const xgrad::Tensor<double> u;
  for (const UnaryOp& op : ops) {
    const auto f = op.f;
    rows.push_back({std::string(op.name) + ": undefined input",
                    raises<xgrad::ValueError>(op.function, {"input tensor 0 is undefined"}),
                    [f, u] { f(u); }});
  }
}

// A leaf of `shape` with distinct values (-1, -0.75, ...), requiring grad.
inline xgrad::Tensor<double> leaf(const xgrad::Shape& shape) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = 0.25 * double(i) - 1.0;
  return xgrad::Tensor<double>(std::move(a), true);
}

// What "unchanged" means for a tensor: same bits, version, requires_grad and
// gradient.
struct TensorSnapshot {
  xgrad::Tensor<double> tensor;
  xt::xarray<double> data;
  std::uint64_t version;
  bool requires_grad;
  bool has_grad;
  xt::xarray<double> grad;
  explicit TensorSnapshot(const xgrad::Tensor<double>& t)
      : tensor(t),
        data(t.data()),
        version(t.version()),
        requires_grad(t.requires_grad()),
        has_grad(t.grad().defined()),
        grad(has_grad ? t.grad().data() : xt::xarray<double>()) {}
  bool same() const {
    return equal_arrays(tensor.data(), data) && tensor.version() == version &&
           tensor.requires_grad() == requires_grad && tensor.grad().defined() == has_grad &&
           (!has_grad || equal_arrays(tensor.grad().data(), grad));
  }
};

// ... and for a module: same state dict and training flag.
struct ModuleSnapshot {
  std::shared_ptr<xgrad::Module<double>> module;
  xgrad::StateDict<double> state;
  bool training;
  explicit ModuleSnapshot(std::shared_ptr<xgrad::Module<double>> m)
      : module(std::move(m)), state(module->state_dict()), training(module->is_training()) {}
  bool same() const {
    return module->is_training() == training && same_state(module->state_dict(), state);
  }
};

// Every row of `table` raises its error, with a message that starts with its
// op followed by ':' (every xgrad message names its op first) and contains its
// words, and leaves its tensors and modules unchanged and no autograd node
// behind.
inline void check_bad_calls(const std::vector<BadCall>& table) {
  BOOST_TEST_MESSAGE(table.size() << " bad calls");
  BOOST_TEST(!table.empty());
  for (const auto& row : table) {
    BOOST_TEST_CONTEXT(row.what) {
      std::vector<TensorSnapshot> tensors(row.tensors.begin(), row.tensors.end());
      std::vector<ModuleSnapshot> modules(row.modules.begin(), row.modules.end());
      const std::int64_t nodes = xgrad::live_node_count();
      try {
        row.call();
        BOOST_ERROR("no error");
      } catch (const xgrad::Error& e) {
        const std::string msg = e.what();
        const Raises& r = row.raises;
        BOOST_TEST(r.is_type(e), "expected " << r.type << ", got: " << msg);
        // "<op>: ...", or a qualified op: "<op>::load_state_dict: ...",
        // "<op>.forward: ...", "<op>(uniform(b=9,signed)): ...".
        const std::size_t colon = msg.find(':', r.op.size());
        const bool starts_with_op = !r.op.empty() && msg.compare(0, r.op.size(), r.op) == 0 &&
                                    colon != std::string::npos && msg.find(' ') > colon &&
                                    std::string(":.(").find(msg[r.op.size()]) != std::string::npos;
        BOOST_TEST(starts_with_op, "message does not start with \"" << r.op << ":\": " << msg);
        for (const auto& w : r.words)
          BOOST_TEST(contains(msg, w), "message lacks \"" << w << "\": " << msg);
      } catch (const std::exception& e) {
        BOOST_ERROR("not an xgrad::Error: " << e.what());
      }
      for (std::size_t i = 0; i < tensors.size(); ++i)
        BOOST_TEST(tensors[i].same(), "tensor " << i << " changed");
      for (std::size_t i = 0; i < modules.size(); ++i)
        BOOST_TEST(modules[i].same(), "module " << i << " changed");
      BOOST_TEST(xgrad::live_node_count() == nodes, "autograd nodes left behind");
    }
  }
}

// The tables register themselves, so that suite test_bad_input can count the
// rows of all of them.
using BadCallTable = std::vector<BadCall> (*)();
inline std::vector<std::pair<std::string, BadCallTable>>& bad_call_tables() {
  static std::vector<std::pair<std::string, BadCallTable>> tables;
  return tables;
}
inline bool register_bad_calls(const std::string& file, BadCallTable table) {
  bad_call_tables().emplace_back(file, table);
  return true;
}

// The names a table's rows use: `using namespace xgrad_test::bad_input;`.
namespace bad_input {
using namespace ::xgrad;
using D = ::xgrad::Tensor<double>;
using ::xgrad_test::add_undefined_input_rows;
using ::xgrad_test::BadCall;
using ::xgrad_test::forward_of;
using ::xgrad_test::forward_of_undefined;
using ::xgrad_test::leaf;
using ::xgrad_test::load_of;
using ::xgrad_test::raises;
using ::xgrad_test::undefined_argument;
inline const double kNaN = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();
}  // namespace bad_input

}  // namespace xgrad_test

// A test suite's table of bad calls: the block after it fills `rows`, with the
// names of xgrad_test::bad_input in scope,
//
//   XGRAD_TEST_BAD_CALLS(r) {
//     const D a = leaf({2, 3});
//     r.push_back({"sum: axis out of range", raises<ShapeError>("sum", {"axis 2"}),
//                  [a] { sum(a, {2}); }, {a}});
//   }
//
// and a test case of the suite checks every row (check_bad_calls). The table
// registers itself under the file's name for suite test_bad_input.
#define XGRAD_TEST_BAD_CALLS(rows)                                                       \
  using namespace xgrad_test::bad_input;                                                 \
  void fill_bad_calls(std::vector<xgrad_test::BadCall>& rows);                           \
  std::vector<xgrad_test::BadCall> bad_calls() {                                         \
    std::vector<xgrad_test::BadCall> table;                                              \
    fill_bad_calls(table);                                                               \
    return table;                                                                        \
  }                                                                                      \
  const bool bad_calls_registered = xgrad_test::register_bad_calls(__FILE__, bad_calls); \
  BOOST_AUTO_TEST_CASE(bad_calls_raise_typed_errors_naming_op_argument_and_value) {      \
    xgrad_test::check_bad_calls(bad_calls());                                            \
  }                                                                                      \
  void fill_bad_calls(std::vector<xgrad_test::BadCall>& rows)
