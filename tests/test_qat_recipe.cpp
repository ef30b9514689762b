// The QAT recipe options (docs/apot-training.md, "Recipe options"): the
// initial clipping value (calibration max, LSQ's clip point, a percentile,
// the least-squared-error alpha), LSQ's gradient scale for RCF alphas, the
// level family, narrow-range uniform weights, freezing with weights
// followed, and the clipping parameters' own optimizer group.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <memory>

#include "test_util.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/random.hpp"

BOOST_AUTO_TEST_SUITE(test_qat_recipe)

namespace nn = xgrad::nn;
namespace quant = xgrad::quant;
using quant::AlphaInit;
using quant::QuantizerSpec;
using quant::QuantMethod;
using xgrad::Module;
using xgrad::Tensor;

namespace {

using Seq = nn::Sequential<float>;

// Linear(4, 3) - ReLU - Linear(3, 2).
std::shared_ptr<Seq> make_mlp() {
  xgrad::Generator gen(5);
  return std::make_shared<Seq>(std::initializer_list<std::shared_ptr<Module<float>>>{
      std::make_shared<nn::Linear<float>>(4, 3, true, gen), std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Linear<float>>(3, 2, true, gen)});
}

quant::qat::Linear<float>& qat_layer(Seq& model, std::size_t i) {
  return *model.named_children()[i].second->as<quant::qat::Linear<float>>();
}

template <class Q>
Q& input_quantizer(Seq& model, std::size_t i) {
  return *qat_layer(model, i).input_fake_quant->as<Q>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_percentile_clip_observer_takes_a_percentile_of_abs_x) {
  quant::PercentileClipObserver<float> obs(50.0);
  obs.forward(xgrad::tensor<float>({-4, 1, 2, 3}));
  // |x| sorted {1, 2, 3, 4}; the 0.5-quantile sits halfway between 2 and 3.
  BOOST_TEST(obs.calculate_qparams() == 2.5f);
}

BOOST_AUTO_TEST_CASE(the_mse_clip_observer_picks_the_least_squared_error_alpha) {
  // 100 ones and one 10 on {0, 1/3, 2/3, 1}, candidates alpha = 1..10:
  // alpha = 4 rounds the ones to 4/3 and clips 10 to 4: 100/9 + 36 = 47.1;
  // alpha = 3 (ones exact, 10 -> 3): 49; alpha = 10 (ones -> 0): 100.
  quant::MseClipObserver<float> obs(quant::uniform_levels(2, false), 10);
  xt::xarray<float> x = xt::ones<float>({101});
  x(100) = 10;
  obs.forward(Tensor<float>(x));
  BOOST_TEST(obs.calculate_qparams() == 4.0f);
}

BOOST_AUTO_TEST_CASE(an_rcf_activation_starts_at_the_percentile_the_spec_names) {
  QuantizerSpec a{QuantMethod::apot_rcf, 4, false};
  a.init = AlphaInit::percentile;
  a.percentile = 50.0;
  auto model = make_mlp();
  quant::prepare_qat(*model, quant::make_qconfig<float>({QuantMethod::apot_rcf, 4, true}, a));
  // Layer 0's input is the batch itself, {1, 2, 3, 4} (an unsigned input set
  // refuses negative inputs in calibrate).
  quant::calibrate(*model, {xgrad::tensor<float>({{1, 2, 3, 4}})});
  BOOST_TEST(input_quantizer<quant::RCFFakeQuantize<float>>(*model, 0).alpha().item() == 2.5f);
}

BOOST_AUTO_TEST_CASE(lsq_with_the_clip_point_init_starts_at_lsqs_step_with_zero_point_0) {
  quant::LearnableFakeQuantizeOptions<float> o;
  o.quant_min = 0;
  o.quant_max = 15;
  o.step_init = AlphaInit::lsq_clip_point;
  quant::LearnableFakeQuantize<float> q(o);
  q.forward(xgrad::tensor<float>({-1, 1, 3, -3}));
  // 2 mean|x| sqrt(15) / 15 = 4 / sqrt(15); the clip point and the division
  // each round once in float: within 2 ulps.
  const double step = 4.0 / std::sqrt(15.0);
  BOOST_TEST(std::abs(q.scale().item() - step) <= 2 * step * 0x1p-24);
  BOOST_TEST(q.zero_point().item() == 0.0f);
  BOOST_TEST(!q.zero_point().requires_grad());
  BOOST_TEST(q.scale().requires_grad());
}

BOOST_AUTO_TEST_CASE(lsq_grad_scale_multiplies_the_rcf_alpha_gradient) {
  QuantizerSpec plain{QuantMethod::apot_rcf, 4, true}, scaled = plain;
  scaled.lsq_grad_scale = true;
  const Tensor<float> x = xgrad::tensor<float>({-4, -1, 0.5f, 2, 5, 0.25f});
  double grads[2];
  int k = 0;
  for (const QuantizerSpec& s : {plain, scaled}) {
    auto q = quant::make_fake_quantize<float>(s);
    xgrad::sum(q->forward(x)).backward();
    grads[k++] = q->as<quant::RCFFakeQuantize<float>>()->alpha().grad().item();
  }
  // 1 / sqrt(6 * 7) (top code 7 for 4 signed bits); both gradients come from
  // the same double sum, the scaled one multiplied once more: within an ulp.
  const double factor = 1.0 / std::sqrt(6.0 * 7.0);
  BOOST_TEST(grads[0] != 0.0);
  BOOST_TEST(std::abs(grads[1] - grads[0] * factor) <= std::abs(grads[0] * factor) * 0x1p-23);
}

BOOST_AUTO_TEST_CASE(the_level_family_picks_the_normalized_set) {
  QuantizerSpec s{QuantMethod::apot_rcf, 2, false};
  s.levels = quant::LevelFamily::uniform;
  auto q = quant::make_fake_quantize<float>(s);
  const std::vector<float> expected = {0.0f, 1.0f / 3, 2.0f / 3, 1.0f};
  BOOST_TEST(q->as<quant::RCFFakeQuantize<float>>()->levels() == expected,
             boost::test_tools::per_element());
  s.levels = quant::LevelFamily::apot;
  const std::vector<float> apot = {0.0f, 0.25f, 0.5f, 1.0f};
  BOOST_TEST(
      quant::make_fake_quantize<float>(s)->as<quant::RCFFakeQuantize<float>>()->levels() == apot,
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(narrow_range_gives_the_symmetric_signed_grid) {
  QuantizerSpec s{QuantMethod::uniform, 8, true};
  s.narrow_range = true;
  auto q = quant::make_fake_quantize<float>(s);
  BOOST_TEST(q->as<quant::FakeQuantize<float>>()->quant_min() == -127);
  BOOST_TEST(q->as<quant::FakeQuantize<float>>()->quant_max() == 127);
}

BOOST_AUTO_TEST_CASE(recipe_options_appear_in_the_name_only_when_set) {
  QuantizerSpec s{QuantMethod::apot_rcf, 2, false};
  BOOST_TEST(quant::to_string(s) == "apot_rcf(b=2,unsigned)");
  s.init = AlphaInit::percentile;
  s.percentile = 99.5;
  s.lsq_grad_scale = true;
  s.levels = quant::LevelFamily::uniform;
  BOOST_TEST(quant::to_string(s) ==
             "apot_rcf(b=2,unsigned,init=percentile,p=99.5,grad=lsq,levels=uniform)");
}

BOOST_AUTO_TEST_CASE(freeze_following_weights_keeps_only_fixed_weight_observers_on) {
  auto model = make_mlp();
  QuantizerSpec w8{QuantMethod::uniform, 8, true};
  w8.narrow_range = true;
  quant::prepare_qat(
      *model, quant::apot_rcf_qconfig<float>(4),
      {{"2", quant::make_qconfig<float>(w8, QuantizerSpec{QuantMethod::uniform, 8})}});
  quant::calibrate(*model, {xgrad::tensor<float>({{1, 2, 3, 4}})});
  quant::freeze(*model, /*follow_weights=*/true);
  BOOST_TEST(!qat_layer(*model, 0).weight_fake_quant->observer_enabled());  // RCF: learned
  BOOST_TEST(!qat_layer(*model, 0).input_fake_quant->observer_enabled());
  BOOST_TEST(qat_layer(*model, 2).weight_fake_quant->observer_enabled());  // 8-bit: follows
  BOOST_TEST(!qat_layer(*model, 2).input_fake_quant->observer_enabled());
  quant::freeze(*model);
  BOOST_TEST(!qat_layer(*model, 2).weight_fake_quant->observer_enabled());
}

BOOST_AUTO_TEST_CASE(clipping_parameters_are_the_learned_alphas_and_steps) {
  auto model = make_mlp();
  QuantizerSpec lsq{QuantMethod::uniform_lsq, 4, true}, lsq_in{QuantMethod::uniform_lsq, 4};
  lsq.narrow_range = true;
  lsq.init = lsq_in.init = AlphaInit::lsq_clip_point;  // zero points not learned
  quant::prepare_qat(*model, quant::apot_rcf_qconfig<float>(4),
                     {{"2", quant::make_qconfig<float>(lsq, lsq_in)}});
  const auto clip = quant::clipping_parameters(*model);
  auto& rcf = qat_layer(*model, 0);
  auto& uni = qat_layer(*model, 2);
  const auto* w_lsq = uni.weight_fake_quant->as<quant::LearnableFakeQuantize<float>>();
  const auto* a_lsq = uni.input_fake_quant->as<quant::LearnableFakeQuantize<float>>();
  const std::vector<const xt::xarray<float>*> expected = {
      &rcf.weight_fake_quant->as<quant::RCFFakeQuantize<float>>()->alpha().data(),
      &rcf.input_fake_quant->as<quant::RCFFakeQuantize<float>>()->alpha().data(),
      &w_lsq->scale().data(), &a_lsq->scale().data()};
  BOOST_REQUIRE(clip.size() == expected.size());
  for (std::size_t i = 0; i < clip.size(); ++i) BOOST_TEST(&clip[i].data() == expected[i]);
}

BOOST_AUTO_TEST_CASE(qat_param_groups_split_weights_from_clipping_with_its_own_rate) {
  auto model = make_mlp();
  quant::prepare_qat(*model, quant::apot_rcf_qconfig<float>(4));
  const auto groups = quant::qat_param_groups(*model, 0.01);
  BOOST_REQUIRE(groups.size() == 2u);
  BOOST_TEST(groups[0].params.size() == 4u);  // two weights, two biases
  BOOST_TEST(!groups[0].lr.has_value());
  BOOST_TEST(groups[1].params.size() == 4u);  // two layers x (weight, input) alphas
  BOOST_TEST(*groups[1].lr == 0.01);
  BOOST_TEST(*groups[1].weight_decay == 0.0);
  BOOST_TEST(model->parameters().size() == 8u);
}

BOOST_AUTO_TEST_CASE(a_float_model_has_one_group) {
  auto model = make_mlp();
  BOOST_TEST(quant::qat_param_groups(*model, 0.01).size() == 1u);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  using namespace xgrad::quant;
  using xgrad::ValueError;
  const auto spec_row = [&r](std::string what, QuantizerSpec s, std::vector<std::string> words) {
    r.push_back({std::move(what), raises<ValueError>("make_fake_quantize", std::move(words)),
                 [s] { make_fake_quantize<double>(s); }});
  };
  QuantizerSpec s{QuantMethod::apot_rcf, 4, true};
  s.narrow_range = true;
  spec_row("narrow_range on APoT", s, {"narrow_range", "signed uniform"});
  s = {QuantMethod::uniform, 4, true};
  s.init = AlphaInit::max_abs;
  spec_row("init on observer-driven uniform", s, {"init", "apot_rcf and uniform_lsq only"});
  s = {QuantMethod::uniform_lsq, 4, false};
  s.init = AlphaInit::fixed;
  spec_row("fixed init on LSQ", s, {"init=fixed", "step at 1"});
  s = {QuantMethod::apot_rcf, 4, false};
  s.init = AlphaInit::percentile;
  s.percentile = 0;
  spec_row("percentile 0", s, {"percentile must be in (0, 100]", "got 0"});
  s = {QuantMethod::uniform_lsq, 4, true};
  s.lsq_grad_scale = true;
  spec_row("lsq_grad_scale on LSQ", s, {"lsq_grad_scale and levels are apot_rcf options"});
  s = {QuantMethod::uniform_lsq, 4, true, /*per_channel=*/true};
  s.init = AlphaInit::lsq_clip_point;
  spec_row("init on per-channel LSQ", s, {"init is per tensor only"});
  s = {QuantMethod::uniform_lsq, 4, true};
  s.init = AlphaInit::lsq_clip_point;  // [-8, 7] is not a symmetric grid
  r.push_back({"LSQ step_init on [-8, 7]",
               raises<ValueError>("LearnableFakeQuantize", {"step_init", "[-8, 7]"}),
               [s] { make_fake_quantize<double>(s); }});
  r.push_back({"PercentileClipObserver percentile 0",
               raises<ValueError>("PercentileClipObserver", {"percentile", "got 0"}),
               [] { PercentileClipObserver<double> o(0.0); }});
  r.push_back({"MseClipObserver steps 0", raises<ValueError>("MseClipObserver", {"steps", "got 0"}),
               [] { MseClipObserver<double> o(uniform_levels(2, false), 0); }});
  r.push_back({"qat_param_groups clip_lr 0",
               raises<ValueError>("qat_param_groups", {"clip_lr", "got 0"}), [] {
                 auto model = make_mlp();
                 qat_param_groups<float>(*model, 0.0);
               }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_qat_recipe
