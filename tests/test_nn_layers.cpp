// Layers in xgrad::nn: initializers, Dropout, BatchNorm1d, Sequential, Linear,
// activations, Flatten, Unflatten, libtorch's options classes and a small MLP
// built from them. Every layer is gradchecked in double;
// values are computed by hand where the formula is short.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <xtensor/xmath.hpp>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/batch_norm.hpp"
#include "xgrad/ops/dropout.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_nn_layers)

using xgrad::Tensor;
using xgrad_test::close_arrays;
using xgrad_test::equal_arrays;
using xgrad_test::names_of;
using xgrad_test::passes_gradcheck;
namespace nn = xgrad::nn;

namespace {

using Inputs = std::vector<Tensor<double>>;

// Sum of all elements, read from the data (no ops needed).
template <class T>
double total(const Tensor<T>& t) {
  double s = 0;
  for (auto v : t.data()) s += v;
  return s;
}

// A batch of N=3, C=2 for BatchNorm1d.
// Channel 0: 1, 3, 5 (mean 3, biased var 8/3, unbiased 4).
// Channel 1: 2, 6, 10 (mean 6, biased var 32/3, unbiased 16).
const xt::xarray<double> kBatch = {{1, 2}, {3, 6}, {5, 10}};

}  // namespace

BOOST_AUTO_TEST_SUITE(init)

BOOST_AUTO_TEST_CASE(kaiming_uniform_with_a_sqrt5_is_bounded_by_one_over_sqrt_fan_in) {
  xgrad::Generator gen(3);
  auto w = xgrad::zeros<double>({64, 25});  // fan_in 25: bound 0.2
  nn::init::kaiming_uniform_(w, std::sqrt(5.0), gen);
  const double lo = xt::amin(w.data())(), hi = xt::amax(w.data())();
  BOOST_TEST(lo >= -0.2);
  BOOST_TEST(hi <= 0.2);
  // 1600 draws fill the interval: the extremes are within 1% of the bound.
  BOOST_TEST(lo < -0.198);
  BOOST_TEST(hi > 0.198);
}

BOOST_AUTO_TEST_CASE(kaiming_uniform_gain_follows_the_negative_slope) {
  xgrad::Generator gen(3);
  auto w = xgrad::zeros<double>({50, 3, 2, 2});  // fan_in 12, a = 0: bound sqrt(6/12)
  nn::init::kaiming_uniform_(w, 0.0, gen);
  const double bound = std::sqrt(0.5);
  BOOST_TEST(xt::amax(xt::abs(w.data()))() <= bound);
  BOOST_TEST(xt::amax(xt::abs(w.data()))() > 0.99 * bound);
}

BOOST_AUTO_TEST_CASE(initializers_are_reproducible_from_a_seed) {
  xgrad::Generator g1(42), g2(42), g3(43);
  auto a = xgrad::zeros<float>({4, 5}), b = xgrad::zeros<float>({4, 5}),
       c = xgrad::zeros<float>({4, 5});
  nn::init::uniform_(a, -1, 1, g1);
  nn::init::uniform_(b, -1, 1, g2);
  nn::init::uniform_(c, -1, 1, g3);
  BOOST_TEST(equal_arrays(a.data(), b.data()));
  BOOST_TEST(!equal_arrays(a.data(), c.data()));
}

BOOST_AUTO_TEST_CASE(initializers_write_through_the_handle_and_return_it) {
  auto p = xgrad::full<double>({2, 2}, 5.0, /*requires_grad=*/true);
  auto alias = p;
  BOOST_TEST(nn::init::zeros_(p).storage() == p.storage());
  BOOST_TEST(equal_arrays(alias.data(), xt::xarray<double>({{0, 0}, {0, 0}})));
  nn::init::ones_(p);
  BOOST_TEST(equal_arrays(alias.data(), xt::xarray<double>({{1, 1}, {1, 1}})));
  nn::init::uniform_(p, 0.25, 0.25);
  BOOST_TEST(equal_arrays(alias.data(), xt::xarray<double>({{0.25, 0.25}, {0.25, 0.25}})));
  BOOST_TEST(p.requires_grad());
}

BOOST_AUTO_TEST_CASE(bad_initializer_arguments_throw_value_error) {
  auto v = xgrad::zeros<float>({3});
  BOOST_CHECK_THROW(nn::init::kaiming_uniform_(v), xgrad::ValueError);  // 1-D: no fan_in
  auto empty = xgrad::zeros<float>({3, 0});
  BOOST_CHECK_THROW(nn::init::kaiming_uniform_(empty), xgrad::ValueError);  // fan_in 0
  auto m = xgrad::zeros<float>({2, 2});
  BOOST_CHECK_THROW(nn::init::uniform_(m, 1, -1), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::init::uniform_(m, 0, std::nan("")), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::init::uniform_(m, 0, INFINITY), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::init::uniform_(m, 0, 1e300), xgrad::ValueError);  // inf as a float
  try {
    nn::init::kaiming_uniform_(m, std::nan(""));
    BOOST_ERROR("NaN negative slope accepted");
  } catch (const xgrad::ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("kaiming_uniform_: a must be finite") !=
               std::string::npos);
  }
  BOOST_TEST(equal_arrays(m.data(), xt::xarray<float>({{0, 0}, {0, 0}})));  // untouched
  BOOST_CHECK_THROW(nn::init::zeros_(Tensor<float>()), xgrad::ValueError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dropout_layer)

BOOST_AUTO_TEST_CASE(training_zeroes_some_and_scales_the_rest_by_one_over_keep) {
  xgrad::Generator gen(5);
  auto x = xgrad::ones<double>({100, 100});
  auto y = xgrad::dropout(x, 0.25, true, gen);
  std::size_t zeros = 0;
  for (double v : y.data()) {
    BOOST_REQUIRE(v == 0.0 || v == 1.0 / 0.75);
    zeros += v == 0.0;
  }
  // 10000 Bernoulli(0.25) draws: mean 2500, sd 43; 6 sd either side.
  BOOST_TEST(zeros > 2240u);
  BOOST_TEST(zeros < 2760u);
}

BOOST_AUTO_TEST_CASE(eval_and_p_zero_return_the_input_itself) {
  auto x = xgrad::ones<float>({3, 3}, true);
  BOOST_TEST(xgrad::dropout(x, 0.5, false).storage() == x.storage());
  BOOST_TEST(xgrad::dropout(x, 0.0, true).storage() == x.storage());
  nn::Dropout<float> layer(0.5);
  layer.eval();
  BOOST_TEST(layer(x).storage() == x.storage());
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_mask_in_float_and_double) {
  nn::Dropout<float> f(0.5, 11);
  nn::Dropout<double> d(0.5, 11);
  const auto yf = f(xgrad::ones<float>({8, 8}));
  const auto yd = d(xgrad::ones<double>({8, 8}));
  for (std::size_t i = 0; i < 64; ++i) BOOST_TEST((yf.data()[i] == 0) == (yd.data()[i] == 0));
  nn::Dropout<float> again(0.5, 11);
  BOOST_TEST(equal_arrays(again(xgrad::ones<float>({8, 8})).data(), yf.data()));
  // Its own generator advances: the next mask differs.
  BOOST_TEST(!equal_arrays(f(xgrad::ones<float>({8, 8})).data(), yf.data()));
}

BOOST_AUTO_TEST_CASE(without_a_seed_it_draws_from_the_default_generator) {
  nn::Dropout<double> layer(0.5);
  xgrad::manual_seed(9);
  const auto a = layer(xgrad::ones<double>({6, 6}));
  xgrad::manual_seed(9);
  const auto b = layer(xgrad::ones<double>({6, 6}));
  BOOST_TEST(equal_arrays(a.data(), b.data()));
}

BOOST_AUTO_TEST_CASE(the_gradient_is_the_mask) {
  nn::Dropout<double> layer(0.5, 2);
  auto x = xgrad::full<double>({4, 5}, 3.0, true);
  auto y = layer(x);
  y.backward(xt::xarray<double>(xt::ones<double>({4, 5})));
  BOOST_TEST(equal_arrays(x.grad().data(), xt::xarray<double>(y.data() / 3.0)));
  BOOST_TEST(y.grad_fn_name() == std::string("DropoutBackward"));
}

BOOST_AUTO_TEST_CASE(gradcheck_with_a_fixed_mask) {
  xgrad::Generator data_gen(1);
  auto input = xgrad::randn<double>({3, 4}, data_gen, 0.0, 1.0, true);
  // Reseeding inside fn gives every evaluation the same mask.
  auto fn = [](const Inputs& in) {
    xgrad::Generator gen(4);
    return xgrad::dropout(in[0], 0.3, true, gen);
  };
  BOOST_TEST(passes_gradcheck(fn, {input}));
}

BOOST_AUTO_TEST_CASE(p_outside_zero_one_is_a_value_error) {
  for (double p : {-0.1, 1.0, 1.5, std::nan("")}) {
    BOOST_TEST_CONTEXT("p = " << p) {
      BOOST_CHECK_THROW(nn::Dropout<float>{p}, xgrad::ValueError);
      BOOST_CHECK_THROW(xgrad::dropout(xgrad::ones<float>({2}), p, true), xgrad::ValueError);
      BOOST_CHECK_THROW(xgrad::dropout(xgrad::ones<float>({2}), p, false), xgrad::ValueError);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(batchnorm)

BOOST_AUTO_TEST_CASE(training_normalizes_with_the_biased_batch_variance) {
  nn::BatchNorm1d<double> bn(2);
  {
    xgrad::NoGradGuard no_grad;
    bn.weight.copy_(xgrad::tensor<double>({2, -1}));
    bn.bias.copy_(xgrad::tensor<double>({0.5, 1}));
  }
  const auto y = bn(Tensor<double>(kBatch));
  const double s0 = std::sqrt(8.0 / 3 + 1e-5), s1 = std::sqrt(32.0 / 3 + 1e-5);
  const xt::xarray<double> want = {
      {-2 / s0 * 2 + 0.5, -4 / s1 * -1 + 1}, {0.5, 1}, {2 / s0 * 2 + 0.5, 4 / s1 * -1 + 1}};
  BOOST_TEST(close_arrays(y.data(), want, 1e-12));  // a few roundings of O(1) values
}

BOOST_AUTO_TEST_CASE(training_updates_running_stats_with_the_unbiased_variance) {
  nn::BatchNorm1d<double> bn(2);
  bn(Tensor<double>(kBatch));
  BOOST_TEST(close_arrays(bn.running_mean.data(), xt::xarray<double>({0.3, 0.6}), 1e-15));
  BOOST_TEST(close_arrays(bn.running_var.data(), xt::xarray<double>({1.3, 2.5}), 1e-15));
  BOOST_TEST(bn.num_batches_tracked.item() == 1.0);
  bn(Tensor<double>(kBatch));
  // 0.9 * 0.3 + 0.1 * 3 and 0.9 * 1.3 + 0.1 * 4.
  BOOST_TEST(close_arrays(bn.running_mean.data(), xt::xarray<double>({0.57, 1.14}), 1e-15));
  BOOST_TEST(close_arrays(bn.running_var.data(), xt::xarray<double>({1.57, 3.85}), 1e-14));
  BOOST_TEST(bn.num_batches_tracked.item() == 2.0);
}

BOOST_AUTO_TEST_CASE(eval_normalizes_with_the_running_stats_and_leaves_them_alone) {
  nn::BatchNorm1d<double> bn(2);
  bn(Tensor<double>(kBatch));  // running mean [0.3, 0.6], var [1.3, 2.5]
  bn.eval();
  const auto y = bn(xgrad::tensor<double>({{1.3, 0.6}, {0.3, 3.1}}));
  const double s0 = std::sqrt(1.3 + 1e-5), s1 = std::sqrt(2.5 + 1e-5);
  BOOST_TEST(close_arrays(y.data(), xt::xarray<double>({{1 / s0, 0}, {0, 2.5 / s1}}), 1e-14));
  BOOST_TEST(close_arrays(bn.running_mean.data(), xt::xarray<double>({0.3, 0.6}), 1e-15));
  BOOST_TEST(bn.num_batches_tracked.item() == 1.0);
}

BOOST_AUTO_TEST_CASE(three_d_inputs_pool_statistics_over_batch_and_length) {
  nn::BatchNorm1d<double> bn(1, 1e-5, 1.0);  // momentum 1: running = batch
  // [N=2, C=1, L=2]: values 1, 3, 5, 7 (mean 4, biased var 5, unbiased 20/3).
  const auto y = bn(xgrad::tensor<double>({{{1, 3}}, {{5, 7}}}));
  const double s = std::sqrt(5 + 1e-5);
  BOOST_TEST(
      close_arrays(y.data(), xt::xarray<double>({{{-3 / s, -1 / s}}, {{1 / s, 3 / s}}}), 1e-14));
  BOOST_TEST(close_arrays(bn.running_var.data(), xt::xarray<double>({20.0 / 3}), 1e-14));
}

BOOST_AUTO_TEST_CASE(buffers_and_parameters_are_named_like_pytorch) {
  nn::BatchNorm1d<float> bn(3);
  const std::vector<std::string> want = {"weight", "bias", "running_mean", "running_var",
                                         "num_batches_tracked"};
  BOOST_TEST(names_of(bn.state_dict()) == want, boost::test_tools::per_element());
  BOOST_TEST(bn.parameters().size() == 2u);
  nn::BatchNorm1d<float> bare(3, 1e-5, 0.1, /*affine=*/false, /*track_running_stats=*/false);
  BOOST_TEST(bare.state_dict().empty());
}

BOOST_AUTO_TEST_CASE(without_running_stats_eval_uses_the_batch) {
  nn::BatchNorm1d<double> bn(2, 1e-5, 0.1, false, false);
  bn.eval();
  const auto y = bn(Tensor<double>(kBatch));
  const double s0 = std::sqrt(8.0 / 3 + 1e-5);
  BOOST_TEST(std::abs(y.data()(0, 0) - (-2 / s0)) < 1e-14);
}

BOOST_AUTO_TEST_CASE(gradcheck_training_mode_through_the_batch_statistics) {
  xgrad::Generator gen(8);
  nn::BatchNorm1d<double> bn(3);
  nn::init::uniform_(bn.weight, 0.5, 1.5, gen);
  nn::init::uniform_(bn.bias, -1, 1, gen);
  auto x = xgrad::randn<double>({4, 3}, gen, 0.0, 1.0, true);
  auto fn = [&bn](const Inputs& in) { return bn(in[0]); };
  BOOST_TEST(passes_gradcheck(fn, {x, bn.weight, bn.bias}));
  auto x3 = xgrad::randn<double>({2, 3, 3}, gen, 0.0, 2.0, true);
  BOOST_TEST(passes_gradcheck(fn, {x3, bn.weight, bn.bias}));
}

BOOST_AUTO_TEST_CASE(gradcheck_eval_mode) {
  xgrad::Generator gen(9);
  nn::BatchNorm1d<double> bn(3);
  bn(xgrad::randn<double>({5, 3}, gen, 1.0, 2.0));  // non-trivial running stats
  bn.eval();
  nn::init::uniform_(bn.weight, 0.5, 1.5, gen);
  auto x = xgrad::randn<double>({4, 3}, gen, 0.0, 1.0, true);
  auto fn = [&bn](const Inputs& in) { return bn(in[0]); };
  BOOST_TEST(passes_gradcheck(fn, {x, bn.weight, bn.bias}));
}

BOOST_AUTO_TEST_CASE(functional_batch_norm_without_affine_or_running_stats) {
  auto x = Tensor<double>(kBatch, true);
  auto y = xgrad::batch_norm(x, Tensor<double>(), Tensor<double>(), Tensor<double>(),
                             Tensor<double>(), true);
  const double s1 = std::sqrt(32.0 / 3 + 1e-5);
  BOOST_TEST(std::abs(y.data()(2, 1) - 4 / s1) < 1e-14);
  auto fn = [](const Inputs& in) {
    return xgrad::batch_norm(in[0], Tensor<double>(), Tensor<double>(), Tensor<double>(),
                             Tensor<double>(), true);
  };
  BOOST_TEST(passes_gradcheck(fn, {x}));
}

BOOST_AUTO_TEST_CASE(float_matches_double_to_float_precision) {
  nn::BatchNorm1d<float> f(2);
  nn::BatchNorm1d<double> d(2);
  xgrad::Generator g1(4), g2(4);
  const auto yf = f(xgrad::randn<float>({16, 2}, g1, 100.0f, 0.01f));  // large mean, tiny spread
  const auto yd = d(xgrad::randn<double>({16, 2}, g2, 100.0, 0.01));
  // Normalized outputs are O(1); float input rounding (ulp(100) ~ 8e-6 against a
  // spread of 0.01) limits agreement to about 1e-3.
  BOOST_TEST(close_arrays(yf.data(), yd.data(), 5e-3));
}

BOOST_AUTO_TEST_CASE(bad_inputs_throw_and_update_nothing) {
  nn::BatchNorm1d<float> bn(2);
  BOOST_CHECK_THROW(bn(xgrad::zeros<float>({4, 3})), xgrad::ShapeError);        // 3 channels
  BOOST_CHECK_THROW(bn(xgrad::zeros<float>({4})), xgrad::ShapeError);           // rank 1
  BOOST_CHECK_THROW(bn(xgrad::zeros<float>({2, 2, 2, 2})), xgrad::ShapeError);  // rank 4
  BOOST_CHECK_THROW(bn(xgrad::zeros<float>({1, 2})), xgrad::ValueError);  // one value per channel
  BOOST_TEST(bn.num_batches_tracked.item() == 0.0f);
  BOOST_TEST(equal_arrays(bn.running_var.data(), xt::xarray<float>({1, 1})));
  bn.eval();
  BOOST_TEST(bn(xgrad::ones<float>({1, 2})).shape() == xgrad::Shape({1, 2}));  // fine in eval
}

BOOST_AUTO_TEST_CASE(a_channel_mismatch_throws_even_without_affine_or_running_stats) {
  // Nothing of size C is left for batch_norm to check: the module checks it.
  nn::BatchNorm1d<float> bare(2, 1e-5, 0.1, /*affine=*/false, /*track_running_stats=*/false);
  BOOST_CHECK_THROW(bare(xgrad::zeros<float>({4, 3})), xgrad::ShapeError);
  BOOST_CHECK_THROW(bare(xgrad::zeros<float>({4, 3, 5})), xgrad::ShapeError);
  BOOST_TEST(bare(xgrad::ones<float>({4, 2})).shape() == xgrad::Shape({4, 2}));
}

BOOST_AUTO_TEST_CASE(options_as_libtorch_spells_them) {
  nn::BatchNorm2d<float> bn(nn::BatchNorm2dOptions(3).eps(1e-3).momentum(0.2).affine(false));
  BOOST_TEST(bn.num_features() == 3u);
  BOOST_TEST(bn.eps() == 1e-3);
  BOOST_TEST(bn.momentum() == 0.2);
  BOOST_TEST(!bn.weight.defined());
  BOOST_TEST(bn.running_mean.defined());
  nn::BatchNorm1d<float> plain(nn::BatchNorm1dOptions(2).track_running_stats(false));
  BOOST_TEST(!plain.running_mean.defined());
  BOOST_TEST(plain.weight.defined());
  BOOST_TEST(plain.eps() == 1e-5);  // libtorch's defaults
  BOOST_TEST(plain.momentum() == 0.1);
}

BOOST_AUTO_TEST_CASE(bad_hyper_parameters_throw_value_error) {
  BOOST_CHECK_THROW(nn::BatchNorm1d<float>(0), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::BatchNorm1d<float>(2, 0.0), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::BatchNorm1d<float>(2, 1e-5, 1.5), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::BatchNorm1d<float>(2, 1e-5, std::nan("")), xgrad::ValueError);
  const auto x = xgrad::ones<float>({3, 2});
  const Tensor<float> none;
  BOOST_CHECK_THROW(xgrad::batch_norm(x, none, none, none, none, false), xgrad::ValueError);
  BOOST_CHECK_THROW(xgrad::batch_norm(x, xgrad::zeros<float>({2}), none, none, none, true),
                    xgrad::ValueError);
  BOOST_CHECK_THROW(xgrad::batch_norm(x, none, none, xgrad::ones<float>({3}), none, true),
                    xgrad::ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sequential)

BOOST_AUTO_TEST_CASE(children_are_named_by_position_and_indexable) {
  auto bn = std::make_shared<nn::BatchNorm1d<double>>(2);
  nn::Sequential<double> seq{bn, std::make_shared<nn::Dropout<double>>(0.1)};
  auto bn2 = seq.push_back(std::make_shared<nn::BatchNorm1d<double>>(2));
  BOOST_TEST(seq.size() == 3u);
  BOOST_TEST(seq[0].get() == bn.get());
  BOOST_TEST(seq.at<nn::BatchNorm1d<double>>(2).get() == bn2.get());
  const std::vector<std::string> children = {"0", "1", "2"};
  BOOST_TEST(names_of(seq.named_children()) == children, boost::test_tools::per_element());
  const std::vector<std::string> params = {"0.weight", "0.bias", "2.weight", "2.bias"};
  BOOST_TEST(names_of(seq.named_parameters()) == params, boost::test_tools::per_element());
  BOOST_TEST(seq.state_dict().size() == 10u);
}

BOOST_AUTO_TEST_CASE(forward_chains_the_modules_and_train_eval_reaches_them) {
  nn::Sequential<double> seq;
  auto bn = seq.push_back(std::make_shared<nn::BatchNorm1d<double>>(2));
  auto drop = seq.push_back(std::make_shared<nn::Dropout<double>>(0.5, 1));
  seq.eval();
  BOOST_TEST(!bn->is_training());
  BOOST_TEST(!drop->is_training());
  // Eval: batch norm with running stats (0, 1), dropout is the identity.
  const auto y = seq(Tensor<double>(kBatch));
  BOOST_TEST(close_arrays(y.data(), xt::xarray<double>(kBatch / std::sqrt(1 + 1e-5)), 1e-14));
}

BOOST_AUTO_TEST_CASE(forward_runs_a_replaced_child) {
  nn::Sequential<double> seq{std::make_shared<nn::Dropout<double>>(0.5, 1),
                             std::make_shared<nn::BatchNorm1d<double>>(2)};
  seq.replace_module("1", std::make_shared<nn::Dropout<double>>(0.5, 2));
  seq.eval();  // a new child comes in its own (training) mode
  BOOST_TEST(seq.size() == 2u);
  BOOST_TEST(seq[1]->type_name() == "Dropout");
  // Two eval dropouts: the identity (the batch norm would have scaled it).
  const auto y = seq(Tensor<double>(kBatch));
  BOOST_TEST(equal_arrays(y.data(), kBatch));
}

BOOST_AUTO_TEST_CASE(an_empty_sequential_returns_its_input) {
  nn::Sequential<float> seq;
  auto x = xgrad::ones<float>({2});
  BOOST_TEST(seq(x).storage() == x.storage());
}

BOOST_AUTO_TEST_CASE(bad_indexing_throws) {
  nn::Sequential<float> seq{std::make_shared<nn::Dropout<float>>(0.1)};
  BOOST_CHECK_THROW(seq[1], xgrad::ValueError);
  BOOST_CHECK_THROW(seq.at<nn::BatchNorm1d<float>>(0), xgrad::TypeError);
  BOOST_CHECK_THROW(seq.push_back(std::shared_ptr<nn::Dropout<float>>()), xgrad::ValueError);
  BOOST_TEST(seq.size() == 1u);
}

BOOST_AUTO_TEST_CASE(make_shared_forwards_the_modules_as_separate_arguments) {
  auto fc = std::make_shared<nn::Linear<float>>(2, 3);
  auto seq = std::make_shared<nn::Sequential<float>>(fc, std::make_shared<nn::ReLU<float>>());
  BOOST_TEST(seq->size() == 2u);
  BOOST_TEST(seq->at<nn::Linear<float>>(0).get() == fc.get());
  BOOST_TEST(seq->forward(xgrad::ones<float>({4, 2})).sizes() == xgrad::Shape({4, 3}));
}

BOOST_AUTO_TEST_CASE(gradcheck_through_a_chain) {
  xgrad::Generator gen(12);
  nn::Sequential<double> seq{std::make_shared<nn::BatchNorm1d<double>>(3),
                             std::make_shared<nn::BatchNorm1d<double>>(3)};
  auto second = seq.at<nn::BatchNorm1d<double>>(1);
  nn::init::uniform_(second->weight, 0.5, 2, gen);
  auto x = xgrad::randn<double>({5, 3}, gen, 0.0, 1.0, true);
  auto fn = [&seq](const Inputs& in) { return seq(in[0]); };
  BOOST_TEST(passes_gradcheck(fn, {x, second->weight}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(linear)

BOOST_AUTO_TEST_CASE(default_element_type_is_float) {
  nn::Linear fc(64, 128);  // class template argument deduction
  nn::Linear<> fc2(2, 3);
  static_assert(std::is_same<decltype(fc), nn::Linear<float>>::value, "CTAD gives Linear<float>");
  static_assert(std::is_same<decltype(fc2), nn::Linear<float>>::value, "Linear<> is Linear<float>");
  BOOST_TEST(fc.weight.shape() == xgrad::Shape({128, 64}));
  BOOST_TEST(fc.bias.shape() == xgrad::Shape({128}));
  BOOST_TEST(fc.in_features() == 64u);
  BOOST_TEST(fc.out_features() == 128u);
}

BOOST_AUTO_TEST_CASE(options_as_libtorch_spells_them) {
  xgrad::Generator g1(4), g2(4);
  nn::Linear<double> from_options(nn::LinearOptions(3, 2).bias(false), g1);
  nn::Linear<double> direct(3, 2, /*bias=*/false, g2);
  BOOST_TEST(!from_options.bias.defined());
  BOOST_TEST(equal_arrays(from_options.weight.data(), direct.weight.data()));  // same draws
  BOOST_TEST(nn::LinearOptions(3, 2).bias());                                  // a bias by default
}

BOOST_AUTO_TEST_CASE(parameters_are_weight_then_bias) {
  nn::Linear<double> fc(3, 2);
  const std::vector<std::string> want = {"weight", "bias"};
  BOOST_TEST(names_of(fc.named_parameters()) == want, boost::test_tools::per_element());
  for (const auto& p : fc.parameters()) BOOST_TEST(p.requires_grad());
  nn::Linear<double> no_bias(3, 2, /*bias=*/false);
  BOOST_TEST(!no_bias.bias.defined());
  BOOST_TEST(no_bias.state_dict().size() == 1u);
}

BOOST_AUTO_TEST_CASE(init_is_uniform_within_one_over_sqrt_fan_in) {
  xgrad::Generator gen(17);
  nn::Linear<double> fc(25, 400, true, gen);  // bound 1/sqrt(25) = 0.2
  const double wmax = xt::amax(xt::abs(fc.weight.data()))();
  const double bmax = xt::amax(xt::abs(fc.bias.data()))();
  BOOST_TEST(wmax <= 0.2);
  BOOST_TEST(bmax <= 0.2);
  // 10000 weights and 400 biases reach close to the bound.
  BOOST_TEST(wmax > 0.199);
  BOOST_TEST(bmax > 0.19);
  BOOST_TEST(std::abs(total(fc.weight) / 10000) < 0.01);  // mean 0, sd of mean 0.0012
}

BOOST_AUTO_TEST_CASE(init_is_reproducible_from_a_seed) {
  xgrad::Generator g1(5), g2(5);
  nn::Linear<float> a(4, 3, true, g1), b(4, 3, true, g2);
  BOOST_TEST(equal_arrays(a.weight.data(), b.weight.data()));
  BOOST_TEST(equal_arrays(a.bias.data(), b.bias.data()));
  xgrad::manual_seed(5);
  nn::Linear<float> c(4, 3);
  BOOST_TEST(equal_arrays(a.weight.data(), c.weight.data()));  // the default generator, same seed
  nn::Linear<float> d(4, 3);
  BOOST_TEST(!equal_arrays(c.weight.data(), d.weight.data()));  // the stream moved on
}

BOOST_AUTO_TEST_CASE(reset_parameters_redraws_in_place) {
  nn::Linear<float> fc(4, 3);
  auto handle = fc.weight;
  const xt::xarray<float> before = handle.data();
  xgrad::Generator gen(99);
  fc.reset_parameters(gen);
  BOOST_TEST(fc.weight.storage() == handle.storage());
  BOOST_TEST(!equal_arrays(handle.data(), before));
}

BOOST_AUTO_TEST_CASE(forward_computes_x_w_transposed_plus_b) {
  nn::Linear<double> fc(2, 3);
  {
    xgrad::NoGradGuard no_grad;
    fc.weight.copy_(xgrad::tensor<double>({{1, 2}, {3, 4}, {5, 6}}));
    fc.bias.copy_(xgrad::tensor<double>({0.5, -1, 0}));
  }
  const auto y = fc(xgrad::tensor<double>({{1, 1}, {0, -1}}));
  BOOST_TEST(equal_arrays(y.data(), xt::xarray<double>({{3.5, 6, 11}, {-1.5, -5, -6}})));
}

BOOST_AUTO_TEST_CASE(gradcheck_input_weight_and_bias) {
  xgrad::Generator gen(21);
  nn::Linear<double> fc(4, 3, true, gen);
  auto x = xgrad::randn<double>({5, 4}, gen, 0.0, 1.0, true);
  auto fn = [&fc](const Inputs& in) { return fc(in[0]); };
  BOOST_TEST(passes_gradcheck(fn, {x, fc.weight, fc.bias}));
  nn::Linear<double> no_bias(4, 2, false, gen);
  auto fn2 = [&no_bias](const Inputs& in) { return no_bias(in[0]); };
  BOOST_TEST(passes_gradcheck(fn2, {x, no_bias.weight}));
}

BOOST_AUTO_TEST_CASE(bad_sizes_and_inputs_throw) {
  BOOST_CHECK_THROW(nn::Linear<float>(0, 3), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::Linear<float>(3, 0), xgrad::ValueError);
  nn::Linear<float> fc(4, 3);
  BOOST_CHECK_THROW(fc(xgrad::zeros<float>({2, 5})), xgrad::ShapeError);
}

BOOST_AUTO_TEST_CASE(an_undefined_input_is_a_value_error_naming_the_layer) {
  nn::Linear<float> fc(4, 3);
  try {
    fc(Tensor<float>());
    BOOST_ERROR("undefined input accepted");
  } catch (const xgrad::ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("Linear: input is undefined") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(activations)

struct ActivationCase {
  const char* name;
  std::shared_ptr<xgrad::Module<double>> layer;
  double (*reference)(double);
};

std::vector<ActivationCase> elementwise_cases() {
  return {
      {"ReLU", std::make_shared<nn::ReLU<double>>(), [](double x) { return x > 0 ? x : 0.0; }},
      {"Sigmoid", std::make_shared<nn::Sigmoid<double>>(),
       [](double x) { return 1 / (1 + std::exp(-x)); }},
      {"Tanh", std::make_shared<nn::Tanh<double>>(), [](double x) { return std::tanh(x); }},
  };
}

BOOST_AUTO_TEST_CASE(elementwise_activations_match_their_formula) {
  const auto x = xgrad::tensor<double>({{-3, -0.5, 0}, {0.25, 2, 7}});
  for (const auto& c : elementwise_cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(c.layer->type_name() == c.name);
      const auto y = (*c.layer)(x);
      xt::xarray<double> want = x.data();
      for (auto& v : want) v = c.reference(v);
      BOOST_TEST(close_arrays(y.data(), want, 1e-15));  // one rounding of values <= 7
    }
  }
}

BOOST_AUTO_TEST_CASE(gradcheck_elementwise_activations) {
  // Values away from ReLU's kink at 0.
  const auto x = xgrad::tensor<double>({{-3, -0.5, 0.1}, {0.25, 2, 4}}, true);
  for (const auto& c : elementwise_cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      auto layer = c.layer;
      BOOST_TEST(passes_gradcheck([layer](const Inputs& in) { return (*layer)(in[0]); }, {x}));
    }
  }
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_along_a_dim) {
  const auto x = xgrad::tensor<double>({{0, std::log(3.0)}, {1, 1}});
  nn::Softmax<double> rows(1), cols(0);
  BOOST_TEST(close_arrays(rows(x).data(), xt::xarray<double>({{0.25, 0.75}, {0.5, 0.5}}), 1e-15));
  const double e = std::exp(1.0);
  BOOST_TEST(close_arrays(
      cols(x).data(), xt::xarray<double>({{1 / (1 + e), 3 / (3 + e)}, {e / (1 + e), e / (3 + e)}}),
      1e-15));
  nn::LogSoftmax<double> log_rows(-1);
  BOOST_TEST(close_arrays(
      log_rows(x).data(),
      xt::xarray<double>({{std::log(0.25), std::log(0.75)}, {std::log(0.5), std::log(0.5)}}),
      1e-15));
  BOOST_TEST(log_rows.dim() == -1);
}

BOOST_AUTO_TEST_CASE(gradcheck_softmax_and_log_softmax) {
  xgrad::Generator gen(30);
  auto x = xgrad::randn<double>({3, 4}, gen, 0.0, 1.0, true);
  nn::Softmax<double> sm(1);
  nn::LogSoftmax<double> lsm(0);
  BOOST_TEST(passes_gradcheck([&sm](const Inputs& in) { return sm(in[0]); }, {x}));
  BOOST_TEST(passes_gradcheck([&lsm](const Inputs& in) { return lsm(in[0]); }, {x}));
}

BOOST_AUTO_TEST_CASE(a_dim_out_of_range_is_a_shape_error) {
  nn::Softmax<float> sm(2);
  nn::LogSoftmax<float> lsm(-3);
  BOOST_CHECK_THROW(sm(xgrad::zeros<float>({2, 2})), xgrad::ShapeError);
  BOOST_CHECK_THROW(lsm(xgrad::zeros<float>({2, 2})), xgrad::ShapeError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flatten)

Tensor<double> four_d(bool requires_grad = false) {
  xt::xarray<double> a = xt::arange<double>(120);
  a.reshape({2, 3, 4, 5});
  return Tensor<double>(a, requires_grad);
}

BOOST_AUTO_TEST_CASE(flattens_the_given_range_of_axes) {
  struct Case {
    std::ptrdiff_t start, end;
    xgrad::Shape want;
  };
  const std::vector<Case> cases = {
      {1, -1, {2, 60}},     {0, -1, {120}},       {1, 2, {2, 12, 5}},
      {-2, -1, {2, 3, 20}}, {2, 2, {2, 3, 4, 5}},
  };
  const auto x = four_d();
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("start " << c.start << " end " << c.end) {
      const auto y = nn::Flatten<double>(c.start, c.end)(x);
      BOOST_TEST(y.shape() == c.want);
      BOOST_TEST(std::equal(y.data().begin(), y.data().end(), x.data().begin()));  // order kept
    }
  }
}

BOOST_AUTO_TEST_CASE(gradcheck_flatten) {
  xgrad::Generator gen(2);
  auto x = xgrad::randn<double>({2, 3, 2}, gen, 0.0, 1.0, true);
  nn::Flatten<double> flat;
  BOOST_TEST(passes_gradcheck([&flat](const Inputs& in) { return flat(in[0]); }, {x}));
}

BOOST_AUTO_TEST_CASE(unflatten_splits_one_axis_and_inverts_flatten) {
  const auto x = four_d();
  const auto flat = nn::Flatten<double>()(x);  // [2, 60]
  const auto back = nn::Unflatten<double>(1, {3, 4, 5})(flat);
  BOOST_TEST(back.sizes() == x.sizes());
  BOOST_TEST(equal_arrays(back.data(), x.data()));
  const auto inferred = nn::Unflatten<double>(nn::UnflattenOptions(-1, {-1, 5}))(flat);
  BOOST_TEST(inferred.sizes() == xgrad::Shape({2, 12, 5}));
  BOOST_TEST(nn::Unflatten<double>(1, {3, 20}).named_parameters().empty());
}

BOOST_AUTO_TEST_CASE(gradcheck_unflatten) {
  xgrad::Generator gen(3);
  auto x = xgrad::randn<double>({2, 6}, gen, 0.0, 1.0, true);
  nn::Unflatten<double> unflat(1, {2, 3});
  BOOST_TEST(passes_gradcheck([&unflat](const Inputs& in) { return unflat(in[0]); }, {x}));
}

BOOST_AUTO_TEST_CASE(bad_axes_throw) {
  const auto x = four_d();
  BOOST_CHECK_THROW(nn::Flatten<double>(4, -1)(x), xgrad::ShapeError);
  BOOST_CHECK_THROW(nn::Flatten<double>(0, -5)(x), xgrad::ShapeError);
  BOOST_CHECK_THROW(nn::Flatten<double>(2, 1)(x), xgrad::ValueError);
  BOOST_CHECK_THROW(nn::Flatten<double>()(xgrad::zeros<double>({3})),
                    xgrad::ShapeError);  // no axis 1
  BOOST_CHECK_THROW(nn::Flatten<double>()(Tensor<double>()), xgrad::ValueError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mlp)

template <class T>
std::shared_ptr<nn::Sequential<T>> make_mlp(xgrad::Generator& gen) {
  return std::make_shared<nn::Sequential<T>>(
      std::make_shared<nn::Linear<T>>(4, 8, true, gen), std::make_shared<nn::BatchNorm1d<T>>(8),
      std::make_shared<nn::Tanh<T>>(), std::make_shared<nn::Dropout<T>>(0.2, 3),
      std::make_shared<nn::Linear<T>>(8, 3, true, gen), std::make_shared<nn::LogSoftmax<T>>(1));
}

BOOST_AUTO_TEST_CASE(state_dict_names_of_a_sequential_mlp) {
  xgrad::Generator gen(1);
  auto mlp = make_mlp<float>(gen);
  const std::vector<std::string> want = {"0.weight",
                                         "0.bias",
                                         "1.weight",
                                         "1.bias",
                                         "1.running_mean",
                                         "1.running_var",
                                         "1.num_batches_tracked",
                                         "4.weight",
                                         "4.bias"};
  BOOST_TEST(names_of(mlp->state_dict()) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gradcheck_the_whole_mlp_in_training_mode) {
  xgrad::Generator gen(6);
  auto mlp = make_mlp<double>(gen);
  auto x = xgrad::randn<double>({5, 4}, gen, 0.0, 1.0, true);
  auto first = mlp->at<nn::Linear<double>>(0);
  // Dropout draws a new mask on every call, which finite differences cannot
  // follow: it alone is put in eval mode (it is gradchecked on its own above).
  mlp->at<nn::Dropout<double>>(3)->eval();
  auto fn = [&mlp](const Inputs& in) { return (*mlp)(in[0]); };
  BOOST_TEST(passes_gradcheck(fn, {x, first->weight, first->bias}));
}

BOOST_AUTO_TEST_CASE(a_float_model_moves_to_double_through_a_checkpoint) {
  xgrad::Generator g1(2), g2(77);
  auto f = make_mlp<float>(g1);
  f->eval();
  const std::string path = "/tmp/xgrad-nn-layers-" + std::to_string(::getpid()) + ".npz";
  xgrad::save(*f, path);
  auto d = make_mlp<double>(g2);  // different initial weights
  BOOST_CHECK_THROW(xgrad::load(*d, path), xgrad::TypeError);
  d->load_state_dict(xgrad::convert_state_dict<double>(xgrad::load_state_dict_file<float>(path)));
  std::remove(path.c_str());
  d->eval();
  xgrad::Generator g3(4);
  const auto xf = xgrad::randn<float>({3, 4}, g3);
  xt::xarray<double> xd = xt::xarray<double>::from_shape(xf.shape());
  std::copy(xf.data().begin(), xf.data().end(), xd.begin());  // the same inputs, exactly
  const auto yf = (*f)(xf);
  const auto yd = (*d)(Tensor<double>(xd));
  // Same weights and inputs; only float rounding separates them. Each linear
  // output is a sum of at most 9 terms of size below 3 (|w| <= 1/sqrt(fan_in),
  // |x| < 4), within gamma_9 * 9 * 3 < 1e-5 (test_util.hpp); BatchNorm with
  // fresh statistics scales by 1/sqrt(1 + 1e-5) <= 1, tanh is 1-Lipschitz and
  // log-softmax at most doubles an error, each adding a few roundings of O(1)
  // values: the outputs agree within ~1e-5, and 1e-4 leaves a margin of 10.
  BOOST_TEST(close_arrays(yf.data(), yd.data(), 1e-4));
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  {
    const D a = leaf({4, 3});
    r.push_back({"dropout: p = 1",
                 raises<ValueError>("dropout", {"p must be in [0, 1)", "got 1"}),
                 [a] { dropout(a, 1.0); },
                 {a}});
    r.push_back({"dropout: negative p",
                 raises<ValueError>("dropout", {"p must be in [0, 1)", "got -0.1"}),
                 [a] { dropout(a, -0.1); },
                 {a}});
    r.push_back({"dropout: NaN p",
                 raises<ValueError>("dropout", {"p must be in [0, 1)", "got nan"}),
                 [a] { dropout(a, kNaN); },
                 {a}});
    r.push_back({"dropout: undefined", raises<ValueError>("dropout", {"input is undefined"}),
                 [u] { dropout(u, 0.5); }});
    const D rm = zeros<double>({3}), rv = ones<double>({3});
    r.push_back({"batch_norm: 1-D input",
                 raises<ShapeError>("batch_norm", {"input must be", "got [3]"}),
                 [rm, rv, u] { batch_norm(zeros<double>({3}), rm, rv, u, u, true, 0.1, 1e-5); },
                 {rm, rv}});
    r.push_back({"batch_norm: running_mean of the wrong size",
                 raises<ShapeError>("batch_norm", {"running_mean must have shape [3]", "got [2]"}),
                 [a, rv, u] { batch_norm(a, zeros<double>({2}), rv, u, u, true, 0.1, 1e-5); },
                 {a, rv}});
    r.push_back({"batch_norm: momentum above 1",
                 raises<ValueError>("batch_norm", {"momentum", "got 1.5"}),
                 [a, rm, rv, u] { batch_norm(a, rm, rv, u, u, true, 1.5, 1e-5); },
                 {a, rm, rv}});
    r.push_back({"batch_norm: zero eps",
                 raises<ValueError>("batch_norm", {"eps", "got 0"}),
                 [a, rm, rv, u] { batch_norm(a, rm, rv, u, u, true, 0.1, 0.0); },
                 {a, rm, rv}});
    r.push_back({"batch_norm: eval without running stats",
                 raises<ValueError>("batch_norm",
                                    {"running_mean and running_var are required", "not training"}),
                 [a, u] { batch_norm(a, u, u, u, u, false, 0.1, 1e-5); },
                 {a}});
    r.push_back(
        {"batch_norm: one value per channel",
         raises<ValueError>("batch_norm", {"more than 1 value per channel", "got input [1, 3]"}),
         [rm, rv, u] {
           batch_norm(zeros<double>({1, 3}), rm, rv, u, u, true, 0.1, 1e-5);
         },
         {rm, rv}});
    r.push_back(undefined_argument("batch_norm", "input",
                                   [rm, rv, u] { batch_norm(u, rm, rv, u, u, true, 0.1, 1e-5); },
                                   {rm, rv}));
  }
  {
    auto m = std::make_shared<nn::Linear<double>>(3, 2);
    r.push_back({"Linear: zero in_features",
                 raises<ValueError>(
                     "Linear", {"in_features and out_features must be positive", "got 0 and 2"}),
                 [] { nn::Linear<double>(0, 2); }});
    r.push_back(
        forward_of("Linear: input of the wrong width",
                   raises<ShapeError>("linear", {"input [4, 5], weight [2, 3]", "in_features"}), m,
                   zeros<double>({4, 5})));
    r.push_back(forward_of_undefined(m, "Linear", "input"));
    r.push_back({"Sequential: null module",
                 raises<ValueError>("Sequential::register_module", {"module \"0\" is null"}), [] {
                   nn::Sequential<double> s;
                   s.push_back(std::shared_ptr<Module<double>>());
                 }});
    auto bn = std::make_shared<nn::BatchNorm1d<double>>(3);
    r.push_back({"BatchNorm1d: zero features",
                 raises<ValueError>("BatchNorm1d", {"num_features", "got 0"}),
                 [] { nn::BatchNorm1d<double>(0); }});
    r.push_back({"BatchNorm1d: negative eps", raises<ValueError>("BatchNorm1d", {"eps", "got -1"}),
                 [] { nn::BatchNorm1d<double>(3, -1.0); }});
    r.push_back({"BatchNorm1d: momentum 2",
                 raises<ValueError>("BatchNorm1d", {"momentum", "got 2"}),
                 [] { nn::BatchNorm1d<double>(3, 1e-5, 2.0); }});
    r.push_back(
        forward_of("BatchNorm1d: wrong channel count",
                   raises<ShapeError>("BatchNorm1d", {"expected 3 channels", "got input [4, 2]"}),
                   bn, zeros<double>({4, 2})));
    r.push_back(forward_of(
        "BatchNorm1d: one value per channel in training",
        raises<ValueError>("batch_norm", {"more than 1 value per channel", "got input [1, 3]"}), bn,
        zeros<double>({1, 3})));
    r.push_back({"Dropout: p = 1", raises<ValueError>("Dropout", {"p must be in [0, 1)", "got 1"}),
                 [] { nn::Dropout<double>(1.0); }});
    r.push_back(
        {"Flatten: start after end",
         raises<ValueError>("flatten", {"start_dim 1 comes after end_dim 0", "shape [2, 3, 4]"}),
         [] {
           nn::Flatten<double>(1, 0).forward(zeros<double>({2, 3, 4}));
         }});
    r.push_back({"Flatten: axis out of range",
                 raises<ShapeError>("flatten", {"axis 3 is out of range"}), [] {
                   nn::Flatten<double>(3).forward(zeros<double>({2, 3}));
                 }});
    r.push_back({"LinearOptions: in_features 0",
                 raises<ValueError>("Linear", {"in_features must be positive, got 0"}),
                 [] { nn::Linear<double>(nn::LinearOptions(0, 2)); }});
    r.push_back({"LinearOptions: negative out_features",
                 raises<ValueError>("Linear", {"out_features must be positive, got -2"}),
                 [] { nn::Linear<double>(nn::LinearOptions(3, -2)); }});
    r.push_back({"BatchNorm2dOptions: negative num_features",
                 raises<ValueError>("BatchNorm2d", {"num_features must be positive, got -1"}),
                 [] { nn::BatchNorm2d<double>(nn::BatchNorm2dOptions(-1)); }});
    r.push_back({"BatchNorm1dOptions: momentum above 1",
                 raises<ValueError>("BatchNorm1d", {"momentum must be in [0, 1], got 2"}),
                 [] { nn::BatchNorm1d<double>(nn::BatchNorm1dOptions(2).momentum(2)); }});
    r.push_back({"Unflatten: empty sizes",
                 raises<ValueError>("Unflatten", {"sizes must not be empty"}),
                 [] { nn::Unflatten<double>(1, {}); }});
    r.push_back({"Unflatten: a size of 0",
                 raises<ValueError>("Unflatten", {"sizes [0, 3] hold 0", ">= 1, or -1"}), [] {
                   nn::Unflatten<double>(1, {0, 3});
                 }});
    r.push_back({"Unflatten: two -1",
                 raises<ValueError>("Unflatten", {"sizes [-1, -1]", "more than one -1"}), [] {
                   nn::Unflatten<double>(1, {-1, -1});
                 }});
    r.push_back({"Unflatten: sizes not matching the input",
                 raises<ShapeError>("unflatten", {"sizes [4, 4]", "extent 6 of dim 1"}), [] {
                   nn::Unflatten<double>(1, {4, 4}).forward(zeros<double>({2, 6}));
                 }});
    r.push_back({"Softmax module: axis out of range",
                 raises<ShapeError>("softmax", {"axis 4 is out of range"}), [] {
                   nn::Softmax<double>(4).forward(zeros<double>({2, 3}));
                 }});
  }
  {
    // A shape mistake deep in a chain names the layer that refused its input.
    auto chain = std::make_shared<nn::Sequential<double>>(
        std::make_shared<nn::Linear<double>>(3, 2), std::make_shared<nn::ReLU<double>>(),
        std::make_shared<nn::Linear<double>>(4, 1));
    r.push_back(forward_of("Sequential: a layer gets an input of the wrong width",
                           raises<ShapeError>("linear", {"in Sequential layer \"2\", a Linear",
                                                         "whose input has shape [2, 2]"}),
                           chain, leaf({2, 3})));
  }
}

BOOST_AUTO_TEST_SUITE_END()  // test_nn_layers
