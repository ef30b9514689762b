// Matrix products: matmul (2-D and batched 3-D) and the fused linear layer;
// exact values, agreement with a naive triple loop, gradients, errors.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <string>
#include <vector>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/node.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/random.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_ops_linalg)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::passes_gradcheck;

using xgrad_test::array_of;
using xgrad_test::close_as_sums;
using xgrad_test::contains;
using xgrad_test::message_of;

namespace {

// C = A op(B) (+ bias per column), in double, with plain loops; op(B) = B^T
// when `b_transposed` (B stored [n, k]), the layout of a linear weight.
template <class T>
xt::xarray<double> naive_product(const xt::xarray<T>& a, const xt::xarray<T>& b, bool b_transposed,
                                 const xt::xarray<T>* bias = nullptr) {
  const std::size_t m = a.shape()[0], k = a.shape()[1];
  const std::size_t n = b_transposed ? b.shape()[0] : b.shape()[1];
  xt::xarray<double> c = xt::zeros<double>({m, n});
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double s = bias ? static_cast<double>((*bias)(j)) : 0.0;
      for (std::size_t p = 0; p < k; ++p) {
        s += static_cast<double>(a(i, p)) * static_cast<double>(b_transposed ? b(j, p) : b(p, j));
      }
      c(i, j) = s;
    }
  }
  return c;
}

template <class T>
xt::xarray<double> as_double(const xt::xarray<T>& a) {
  return xt::xarray<double>(xt::cast<double>(a));
}

template <class T>
xt::xarray<T> abs_of(const xt::xarray<T>& a) {
  return xt::abs(a);
}

struct Dims {
  std::size_t m, k, n;
};
// Square, non-square, degenerate and MLP-sized products.
const Dims kSizes[] = {{1, 1, 1},     {3, 5, 2},     {2, 7, 9},     {33, 17, 65},
                       {32, 64, 128}, {32, 128, 10}, {16, 784, 64}, {1, 40, 1}};

}  // namespace

// ---- matmul ----

BOOST_AUTO_TEST_CASE(matmul_of_two_matrices) {
  const auto a = tensor<double>({{1, 2, 3}, {4, 5, 6}});
  const auto b = tensor<double>({{7, 8}, {9, 10}, {11, 12}});
  BOOST_TEST(equal_arrays(matmul(a, b).data(), xt::xarray<double>({{58, 64}, {139, 154}})));
}

BOOST_AUTO_TEST_CASE(matmul_of_a_column_and_a_row_is_the_outer_product) {
  const auto col = Tensor<double>(array_of({2, 1}, {1, 2}));
  const auto row = tensor<double>({{3, 4}});
  BOOST_TEST(equal_arrays(matmul(col, row).data(), xt::xarray<double>({{3, 4}, {6, 8}})));
  BOOST_TEST(equal_arrays(matmul(row, Tensor<double>(array_of({2, 1}, {5, 6}))).data(),
                          array_of({1, 1}, {39})));
}

BOOST_AUTO_TEST_CASE(batched_matmul_multiplies_each_batch) {
  // batch 0: identity times B0; batch 1: [[1, 1]] sums B1's rows.
  const auto a = Tensor<double>(array_of({2, 1, 2}, {1, 0, 1, 1}));
  const auto b = Tensor<double>(array_of({2, 2, 3}, {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}));
  BOOST_TEST(equal_arrays(matmul(a, b).data(), array_of({2, 1, 3}, {1, 2, 3, 50, 70, 90})));
}

BOOST_AUTO_TEST_CASE(matmul_with_empty_extents) {
  // k = 0: a sum of no products is 0.
  BOOST_TEST(equal_arrays(matmul(zeros<double>({2, 0}), zeros<double>({0, 3})).data(),
                          xt::xarray<double>(xt::zeros<double>({2, 3}))));
  BOOST_TEST(matmul(zeros<double>({0, 3}), ones<double>({3, 2})).shape() == Shape({0, 2}));
}

BOOST_AUTO_TEST_CASE(float_matmul_matches_a_naive_triple_loop) {
  Generator gen(6);
  for (const auto& d : kSizes) {
    BOOST_TEST_CONTEXT(d.m << "x" << d.k << " times " << d.k << "x" << d.n) {
      const auto a = randn<float>({d.m, d.k}, gen);
      const auto b = randn<float>({d.k, d.n}, gen);
      // Each element is a dot product of k terms: BLAS's float sum and the
      // loop's double sum (the products of floats are exact in double) are
      // within their gamma_k bounds of the exact value (test_util.hpp).
      BOOST_TEST(close_as_sums<float>(
          as_double(matmul(a, b).data()), naive_product(a.data(), b.data(), false),
          naive_product(abs_of(a.data()), abs_of(b.data()), false), d.k));
    }
  }
}

BOOST_AUTO_TEST_CASE(matmul_gradients_exact) {
  // d(sum(A B))/dA = 1 B^T, d/dB = A^T 1.
  auto a = tensor<double>({{1, 2, 3}, {4, 5, 6}}, true);
  auto b = tensor<double>({{1, 0}, {0, 1}, {2, 3}}, true);
  matmul(a, b).backward(xt::xarray<double>(xt::ones<double>({2, 2})));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({{1, 1, 5}, {1, 1, 5}})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({{5, 5}, {7, 7}, {9, 9}})));
}

BOOST_AUTO_TEST_CASE(matmul_passes_gradcheck) {
  Generator gen(7);
  const auto a = randn<double>({3, 4}, gen, 0.0, 1.0, true);
  const auto b = randn<double>({4, 2}, gen, 0.0, 1.0, true);
  const auto f = [](const auto& in) { return matmul(in[0], in[1]); };
  BOOST_TEST(passes_gradcheck(f, {a, b}));
  // Only one side needing a gradient takes the other branch of backward.
  BOOST_TEST(passes_gradcheck(f, {a, b.detach()}));
  BOOST_TEST(passes_gradcheck(f, {a.detach(), b}));
  const auto ba = randn<double>({2, 3, 4}, gen, 0.0, 1.0, true);
  const auto bb = randn<double>({2, 4, 5}, gen, 0.0, 1.0, true);
  BOOST_TEST(passes_gradcheck(f, {ba, bb}));
}

BOOST_AUTO_TEST_CASE(matmul_shape_errors_name_both_shapes) {
  const auto m23 = zeros<double>({2, 3});
  BOOST_CHECK_THROW(matmul(m23, zeros<double>({2, 3})), ShapeError);              // inner 3 vs 2
  BOOST_CHECK_THROW(matmul(zeros<double>({3}), zeros<double>({3})), ShapeError);  // 1-D
  BOOST_CHECK_THROW(matmul(m23, zeros<double>({1, 3, 2})), ShapeError);           // mixed ranks
  BOOST_CHECK_THROW(matmul(zeros<double>({1, 1, 2, 3}), zeros<double>({1, 1, 3, 2})),
                    ShapeError);  // 4-D
  BOOST_CHECK_THROW(matmul(zeros<double>({2, 2, 3}), zeros<double>({3, 3, 2})), ShapeError);
  BOOST_CHECK_THROW(matmul(scalar<double>(1), scalar<double>(1)), ShapeError);
  const std::string msg = message_of([&] { matmul(m23, zeros<double>({4, 5})); });
  BOOST_TEST(contains(msg, "matmul"));
  BOOST_TEST(contains(msg, "[2, 3]"));
  BOOST_TEST(contains(msg, "[4, 5]"));
  BOOST_TEST(contains(message_of([] {
                        matmul(zeros<double>({2, 2, 3}), zeros<double>({3, 3, 2}));
                      }),
                      "batch"));
}

// ---- linear ----

BOOST_AUTO_TEST_CASE(linear_is_x_times_weight_transposed_plus_bias) {
  const auto x = tensor<double>({{1, 2}, {3, 4}, {5, 6}});
  const auto w = tensor<double>({{1, 0}, {0, 1}, {1, 1}});  // [out 3, in 2]
  const auto b = tensor<double>({10, 20, 30});
  BOOST_TEST(equal_arrays(linear(x, w, b).data(),
                          xt::xarray<double>({{11, 22, 33}, {13, 24, 37}, {15, 26, 41}})));
  BOOST_TEST(
      equal_arrays(linear(x, w).data(), xt::xarray<double>({{1, 2, 3}, {3, 4, 7}, {5, 6, 11}})));
}

BOOST_AUTO_TEST_CASE(linear_flattens_leading_axes_of_the_input) {
  const auto w = tensor<double>({{1, 1}});  // sums the two features
  const auto b = tensor<double>({0.5});
  BOOST_TEST(equal_arrays(linear(tensor<double>({2, 3}), w, b).data(), xt::xarray<double>({5.5})));
  const auto x = Tensor<double>(array_of({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  BOOST_TEST(equal_arrays(linear(x, w, b).data(), array_of({2, 2, 1}, {3.5, 7.5, 11.5, 15.5})));
}

BOOST_AUTO_TEST_CASE(linear_without_input_features_is_the_bias) {
  const auto y = linear(zeros<double>({2, 0}), zeros<double>({3, 0}), tensor<double>({1, 2, 3}));
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>({{1, 2, 3}, {1, 2, 3}})));
}

// An empty batch contributes nothing: every parameter gradient is zero.
BOOST_AUTO_TEST_CASE(linear_of_an_empty_batch_has_zero_parameter_gradients) {
  auto w = ones<double>({2, 3}, true);
  auto b = ones<double>({2}, true);
  const auto y = linear(zeros<double>({0, 3}), w, b);
  BOOST_TEST(y.shape() == Shape({0, 2}));
  y.backward(xt::xarray<double>::from_shape({0, 2}));
  BOOST_TEST(equal_arrays(w.grad().data(), xt::xarray<double>(xt::zeros<double>({2, 3}))));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({0, 0})));
}

BOOST_AUTO_TEST_CASE(float_linear_matches_a_naive_triple_loop) {
  Generator gen(8);
  for (const auto& d : kSizes) {
    BOOST_TEST_CONTEXT("x " << d.m << "x" << d.k << ", weight " << d.n << "x" << d.k) {
      const auto x = randn<float>({d.m, d.k}, gen);
      const auto w = randn<float>({d.n, d.k}, gen);
      const auto b = randn<float>({d.n}, gen);
      // As for matmul: sums of k products, plus the bias when there is one.
      const xt::xarray<float> abs_b = abs_of(b.data());
      BOOST_TEST(close_as_sums<float>(
          as_double(linear(x, w, b).data()), naive_product(x.data(), w.data(), true, &b.data()),
          naive_product(abs_of(x.data()), abs_of(w.data()), true, &abs_b), d.k + 1));
      BOOST_TEST(close_as_sums<float>(
          as_double(linear(x, w).data()), naive_product(x.data(), w.data(), true),
          naive_product(abs_of(x.data()), abs_of(w.data()), true), d.k));
    }
  }
}

// Backward through the gemm transpose flags, against naive products:
// grad_x = g W, grad_W = g^T x, grad_b = column sums of g.
BOOST_AUTO_TEST_CASE(float_linear_gradients_match_naive_products) {
  Generator gen(9);
  const std::size_t n = 32, in = 64, out = 10;
  auto x = randn<float>({n, in}, gen, 0.f, 1.f, true);
  auto w = randn<float>({out, in}, gen, 0.f, 1.f, true);
  auto b = randn<float>({out}, gen, 0.f, 1.f, true);
  const auto g = randn<float>({n, out}, gen);
  linear(x, w, b).backward(g.data());
  const xt::xarray<float> g_t = xt::transpose(g.data());
  const xt::xarray<float> abs_g = abs_of(g.data()), abs_g_t = abs_of(g_t);
  // Sums of `out` terms (grad_x) and of n terms (grad_W, grad_b): gamma bounds.
  BOOST_TEST(close_as_sums<float>(as_double(x.grad().data()),
                                  naive_product(g.data(), w.data(), false),
                                  naive_product(abs_g, abs_of(w.data()), false), out));
  BOOST_TEST(close_as_sums<float>(as_double(w.grad().data()), naive_product(g_t, x.data(), false),
                                  naive_product(abs_g_t, abs_of(x.data()), false), n));
  xt::xarray<double> col_sums = xt::zeros<double>({out}), abs_col_sums = col_sums;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < out; ++j) {
      col_sums(j) += g.data()(i, j);
      abs_col_sums(j) += std::abs(g.data()(i, j));
    }
  }
  BOOST_TEST(close_as_sums<float>(as_double(b.grad().data()), col_sums, abs_col_sums, n));
}

BOOST_AUTO_TEST_CASE(linear_is_one_node_with_an_edge_per_input) {
  const auto x = ones<double>({2, 3}, true);
  const auto w = ones<double>({4, 3}, true);
  const auto b = ones<double>({4}, true);
  const auto y = linear(x, w, b);
  BOOST_TEST(std::string(y.grad_fn_name()) == "LinearBackward");
  const auto& next = y.grad_fn()->next;
  BOOST_TEST(next.size() == 3u);
  BOOST_TEST((next[0] == x.autograd_meta() && next[1] == w.autograd_meta() &&
              next[2] == b.autograd_meta()));
  BOOST_TEST(linear(x, w).grad_fn()->next.size() == 2u);
}

BOOST_AUTO_TEST_CASE(linear_passes_gradcheck) {
  Generator gen(10);
  const auto x = randn<double>({4, 3}, gen, 0.0, 1.0, true);
  const auto w = randn<double>({2, 3}, gen, 0.0, 1.0, true);
  const auto b = randn<double>({2}, gen, 0.0, 1.0, true);
  BOOST_TEST(
      passes_gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, b}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return linear(in[0], in[1]); }, {x, w}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); },
                              {x.detach(), w, b}));
  BOOST_TEST(passes_gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); },
                              {x, w.detach(), b.detach()}));
  const auto x3 = randn<double>({2, 2, 3}, gen, 0.0, 1.0, true);
  BOOST_TEST(
      passes_gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); }, {x3, w, b}));
  const auto x1 = randn<double>({3}, gen, 0.0, 1.0, true);
  BOOST_TEST(
      passes_gradcheck([](const auto& in) { return linear(in[0], in[1], in[2]); }, {x1, w, b}));
}

BOOST_AUTO_TEST_CASE(linear_records_nothing_under_no_grad) {
  const auto x = ones<double>({2, 3}, true);
  const auto w = ones<double>({4, 3}, true);
  NoGradGuard guard;
  const auto y = linear(x, w);
  BOOST_TEST(!y.requires_grad());
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>(xt::full_like(y.data(), 3.0))));
}

BOOST_AUTO_TEST_CASE(linear_shape_errors) {
  const auto x = zeros<double>({2, 3});
  const auto w = zeros<double>({4, 3});
  BOOST_CHECK_THROW(linear(x, zeros<double>({4, 2})), ShapeError);     // in_features
  BOOST_CHECK_THROW(linear(x, zeros<double>({3})), ShapeError);        // 1-D weight
  BOOST_CHECK_THROW(linear(x, zeros<double>({1, 4, 3})), ShapeError);  // 3-D weight
  BOOST_CHECK_THROW(linear(scalar<double>(1), w), ShapeError);         // 0-d input
  BOOST_CHECK_THROW(linear(x, w, zeros<double>({3})), ShapeError);     // bias extent
  BOOST_CHECK_THROW(linear(x, w, zeros<double>({1, 4})), ShapeError);  // 2-D bias
  const std::string msg = message_of([&] { linear(x, zeros<double>({4, 2})); });
  BOOST_TEST(contains(msg, "linear"));
  BOOST_TEST(contains(msg, "[2, 3]"));
  BOOST_TEST(contains(msg, "[4, 2]"));
}

// BLAS indexes with int. Empty tensors make such extents cheap to build.
BOOST_AUTO_TEST_CASE(extents_beyond_blas_int_range_throw_value_error) {
  const std::size_t huge = 3000000000u;  // > INT_MAX
  BOOST_CHECK_THROW(matmul(zeros<double>({0, huge}), zeros<double>({huge, 0})), ValueError);
  BOOST_CHECK_THROW(linear(zeros<double>({0, huge}), zeros<double>({0, huge})), ValueError);
  // Each extent fits, but the flattened rows of [2e9, 2, 0] do not.
  BOOST_CHECK_THROW(linear(zeros<double>({2000000000u, 2, 0}), zeros<double>({1, 0})), ValueError);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined
  const D a = leaf({2, 3}), b = leaf({4, 2});
  r.push_back(
      {"matmul: inner extents differ",
       raises<ShapeError>("matmul", {"shapes [2, 3] and [4, 2]", "inner dimensions differ"}),
       [a, b] { matmul(a, b); },
       {a, b}});
  r.push_back({"matmul: 3-D operand",
               raises<ShapeError>("matmul", {"shapes [2, 2, 2] and [2, 3]", "two 2-D or two 3-D"}),
               [a] {
                 matmul(zeros<double>({2, 2, 2}), a);
               },
               {a}});
  r.push_back(undefined_argument("matmul", "b", [a, u] { matmul(a, u); }, {a}));
  r.push_back(undefined_argument("matmul", "a", [a, u] { matmul(u, a); }, {a}));
  r.push_back({"linear: weight of the wrong width",
               raises<ShapeError>("linear", {"input [2, 3], weight [4, 2]", "in_features"}),
               [a, b] { linear(a, b); },
               {a, b}});
  r.push_back({"linear: bias of the wrong size",
               raises<ShapeError>("linear", {"bias [3]", "bias must be 1-D [out_features]"}),
               [a] {
                 linear(a, zeros<double>({4, 3}), zeros<double>({3}));
               },
               {a}});
  r.push_back(undefined_argument("linear", "weight", [a, u] { linear(a, u); }, {a}));
  r.push_back(undefined_argument("linear", "input", [b, u] { linear(u, b); }, {b}));
  r.push_back({"linear: 1-D weight",
               raises<ShapeError>("linear", {"weight [3]", "weight must be 2-D"}),
               [a] { linear(a, zeros<double>({3})); },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_ops_linalg
