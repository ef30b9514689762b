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
#include <sstream>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/errors.hpp"
#include "xgrad/gradcheck.hpp"
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

// One row of an error table: a call that must throw E (ShapeError when
// `shape_error`, else ValueError) with a message containing every `mentions`.
struct ErrorCase {
  const char* what;
  std::function<void()> call;
  bool shape_error;
  std::vector<std::string> mentions;
};

inline void check_error_cases(const std::vector<ErrorCase>& cases) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      if (c.shape_error) {
        BOOST_CHECK_THROW(c.call(), xgrad::ShapeError);
      } else {
        BOOST_CHECK_THROW(c.call(), xgrad::ValueError);
      }
      const std::string msg = message_of(c.call);
      for (const auto& m : c.mentions) BOOST_TEST(contains(msg, m), msg << " lacks " << m);
    }
  }
}

}  // namespace xgrad_test
