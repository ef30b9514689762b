// The QAT workflow: QConfig, qat::Linear / qat::Conv2d, prepare_qat,
// calibrate / freeze, convert to quantized layers, checkpoints at every stage,
// and the typed errors that leave a model unchanged.
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>

#include "test_util.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/fusion.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/quant/quantized/conv2d.hpp"
#include "xgrad/quant/quantized/linear.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"

BOOST_AUTO_TEST_SUITE(test_qat)

namespace nn = xgrad::nn;
namespace quant = xgrad::quant;
using xgrad::Module;
using xgrad::Tensor;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;
using xgrad_test::names_of;

namespace {

using QConfig = quant::QConfig<float>;

// A user module around a nested Sequential: forward goes through the
// registered children (by name), so swapped layers take effect.
struct Net : Module<float> {
  explicit Net(xgrad::Generator& gen) : Module<float>("Net") {
    register_module("body", std::make_shared<nn::Sequential<float>>(
                                std::initializer_list<std::shared_ptr<Module<float>>>{
                                    std::make_shared<nn::Linear<float>>(6, 8, true, gen),
                                    std::make_shared<nn::ReLU<float>>(),
                                    std::make_shared<nn::Linear<float>>(8, 8, true, gen),
                                    std::make_shared<nn::ReLU<float>>()}));
    register_module("head", std::make_shared<nn::Linear<float>>(8, 3, true, gen));
  }
  Tensor<float> forward(const Tensor<float>& x) override {
    Tensor<float> h = x;
    for (const auto& kv : named_children()) h = kv.second->forward(h);
    return h;
  }
};

std::shared_ptr<Net> make_net(std::uint64_t seed = 1) {
  xgrad::Generator gen(seed);
  return std::make_shared<Net>(gen);
}

// conv(1->4, 3x3, padding 1) - ReLU - conv(4->4, 3x3, stride 2) - ReLU - flatten - linear.
std::shared_ptr<nn::Sequential<float>> make_cnn(std::uint64_t seed = 2) {
  xgrad::Generator gen(seed);
  auto net = std::make_shared<nn::Sequential<float>>();
  net->push_back(std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 4, 3).padding(1), gen));
  net->push_back(std::make_shared<nn::ReLU<float>>());
  net->push_back(std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(4, 4, 3).stride(2), gen));
  net->push_back(std::make_shared<nn::ReLU<float>>());
  net->push_back(std::make_shared<nn::Flatten<float>>());
  net->push_back(std::make_shared<nn::Linear<float>>(16, 3, true, gen));
  return net;
}

// Every converted layer of `net` on its float-table path (forward_dequantized).
void dequantized_paths(Module<float>& net) {
  net.apply([](Module<float>& m) {
    if (auto* q = m.as<quant::quantized::QuantizedLayer<float>>()) q->enable_lut_kernel(false);
  });
}

// |N(0, 1)| values, non-negative as images or ReLU outputs: the APoT configs'
// unsigned input sets would clip negative ones (calibrate refuses those).
std::vector<Tensor<float>> batches(const xgrad::Shape& shape, int n, std::uint64_t seed) {
  xgrad::Generator gen(seed);
  std::vector<Tensor<float>> out;
  for (int i = 0; i < n; ++i) out.push_back(xgrad::abs(xgrad::randn<float>(shape, gen)));
  return out;
}

// "body.0" -> its type name.
std::map<std::string, std::string> types_of(Module<float>& m) {
  std::map<std::string, std::string> out;
  for (const auto& kv : m.named_modules("", false)) out[kv.first] = kv.second->type_name();
  return out;
}

// One Adam step on a cross-entropy loss (and the RCF alpha clamp).
void train_step(Module<float>& model, xgrad::optim::Adam<float>& opt, const Tensor<float>& x) {
  xt::xarray<std::int64_t> labels = xt::zeros<std::int64_t>({x.shape()[0]});
  for (std::size_t i = 0; i < labels.size(); ++i) labels(i) = std::int64_t(i % 3);
  opt.zero_grad();
  xgrad::cross_entropy(model.forward(x), labels).backward();
  opt.step();
  quant::clamp_alpha_(model);
}

struct NamedConfig {
  const char* name;
  QConfig config;
};

// The paper's method with one weight alpha per output channel.
QConfig apot_rcf_per_channel_qconfig(int bits) {
  quant::QuantizerSpec w{quant::QuantMethod::apot_rcf, bits, true, /*per_channel=*/true};
  w.init = quant::AlphaInit::lsq_clip_point;  // each row its own start
  return quant::make_qconfig<float>(w, quant::QuantizerSpec{quant::QuantMethod::apot_rcf, bits},
                                    quant::WeightNorm::standardize_rescale);
}

// The four ready-made families at 4 bits (uniform at 8 and per channel too).
std::vector<NamedConfig> all_configs() {
  return {{"apot_fixed", quant::apot_fixed_qconfig<float>(4)},
          {"apot_rcf", quant::apot_rcf_qconfig<float>(4)},
          {"uniform", quant::uniform_qconfig<float>(8)},
          {"uniform_per_channel", quant::uniform_qconfig<float>(4, true)},
          {"uniform_lsq", quant::uniform_lsq_qconfig<float>(4)},
          {"uniform_lsq_per_channel", quant::uniform_lsq_qconfig<float>(4, true)},
          {"apot_rcf_per_channel", apot_rcf_per_channel_qconfig(4)}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(qconfig)

BOOST_AUTO_TEST_CASE(ready_made_configs_build_the_named_quantizers) {
  const auto rcf = quant::apot_rcf_qconfig<float>(3);
  auto w = rcf.weight({4, 4});
  auto a = rcf.activation();
  BOOST_REQUIRE(w->as<quant::RCFFakeQuantize<float>>());
  BOOST_TEST(w->as<quant::RCFFakeQuantize<float>>()->is_signed());
  BOOST_TEST(w->as<quant::RCFFakeQuantize<float>>()->alpha().item() == 3.0f);  // the paper's
  BOOST_TEST(!a->as<quant::RCFFakeQuantize<float>>()->is_signed());
  BOOST_TEST((rcf.weight_norm == quant::WeightNorm::standardize_rescale));
  BOOST_TEST(rcf.name ==
             "weight=apot_rcf(b=3,signed) input=apot_rcf(b=3,unsigned) "
             "norm=standardize_rescale");
  BOOST_TEST(
      quant::apot_fixed_qconfig<float>(4).weight({2, 2})->as<quant::APoTFakeQuantize<float>>());
  BOOST_TEST(quant::uniform_qconfig<float>(8).activation()->as<quant::FakeQuantize<float>>());
  BOOST_TEST(quant::uniform_lsq_qconfig<float>(4)
                 .weight({2, 2})
                 ->as<quant::LearnableFakeQuantize<float>>());
}

BOOST_AUTO_TEST_CASE(a_per_channel_lsq_weight_quantizer_gets_the_channel_count) {
  auto w = quant::uniform_lsq_qconfig<float>(4, true).weight({5, 3});
  auto* lsq = w->as<quant::LearnableFakeQuantize<float>>();
  BOOST_REQUIRE(lsq);
  BOOST_TEST(lsq->is_per_channel());
  BOOST_TEST(lsq->scale().numel() == 5u);
}

BOOST_AUTO_TEST_CASE(a_per_channel_rcf_weight_quantizer_gets_an_alpha_per_channel) {
  const QConfig c = apot_rcf_per_channel_qconfig(2);
  BOOST_TEST(
      xgrad_test::contains(c.name, "apot_rcf(b=2,signed,per_channel@0,init=lsq_clip_point)"));
  auto w = c.weight({5, 3});
  auto* rcf = w->as<quant::RCFFakeQuantize<float>>();
  BOOST_REQUIRE(rcf);
  BOOST_TEST(rcf->is_per_channel());
  BOOST_TEST(rcf->alpha().numel() == 5u);
}

BOOST_AUTO_TEST_CASE(configs_of_different_settings_have_different_names) {
  std::vector<std::string> names;
  for (const auto& c : all_configs()) names.push_back(c.config.name);
  names.push_back(quant::apot_rcf_qconfig<float>(4, false).name);
  names.push_back(quant::apot_rcf_qconfig<float>(3).name);
  std::sort(names.begin(), names.end());
  BOOST_TEST((std::adjacent_find(names.begin(), names.end()) == names.end()));
}

BOOST_AUTO_TEST_CASE(bits_and_schemes_that_do_not_fit_are_value_errors_at_creation) {
  using quant::QuantizerSpec;
  using quant::QuantMethod;
  struct Bad {
    QuantizerSpec spec;
    const char* why;
  };
  const std::vector<Bad> bad = {
      {{QuantMethod::apot_fixed, 3, false}, "APoT unsigned needs k = 2 | b"},
      {{QuantMethod::apot_rcf, 1, true}, "sign-magnitude needs b >= 2"},
      {{QuantMethod::uniform, 9, false}, "uniform above 8 bits"},
      {{QuantMethod::uniform_lsq, 1, true}, "uniform below 2 bits"},
      {{QuantMethod::apot_fixed, 4, true, true}, "per-channel fixed APoT"},
      {{QuantMethod::uniform, 4, true, true, -1}, "negative ch_axis"},
  };
  for (const auto& b : bad) {
    BOOST_TEST_CONTEXT(b.why) {
      BOOST_CHECK_THROW(quant::make_qconfig<float>(b.spec, std::nullopt), xgrad::ValueError);
    }
  }
  BOOST_CHECK_THROW(quant::make_qconfig<float>({QuantMethod::uniform, 8, true}, std::nullopt,
                                               quant::WeightNorm::standardize, 0.0),
                    xgrad::ValueError);
}

BOOST_AUTO_TEST_CASE(per_channel_lsq_on_an_axis_the_weight_lacks_is_a_shape_error) {
  const auto c =
      quant::make_qconfig<float>({quant::QuantMethod::uniform_lsq, 4, true, true, 2}, std::nullopt);
  BOOST_CHECK_THROW(c.weight({4, 3}), xgrad::ShapeError);
}

BOOST_AUTO_TEST_CASE(qconfig_names_round_trip_through_character_codes) {
  const std::string name = "weight=uniform(b=8,signed) input=x";
  BOOST_TEST(quant::decode_qconfig_name(quant::encode_qconfig_name<float>(name)) == name);
  BOOST_CHECK_THROW(quant::decode_qconfig_name(xt::xarray<float>({65.5f})), xgrad::ValueError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(qat_layers)

BOOST_AUTO_TEST_CASE(from_float_trains_the_float_layers_own_tensors) {
  xgrad::Generator gen(3);
  nn::Linear<float> fc(4, 2, true, gen);
  auto q = quant::qat::Linear<float>::from_float(fc, quant::apot_rcf_qconfig<float>(4));
  BOOST_TEST(q->weight.storage() == fc.weight.storage());
  BOOST_TEST(q->bias.storage() == fc.bias.storage());
  const std::vector<std::string> keys = {"weight",
                                         "bias",
                                         "qconfig",
                                         "weight_fake_quant.alpha",
                                         "weight_fake_quant.fake_quant_enabled",
                                         "weight_fake_quant.observer_enabled",
                                         "weight_fake_quant.levels",
                                         "input_fake_quant.alpha",
                                         "input_fake_quant.fake_quant_enabled",
                                         "input_fake_quant.observer_enabled",
                                         "input_fake_quant.levels",
                                         "input_fake_quant.activation_post_process.max_abs"};
  BOOST_TEST(names_of(q->state_dict()) == keys, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(rcf_forward_is_the_papers_composition) {
  xgrad::Generator gen(4);
  nn::Linear<float> fc(5, 3, true, gen);
  auto q = quant::qat::Linear<float>::from_float(fc, quant::apot_rcf_qconfig<float>(4));
  quant::disable_observer(*q);
  auto* wq = q->weight_fake_quant->as<quant::RCFFakeQuantize<float>>();
  auto* aq = q->input_fake_quant->as<quant::RCFFakeQuantize<float>>();
  {
    xgrad::NoGradGuard no_grad;
    aq->alpha().fill_(1.5f);
  }
  const auto x = xgrad::randn<float>({2, 5}, gen);
  // linear(RCF(x), RCF(standardize(W)) * std(W), b), from the quantizer ops.
  const auto xq = quant::rcf_fake_quantize(x, aq->alpha(), aq->levels());
  const auto w = quant::rescale_by_weight_std(
      quant::rcf_fake_quantize(quant::weight_standardize(fc.weight, 1e-5), wq->alpha(),
                               wq->levels()),
      fc.weight);
  BOOST_TEST(equal_arrays(q->forward(x).data(), xgrad::linear(xq, w, fc.bias).data()));
}

BOOST_AUTO_TEST_CASE(with_fake_quant_off_a_qat_layer_is_its_float_layer) {
  xgrad::Generator gen(5);
  nn::Linear<float> fc(5, 3, true, gen);
  auto q = quant::qat::Linear<float>::from_float(fc, quant::uniform_lsq_qconfig<float>(4));
  quant::disable_fake_quant(*q);
  quant::disable_observer(*q);
  const auto x = xgrad::randn<float>({4, 5}, gen);
  BOOST_TEST(equal_arrays(q->forward(x).data(), fc.forward(x).data()));
}

BOOST_AUTO_TEST_CASE(gradients_reach_weights_bias_and_the_clipping_parameters) {
  xgrad::Generator gen(6);
  nn::Linear<float> fc(5, 3, true, gen);
  auto q = quant::qat::Linear<float>::from_float(fc, quant::apot_rcf_qconfig<float>(4));
  quant::calibrate<float>(*q, {xgrad::abs(xgrad::randn<float>({8, 5}, gen))});
  quant::freeze(*q);
  xgrad::sum(q->forward(xgrad::randn<float>({8, 5}, gen))).backward();
  for (const auto& kv : q->named_parameters()) {
    BOOST_TEST_CONTEXT(kv.first) { BOOST_TEST(kv.second.grad().defined()); }
  }
  BOOST_TEST(q->named_parameters().size() == 4u);  // weight, bias, two alphas
}

BOOST_AUTO_TEST_CASE(to_float_copies_the_weights_into_an_independent_layer) {
  xgrad::Generator gen(7);
  nn::Conv2d<float> conv(nn::Conv2dOptions(2, 3, 3).stride(2).padding(1), gen);
  auto q = quant::qat::Conv2d<float>::from_float(conv, quant::uniform_qconfig<float>(8));
  auto back = q->to_float();
  BOOST_TEST(equal_arrays(back->weight.data(), conv.weight.data()));
  BOOST_TEST(equal_arrays(back->bias.data(), conv.bias.data()));
  BOOST_TEST(back->weight.storage() != conv.weight.storage());
  BOOST_TEST((back->options().stride() == xgrad::Size2(2)));
  const auto x = xgrad::randn<float>({1, 2, 5, 5}, gen);
  BOOST_TEST(equal_arrays(back->forward(x).data(), conv.forward(x).data()));
}

BOOST_AUTO_TEST_CASE(a_config_without_weight_factory_or_a_null_factory_is_refused) {
  xgrad::Generator gen(8);
  nn::Linear<float> fc(2, 2, true, gen);
  BOOST_CHECK_THROW(quant::qat::Linear<float>::from_float(fc, quant::float_qconfig<float>()),
                    xgrad::ValueError);
  QConfig null_factory = quant::uniform_qconfig<float>(8);
  null_factory.activation = [] { return std::shared_ptr<quant::FakeQuantizeBase<float>>(); };
  BOOST_CHECK_EXCEPTION(quant::qat::Linear<float>::from_float(fc, null_factory), xgrad::ValueError,
                        mentions<xgrad::ValueError>("returned null"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(prepare)

BOOST_AUTO_TEST_CASE(every_linear_of_a_nested_model_is_swapped_with_overrides_by_name) {
  auto net = make_net();
  const auto body0_weight = net->named_parameters()[0].second;
  std::map<std::string, QConfig> overrides = {{"body.0", quant::uniform_qconfig<float>(8)},
                                              {"head", quant::float_qconfig<float>()}};
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4), overrides);
  const std::map<std::string, std::string> want = {
      {"body", "Sequential"},
      {"body.0", "qat::Linear"},
      {"body.0.weight_fake_quant", "FakeQuantize"},
      {"body.0.weight_fake_quant.activation_post_process", "MinMaxObserver"},
      {"body.0.input_fake_quant", "FakeQuantize"},
      {"body.0.input_fake_quant.activation_post_process", "MinMaxObserver"},
      {"body.1", "ReLU"},
      {"body.2", "qat::Linear"},
      {"body.2.weight_fake_quant", "RCFFakeQuantize"},
      {"body.2.input_fake_quant", "RCFFakeQuantize"},
      {"body.2.input_fake_quant.activation_post_process", "MaxAbsObserver"},
      {"body.3", "ReLU"},
      {"head", "Linear"}};
  BOOST_TEST(types_of(*net) == want);
  // The float weights are kept: same tensors.
  BOOST_TEST(net->named_parameters()[0].second.storage() == body0_weight.storage());
  auto* fc0 = net->named_modules("", false)[1].second->as<quant::qat::Linear<float>>();
  BOOST_REQUIRE(fc0);
  BOOST_TEST(fc0->qconfig().name == quant::uniform_qconfig<float>(8).name);
}

// apot_rcf_qconfig's std rescale is advised against before a BatchNorm (it
// normalizes the scale anyway): prepare_qat drops it where the next module of
// a Sequential is one, and nowhere else.
BOOST_AUTO_TEST_CASE(a_layer_before_a_batch_norm_gets_the_config_without_rescale) {
  auto cnn = std::make_shared<nn::Sequential<float>>(
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 2, 3)),
      std::make_shared<nn::BatchNorm2d<float>>(2), std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(2, 2, 3)),
      std::make_shared<nn::BatchNorm2d<float>>(2), std::make_shared<nn::Flatten<float>>(),
      std::make_shared<nn::Linear<float>>(2, 3));
  quant::prepare_qat<float>(*cnn, quant::apot_rcf_qconfig<float>(4),
                            {{"3", quant::apot_rcf_qconfig<float>(4)}});  // as given
  const auto config_of = [&cnn](std::size_t i) {
    return (*cnn)[i]->as<quant::qat::FakeQuantizedLayer<float>>()->qconfig();
  };
  const QConfig without = quant::apot_rcf_qconfig<float>(4, /*rescale=*/false);
  BOOST_TEST((config_of(0).weight_norm == quant::WeightNorm::standardize));
  BOOST_TEST(config_of(0).name == without.name);  // checkpoints of either load into the other
  BOOST_TEST((config_of(3).weight_norm == quant::WeightNorm::standardize_rescale));
  BOOST_TEST((config_of(6).weight_norm == quant::WeightNorm::standardize_rescale));
  // Nothing else changes: a uniform config has no rescale to drop.
  auto plain = std::make_shared<nn::Sequential<float>>(std::make_shared<nn::Linear<float>>(2, 2),
                                                       std::make_shared<nn::BatchNorm1d<float>>(2));
  quant::prepare_qat<float>(*plain, quant::uniform_qconfig<float>(8));
  BOOST_TEST((*plain)[0]->as<quant::qat::FakeQuantizedLayer<float>>()->qconfig().name ==
             quant::uniform_qconfig<float>(8).name);
}

BOOST_AUTO_TEST_CASE(convolutions_are_swapped_too) {
  auto cnn = make_cnn();
  quant::prepare_qat<float>(*cnn, quant::apot_rcf_qconfig<float>(4));
  BOOST_TEST((*cnn)[0]->type_name() == "qat::Conv2d");
  BOOST_TEST((*cnn)[2]->type_name() == "qat::Conv2d");
  BOOST_TEST((*cnn)[5]->type_name() == "qat::Linear");
  const auto y = cnn->forward(xgrad::randn<float>({2, 1, 5, 5}));
  BOOST_TEST(y.shape() == xgrad::Shape({2, 3}));
}

BOOST_AUTO_TEST_CASE(a_layer_shared_by_two_parents_becomes_one_qat_layer) {
  auto shared = std::make_shared<nn::Linear<float>>(3, 3);
  Module<float> root;
  auto a = root.register_module("a", std::make_shared<nn::Sequential<float>>());
  auto b = root.register_module("b", std::make_shared<nn::Sequential<float>>());
  a->push_back(shared);
  b->push_back(shared);
  quant::prepare_qat<float>(root, quant::uniform_qconfig<float>(8));
  BOOST_TEST((*a)[0]->type_name() == "qat::Linear");
  BOOST_TEST((*a)[0].get() == (*b)[0].get());
}

BOOST_AUTO_TEST_CASE(bad_calls_are_value_errors_and_change_nothing) {
  auto net = make_net();
  const auto before = types_of(*net);
  const auto state = net->state_dict();
  BOOST_CHECK_EXCEPTION(quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4),
                                                  {{"body.7", quant::uniform_qconfig<float>(8)}}),
                        xgrad::ValueError, mentions<xgrad::ValueError>("\"body.7\""));
  BOOST_CHECK_EXCEPTION(quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4),
                                                  {{"body.1", quant::uniform_qconfig<float>(8)}}),
                        xgrad::ValueError, mentions<xgrad::ValueError>("ReLU"));
  QConfig failing = quant::uniform_qconfig<float>(8);  // fails on the last layer only
  int built = 0;
  failing.weight = [&built](const xgrad::Shape& s) {
    if (++built == 3) throw xgrad::ValueError("factory: no");
    return quant::make_fake_quantize<float>({quant::QuantMethod::uniform, 8, true}, s);
  };
  BOOST_CHECK_THROW(quant::prepare_qat<float>(*net, failing), xgrad::ValueError);
  BOOST_TEST(types_of(*net) == before);
  BOOST_TEST(xgrad_test::same_state(net->state_dict(), state));

  nn::Linear<float> alone(2, 2);
  BOOST_CHECK_THROW(quant::prepare_qat<float>(alone, quant::uniform_qconfig<float>(8)),
                    xgrad::ValueError);
  nn::Sequential<float> nothing{std::make_shared<nn::ReLU<float>>()};
  BOOST_CHECK_EXCEPTION(quant::prepare_qat<float>(nothing, quant::uniform_qconfig<float>(8)),
                        xgrad::ValueError, mentions<xgrad::ValueError>("to swap"));
}

BOOST_AUTO_TEST_CASE(preparing_twice_is_a_value_error) {
  auto net = make_net();
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
  BOOST_CHECK_THROW(quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4)),
                    xgrad::ValueError);
}

BOOST_AUTO_TEST_CASE(a_float_checkpoint_loads_before_or_after_prepare) {
  auto trained = make_net(11);
  const auto float_dict = trained->state_dict();
  // Before: load into the float model, then prepare.
  auto before = make_net(12);
  before->load_state_dict(float_dict);
  quant::prepare_qat<float>(*before, quant::apot_rcf_qconfig<float>(4));
  // After: prepare, then a non-strict load fills weights and biases only.
  auto after = make_net(13);
  quant::prepare_qat<float>(*after, quant::apot_rcf_qconfig<float>(4));
  BOOST_CHECK_THROW(after->load_state_dict(float_dict), xgrad::ValueError);  // strict: missing keys
  after->load_state_dict(float_dict, /*strict=*/false);
  BOOST_TEST(xgrad_test::same_state(before->state_dict(), after->state_dict()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(workflow)

BOOST_AUTO_TEST_CASE(calibrate_turns_observers_on_and_fake_quant_off_freeze_the_reverse) {
  auto net = make_net();
  quant::prepare_qat<float>(*net, quant::uniform_qconfig<float>(8));
  quant::calibrate(*net, batches({4, 6}, 2, 1));
  int quantizers = 0;
  net->apply([&quantizers](Module<float>& m) {
    if (auto* fq = m.as<quant::FakeQuantizeBase<float>>()) {
      ++quantizers;
      BOOST_TEST(fq->observer_enabled());
      BOOST_TEST(!fq->fake_quant_enabled());
      BOOST_TEST(fq->as<quant::FakeQuantize<float>>()->has_qparams());
    }
  });
  BOOST_TEST(quantizers == 6);
  quant::freeze(*net);
  net->apply([](Module<float>& m) {
    if (auto* fq = m.as<quant::FakeQuantizeBase<float>>()) {
      BOOST_TEST(!fq->observer_enabled());
      BOOST_TEST(fq->fake_quant_enabled());
    }
  });
}

BOOST_AUTO_TEST_CASE(with_fake_quant_off_rcf_layers_use_the_standardized_rescaled_weight) {
  // The paper's normalization drops the weight mean: (W - mean) / (std + eps)
  // * std, so even unquantized a prepared layer is not its float layer.
  xgrad::Generator gen(22);
  nn::Linear<float> fc(6, 4, true, gen);
  auto q = quant::qat::Linear<float>::from_float(fc, quant::apot_rcf_qconfig<float>(4));
  const auto x = xgrad::abs(xgrad::randn<float>({3, 6}, gen));
  quant::calibrate<float>(*q, {x});
  const auto w =
      quant::rescale_by_weight_std(quant::weight_standardize(fc.weight, 1e-5), fc.weight);
  BOOST_TEST(equal_arrays(q->forward(x).data(), xgrad::linear(x, w, fc.bias).data()));
}

BOOST_AUTO_TEST_CASE(toggles_compose_and_are_saved_in_the_state_dict) {
  auto net = make_net();
  quant::prepare_qat<float>(*net, quant::uniform_qconfig<float>(8));
  quant::calibrate(*net, batches({4, 6}, 1, 3));
  quant::freeze(*net);
  auto* fc = net->named_modules("", false)[1].second->as<quant::qat::Linear<float>>();
  fc->input_fake_quant->disable_fake_quant();  // one quantizer off, the rest untouched
  fc->weight_fake_quant->enable_observer();
  auto copy = make_net(99);
  quant::prepare_qat<float>(*copy, quant::uniform_qconfig<float>(8));
  copy->load_state_dict(net->state_dict());
  auto* fc_copy = copy->named_modules("", false)[1].second->as<quant::qat::Linear<float>>();
  BOOST_TEST(!fc_copy->input_fake_quant->fake_quant_enabled());
  BOOST_TEST(fc_copy->weight_fake_quant->observer_enabled());
  BOOST_TEST(fc_copy->weight_fake_quant->fake_quant_enabled());
  const auto x = batches({4, 6}, 1, 4)[0];
  fc->weight_fake_quant->disable_observer();
  fc_copy->weight_fake_quant->disable_observer();
  BOOST_TEST(equal_arrays(net->forward(x).data(), copy->forward(x).data()));
}

BOOST_AUTO_TEST_CASE(clamp_alpha_keeps_every_rcf_alpha_positive) {
  auto net = make_net();
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
  {
    xgrad::NoGradGuard no_grad;
    for (auto& p : net->parameters()) {
      if (p.numel() == 1) p.fill_(-2.0f);  // the alphas
    }
  }
  quant::clamp_alpha_(*net);
  int alphas = 0;
  net->apply([&alphas](Module<float>& m) {
    if (auto* rcf = m.as<quant::RCFFakeQuantize<float>>()) {
      ++alphas;
      BOOST_TEST(rcf->alpha().item() == rcf->options().min_alpha);
    }
  });
  BOOST_TEST(alphas == 6);
}

BOOST_AUTO_TEST_CASE(a_qat_checkpoint_round_trips_through_a_file) {
  xgrad_test::TempDir dir;
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(c.name) {
      auto net = make_net(31);
      quant::prepare_qat<float>(*net, c.config);
      const auto data = batches({8, 6}, 2, 5);
      quant::calibrate(*net, data);
      quant::freeze(*net);
      xgrad::optim::Adam<float> opt(net->parameters(), xgrad::optim::AdamOptions(1e-2));
      train_step(*net, opt, data[1]);
      xgrad::save(*net, dir / "qat.npz");

      auto loaded = make_net(32);
      quant::prepare_qat<float>(*loaded, c.config);
      xgrad::load(*loaded, dir / "qat.npz");
      BOOST_TEST(xgrad_test::same_state(loaded->state_dict(), net->state_dict()));
      BOOST_TEST(equal_arrays(loaded->forward(data[0]).data(), net->forward(data[0]).data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_checkpoint_of_another_config_is_refused_and_nothing_changes) {
  auto saved = make_net(41);
  quant::prepare_qat<float>(*saved, quant::apot_rcf_qconfig<float>(4, /*rescale=*/false));
  auto target = make_net(42);
  quant::prepare_qat<float>(*target, quant::apot_rcf_qconfig<float>(4));  // same keys and shapes
  const auto before = target->state_dict();
  BOOST_CHECK_EXCEPTION(target->load_state_dict(saved->state_dict()), xgrad::ValueError,
                        mentions<xgrad::ValueError>("norm=standardize\""));
  BOOST_TEST(xgrad_test::same_state(target->state_dict(), before));
  // Other keys (uniform observers vs RCF alphas): refused as well.
  auto other = make_net(43);
  quant::prepare_qat<float>(*other, quant::uniform_qconfig<float>(8));
  BOOST_CHECK_THROW(target->load_state_dict(other->state_dict()), xgrad::ValueError);
  BOOST_TEST(xgrad_test::same_state(target->state_dict(), before));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(convert)

BOOST_AUTO_TEST_CASE(converted_outputs_equal_the_qat_eval_outputs_bit_for_bit) {
  for (const auto& c : all_configs()) {
    BOOST_TEST_CONTEXT(c.name) {
      auto net = make_net(51);
      quant::prepare_qat<float>(*net, c.config, {{"head", quant::uniform_qconfig<float>(8)}});
      const auto data = batches({8, 6}, 3, 6);
      quant::calibrate(*net, data);
      quant::freeze(*net);
      xgrad::optim::Adam<float> opt(net->parameters(), xgrad::optim::AdamOptions(1e-2));
      train_step(*net, opt, data[1]);
      net->eval();
      const auto want = net->forward(data[2]).data();
      quant::convert(*net);
      const auto types = types_of(*net);
      BOOST_TEST(types.at("body.0") == "quantized::Linear");
      BOOST_TEST(types.at("head") == "quantized::Linear");
      for (const auto& kv : net->named_parameters())  // only input clipping parameters remain
        BOOST_TEST(xgrad_test::contains(kv.first, "input_fake_quant."));
      // The float-table path (the lookup-table kernels sum in another order:
      // test_converted_layers bounds them).
      dequantized_paths(*net);
      BOOST_TEST(equal_arrays(net->forward(data[2]).data(), want));
    }
  }
}

BOOST_AUTO_TEST_CASE(double_models_convert_with_equal_outputs_too) {
  xgrad::Generator gen(59);
  nn::Sequential<double> net{std::make_shared<nn::Linear<double>>(6, 8, true, gen),
                             std::make_shared<nn::ReLU<double>>(),
                             std::make_shared<nn::Linear<double>>(8, 3, true, gen)};
  quant::prepare_qat<double>(net, quant::apot_rcf_qconfig<double>(4),
                             {{"2", quant::uniform_lsq_qconfig<double>(8)}});
  const auto x = xgrad::abs(xgrad::randn<double>({5, 6}, gen));
  quant::calibrate<double>(net, {x});
  quant::freeze(net);
  const auto want = net.forward(x).data();
  quant::convert(net);
  BOOST_TEST(net[0]->type_name() == "quantized::Linear");
  BOOST_TEST(equal_arrays(net.forward(x).data(), want));
}

BOOST_AUTO_TEST_CASE(a_per_tensor_b_bit_weight_has_at_most_2_to_the_b_levels) {
  auto net = make_net(52);
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(3));
  quant::calibrate(*net, batches({4, 6}, 1, 9));
  quant::freeze(*net);
  quant::convert(*net);
  net->apply([](Module<float>& m) {
    if (auto* q = m.as<quant::quantized::QuantizedLayer<float>>()) {
      // sign-magnitude: 2^3 - 1 values, one table of 2^3 entries, 3-bit codes
      BOOST_TEST(q->code_bits() == 3);
      BOOST_TEST((q->weight_levels().shape() == std::vector<std::size_t>{1, 8}));
      const auto codes = q->weight_codes();
      BOOST_TEST(*std::max_element(codes.begin(), codes.end()) < 7);
      xt::xarray<float> lookup = xt::xarray<float>::from_shape(codes.shape());
      for (std::size_t i = 0; i < codes.size(); ++i)
        lookup.data()[i] = q->weight_levels().data()[std::size_t(codes.data()[i])];
      BOOST_TEST(equal_arrays(lookup, q->dequantized_weight().data()));
    }
  });
}

BOOST_AUTO_TEST_CASE(a_per_channel_rcf_weight_converts_to_a_table_per_row_at_its_bits) {
  auto net = make_net(55);
  quant::prepare_qat<float>(*net, apot_rcf_per_channel_qconfig(2));
  const auto data = batches({4, 6}, 2, 9);
  quant::calibrate(*net, data);
  quant::freeze(*net);
  xgrad::optim::Adam<float> opt(net->parameters(), xgrad::optim::AdamOptions(1e-2));
  train_step(*net, opt, data[0]);
  net->eval();
  const auto want = net->forward(data[1]).data();
  quant::convert(*net);
  std::size_t layers = 0;
  net->apply([&layers](Module<float>& m) {
    if (auto* q = m.as<quant::quantized::QuantizedLayer<float>>()) {
      ++layers;
      // ternary rows, each times its own alpha: 2-bit codes, a table per row
      BOOST_TEST(q->code_bits() == 2);
      BOOST_TEST(q->weight_levels().shape()[0] == q->weight_shape()[0]);
    }
  });
  BOOST_TEST(layers == 3u);
  dequantized_paths(*net);
  BOOST_TEST(equal_arrays(net->forward(data[1]).data(), want));
}

BOOST_AUTO_TEST_CASE(a_cnn_converts_with_equal_outputs) {
  auto cnn = make_cnn(53);
  quant::prepare_qat<float>(*cnn, quant::apot_rcf_qconfig<float>(4));
  const auto data = batches({2, 1, 5, 5}, 2, 7);
  quant::calibrate(*cnn, data);
  quant::freeze(*cnn);
  cnn->eval();
  const auto want = cnn->forward(data[1]).data();
  quant::convert(*cnn);
  BOOST_TEST((*cnn)[2]->type_name() == "quantized::Conv2d");
  dequantized_paths(*cnn);
  BOOST_TEST(equal_arrays(cnn->forward(data[1]).data(), want));
}

BOOST_AUTO_TEST_CASE(a_converted_checkpoint_loads_into_an_empty_converted_model) {
  xgrad_test::TempDir dir;
  auto cnn = make_cnn(54);
  quant::prepare_qat<float>(*cnn, quant::uniform_qconfig<float>(8));
  const auto data = batches({2, 1, 5, 5}, 2, 8);
  quant::calibrate(*cnn, data);
  quant::freeze(*cnn);
  quant::convert(*cnn);
  xgrad::save(*cnn, dir / "int.npz");

  auto fresh = make_cnn(55);
  quant::prepare_qat<float>(*fresh, quant::uniform_qconfig<float>(8));
  BOOST_CHECK_THROW(quant::convert(*fresh), xgrad::StateError);  // uncalibrated
  quant::convert(*fresh, quant::ConvertMode::empty);
  xgrad::load(*fresh, dir / "int.npz");
  BOOST_TEST(xgrad_test::same_state(fresh->state_dict(), cnn->state_dict()));
  BOOST_TEST(equal_arrays(fresh->forward(data[0]).data(), cnn->forward(data[0]).data()));
}

BOOST_AUTO_TEST_CASE(a_converted_model_has_nothing_left_to_train) {
  // The input quantizers' clipping values stay parameters (checkpoint keys),
  // frozen: a converted model is for inference, converted either way.
  auto net = make_net(57);
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
  quant::calibrate(*net, batches({8, 6}, 2, 7));
  quant::freeze(*net);
  quant::convert(*net);
  auto fresh = make_net(58);
  quant::prepare_qat<float>(*fresh, quant::apot_rcf_qconfig<float>(4));
  quant::convert(*fresh, quant::ConvertMode::empty);
  for (const auto* model : {net.get(), fresh.get()}) {
    BOOST_TEST(!model->named_parameters().empty());
    for (const auto& kv : model->named_parameters()) {
      BOOST_TEST_CONTEXT(kv.first) { BOOST_TEST(!kv.second.requires_grad()); }
    }
  }
}

BOOST_AUTO_TEST_CASE(converting_an_unprepared_or_uncalibrated_model_is_a_state_error) {
  auto net = make_net(56);
  BOOST_CHECK_EXCEPTION(quant::convert(*net), xgrad::StateError,
                        mentions<xgrad::StateError>("prepare_qat"));
  for (const auto& c : {quant::apot_fixed_qconfig<float>(4), quant::uniform_qconfig<float>(8),
                        quant::uniform_qconfig<float>(8, true)}) {
    BOOST_TEST_CONTEXT(c.name) {
      quant::prepare_qat<float>(*(net = make_net(56)), c);
      const auto types = types_of(*net);
      const auto state = net->state_dict();
      BOOST_CHECK_EXCEPTION(quant::convert(*net), xgrad::StateError,
                            mentions<xgrad::StateError>("body.0"));
      BOOST_TEST(types_of(*net) == types);
      BOOST_TEST(xgrad_test::same_state(net->state_dict(), state));  // flags included
    }
  }
}

BOOST_AUTO_TEST_CASE(a_weight_quantizer_with_fake_quant_off_cannot_be_converted) {
  auto net = make_net(57);
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
  quant::disable_fake_quant(*net);
  BOOST_CHECK_EXCEPTION(quant::convert(*net), xgrad::StateError,
                        mentions<xgrad::StateError>("fake quant disabled"));
}

BOOST_AUTO_TEST_CASE(a_corrupt_converted_checkpoint_is_refused_and_nothing_changes) {
  auto net = make_net(58);
  quant::prepare_qat<float>(*net, quant::apot_rcf_qconfig<float>(4));
  quant::calibrate(*net, batches({4, 6}, 1, 10));
  quant::freeze(*net);
  quant::convert(*net);
  const auto good = net->state_dict();
  auto bad_code = good;
  BOOST_REQUIRE(bad_code[0].first == "body.0.weight_packed");
  bad_code[0].second(0) = 1000.0f;
  BOOST_CHECK_EXCEPTION(net->load_state_dict(bad_code), xgrad::ValueError,
                        mentions<xgrad::ValueError>("\"body.0.weight_packed\"[0] = 1000"));
  auto bad_levels = good;
  BOOST_REQUIRE(bad_levels[1].first == "body.0.weight_table");
  bad_levels[1].second.data()[0] = std::numeric_limits<float>::quiet_NaN();
  BOOST_CHECK_THROW(net->load_state_dict(bad_levels), xgrad::ValueError);
  BOOST_TEST(xgrad_test::same_state(net->state_dict(), good));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fuse_conv_bn)

template <class T>
void check_fused_equals_conv_then_bn() {
  xgrad::Generator gen(61);
  nn::Conv2d<T> conv(nn::Conv2dOptions(3, 4, 3).padding(1).stride(2), gen);
  nn::BatchNorm2d<T> bn(4);
  const xt::xarray<double> mean = {0.5, -1.0, 0.25, 2.0}, var = {0.25, 4.0, 1.5, 0.01},
                           gamma = {1.5, -0.5, 1.0, 0.2}, beta = {0.1, 0.0, -0.3, 1.0};
  {
    xgrad::NoGradGuard no_grad;
    bn.running_mean.mutable_data() = xt::cast<T>(mean);
    bn.running_var.mutable_data() = xt::cast<T>(var);
    bn.weight.mutable_data() = xt::cast<T>(gamma);
    bn.bias.mutable_data() = xt::cast<T>(beta);
  }
  bn.eval();
  const auto x = xgrad::randn<T>({2, 3, 6, 6}, gen);
  const xt::xarray<T> want = bn.forward(conv.forward(x)).data();
  auto fused = nn::fuse_conv_bn(conv, bn);
  const xt::xarray<T> got = fused->forward(x).data();
  // Per output of channel o, with s = gamma / sqrt(var + eps) and A = the sum
  // of |w| |x| over the 27 products plus |bias| (the conv on absolute
  // values): conv then bn is a 28-term sum (within gamma_28 A, test_util.hpp)
  // and then a few roundings of the affine step on values below
  // |s| (A + |mean|) + |beta|; the fused conv rounds each folded weight and
  // its bias once (relative u) and sums 28 terms again. Together they are
  // within (2 gamma_28 + 8 u) (|s| (A + |mean|) + |beta|).
  const auto abs_of = [](const xgrad::Tensor<T>& t) {
    return xgrad::Tensor<double>(xt::xarray<double>(xt::abs(xt::cast<double>(t.data()))));
  };
  const xt::xarray<double> a =
      xgrad::conv2d(abs_of(x), abs_of(conv.weight), abs_of(conv.bias), 2, 1).data();
  const double factor = 2 * xgrad_test::gamma_n<T>(28) + 8 * xgrad_test::unit_roundoff<T>();
  const std::size_t plane = a.shape()[2] * a.shape()[3];
  xt::xarray<double> bound = xt::xarray<double>::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t o = i / plane % 4;
    const double s = std::abs(gamma(o)) / std::sqrt(var(o) + bn.eps());
    bound.data()[i] = factor * (s * (a.data()[i] + std::abs(mean(o))) + std::abs(beta(o)));
  }
  BOOST_TEST(xgrad_test::close_within(got, want, bound));
}

BOOST_AUTO_TEST_CASE(fused_output_equals_conv_then_bn_within_rounding) {
  check_fused_equals_conv_then_bn<float>();
  check_fused_equals_conv_then_bn<double>();
}

BOOST_AUTO_TEST_CASE(a_conv_without_bias_gets_one) {
  xgrad::Generator gen(62);
  nn::Conv2d<float> conv(nn::Conv2dOptions(2, 2, 1).bias(false), gen);
  nn::BatchNorm2d<float> bn(2);
  bn.eval();
  auto fused = nn::fuse_conv_bn(conv, bn);
  BOOST_TEST(fused->bias.defined());
  BOOST_TEST(xgrad_test::close_arrays(fused->bias.data(), xt::xarray<float>({0.0f, 0.0f}), 0.0));
}

BOOST_AUTO_TEST_CASE(mismatched_or_statistics_free_batch_norms_are_refused) {
  nn::Conv2d<float> conv(nn::Conv2dOptions(2, 3, 1));
  BOOST_CHECK_THROW(nn::fuse_conv_bn(conv, nn::BatchNorm2d<float>(2)), xgrad::ShapeError);
  BOOST_CHECK_THROW(nn::fuse_conv_bn(conv, nn::BatchNorm2d<float>(3, 1e-5, 0.1, true, false)),
                    xgrad::ValueError);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  using namespace xgrad::quant;
  const D u;  // undefined

  using Seq = nn::Sequential<double>;
  using Mods = std::initializer_list<std::shared_ptr<Module<double>>>;
  const auto mlp = [] {
    return std::make_shared<Seq>(
        Mods{std::make_shared<nn::Linear<double>>(3, 2), std::make_shared<nn::ReLU<double>>()});
  };
  const auto u8 = uniform_qconfig<double>(8);
  auto plain = mlp();
  r.push_back({"prepare_qat: the model is a Linear itself",
               raises<ValueError>("prepare_qat", {"the model itself is a Linear"}), [u8] {
                 nn::Linear<double> fc(3, 2);
                 prepare_qat<double>(fc, u8);
               }});
  r.push_back({"prepare_qat: override of a name that does not exist",
               raises<ValueError>("prepare_qat", {"override \"2\" names no nn::Linear"}),
               [plain, u8] {
                 prepare_qat<double>(*plain, u8, {{"2", u8}});
               },
               {},
               {plain}});
  r.push_back({"prepare_qat: override naming a ReLU",
               raises<ValueError>("prepare_qat", {"override \"1\"", "(it is a ReLU)"}),
               [plain, u8] {
                 prepare_qat<double>(*plain, u8, {{"1", u8}});
               },
               {},
               {plain}});
  auto relus = std::make_shared<Seq>(Mods{std::make_shared<nn::ReLU<double>>()});
  r.push_back({"prepare_qat: nothing to swap",
               raises<ValueError>("prepare_qat", {"no nn::Linear or nn::Conv2d"}),
               [relus, u8] { prepare_qat<double>(*relus, u8); },
               {},
               {relus}});
  auto prepared = mlp();
  prepare_qat<double>(*prepared, u8);
  r.push_back({"prepare_qat: an already prepared model",
               raises<ValueError>("prepare_qat", {"already prepared"}),
               [prepared, u8] { prepare_qat<double>(*prepared, u8); },
               {},
               {prepared}});
  quant::QConfig<double> null_weight = u8;
  null_weight.weight = [](const Shape&) { return std::shared_ptr<FakeQuantizeBase<double>>(); };
  r.push_back({"prepare_qat: a weight factory returning null",
               raises<ValueError>("qat::Linear", {"weight factory returned null"}),
               [plain, null_weight] { prepare_qat<double>(*plain, null_weight); },
               {},
               {plain}});
  auto one_weight = std::make_shared<Seq>(Mods{std::make_shared<nn::Linear<double>>(1, 1)});
  r.push_back({"prepare_qat: weight normalization of a single weight",
               raises<ValueError>("qat::Linear", {"at least 2 weights", "got 1"}),
               [one_weight] { prepare_qat<double>(*one_weight, apot_rcf_qconfig<double>(4)); },
               {},
               {one_weight}});
  r.push_back({"calibrate: a batch of the wrong width",
               raises<ShapeError>("linear", {"input [2, 5], weight [2, 3]"}),
               [prepared] {
                 calibrate<double>(*prepared, {leaf({2, 3}), leaf({2, 5})});
               },
               {},
               {prepared}});
  r.push_back({"convert: a float model",
               raises<StateError>("convert", {"no QAT layer"}),
               [plain] { quant::convert<double>(*plain); },
               {},
               {plain}});
  r.push_back({"convert: before calibrate",
               raises<StateError>("convert", {"layer \"0\"", "calibrate first"}),
               [prepared] { quant::convert<double>(*prepared); },
               {},
               {prepared}});
  // Learnable quantizers hold usable numbers from the start, but not
  // calibrated ones: RCF's input alpha would stay at its initial 3.
  auto rcf = mlp();
  prepare_qat<double>(*rcf, apot_rcf_qconfig<double>(4));
  r.push_back({"convert: RCF before calibrate",
               raises<StateError>("convert", {"layer \"0\"", "input quantizer (RCFFakeQuantize)",
                                              "calibrate first"}),
               [rcf] { quant::convert<double>(*rcf); },
               {},
               {rcf}});
  auto lsq = mlp();
  prepare_qat<double>(*lsq, uniform_lsq_qconfig<double>(4));
  r.push_back(
      {"convert: LSQ before calibrate",
       raises<StateError>("convert", {"layer \"0\"", "(LearnableFakeQuantize)", "calibrate first"}),
       [lsq] { quant::convert<double>(*lsq); },
       {},
       {lsq}});
  auto unfrozen = mlp();
  prepare_qat<double>(*unfrozen, u8);
  calibrate<double>(*unfrozen, {leaf({2, 3}) * leaf({2, 3})});
  r.push_back({"convert: calibrated but not frozen",
               raises<StateError>("convert", {"fake quant disabled", "quant::freeze(model)"}),
               [unfrozen] { quant::convert<double>(*unfrozen); },
               {},
               {unfrozen}});
  // A normalized image has negative values; an unsigned input set clips them all.
  auto signed_input = mlp();
  prepare_qat<double>(*signed_input, apot_rcf_qconfig<double>(4));
  r.push_back({"calibrate: an unsigned RCF input set sees negative inputs",
               raises<ValueError>("calibrate", {"layer \"0\"", "inputs down to -1",
                                                "unsigned level set", "uniform_qconfig"}),
               [signed_input] {
                 calibrate<double>(*signed_input, {leaf({2, 3})});
               },
               {},
               {signed_input}});
  auto apot_input = mlp();
  prepare_qat<double>(*apot_input, apot_fixed_qconfig<double>(4));
  r.push_back({"calibrate: an unsigned APoT input set sees negative inputs",
               raises<ValueError>("calibrate", {"layer \"0\"", "inputs down to -1",
                                                "unsigned level set", "uniform_qconfig"}),
               [apot_input] {
                 calibrate<double>(*apot_input, {leaf({2, 3})});
               },
               {},
               {apot_input}});
  auto converted = mlp();
  prepare_qat<double>(*converted, u8);
  calibrate<double>(*converted, {leaf({2, 3}) * leaf({2, 3})});
  freeze(*converted);
  quant::convert<double>(*converted);
  r.push_back({"calibrate: a converted model",
               raises<StateError>("calibrate",
                                  {"layer \"0\" is already converted", "calibrate before convert"}),
               [converted] {
                 calibrate<double>(*converted, {leaf({2, 3})});
               },
               {},
               {converted}});
  r.push_back({"calibrate: a float model",
               raises<StateError>("calibrate", {"no fake quantizer", "prepare_qat first"}),
               [plain] {
                 calibrate<double>(*plain, {leaf({2, 3})});
               },
               {},
               {plain}});
  auto float_state = mlp()->state_dict();
  r.push_back({"load_state_dict: a float checkpoint into a prepared model",
               raises<ValueError>(
                   "Sequential::load_state_dict",
                   {"missing keys: ", "in all)", "load it before prepare_qat", "strict = false"}),
               [prepared, float_state] { prepared->load_state_dict(float_state); },
               {},
               {prepared}});

  r.push_back({"make_qconfig: uniform bits 9",
               raises<ValueError>("make_fake_quantize", {"uniform bits must be in [2, 8], got 9"}),
               [] {
                 make_qconfig<double>({QuantMethod::uniform, 9, true}, std::nullopt);
               }});
  r.push_back({"make_qconfig: per-channel fixed APoT",
               raises<ValueError>("make_fake_quantize", {"apot_fixed", "per_channel"}), [] {
                 make_qconfig<double>({QuantMethod::apot_fixed, 4, true, true}, std::nullopt);
               }});
  r.push_back({"make_qconfig: negative ch_axis",
               raises<ValueError>("make_fake_quantize", {"ch_axis must be >= 0, got -1"}), [] {
                 make_qconfig<double>({QuantMethod::uniform, 8, true, true, -1}, std::nullopt);
               }});
  r.push_back({"make_qconfig: eps 0", raises<ValueError>("make_qconfig", {"eps", "got 0"}), [] {
                 make_qconfig<double>({QuantMethod::uniform, 8, true}, std::nullopt,
                                      WeightNorm::standardize, 0.0);
               }});
  r.push_back({"apot_rcf_qconfig: bits 1",
               raises<ValueError>("apot_sign_magnitude_levels", {"b must be >= 2", "got b=1"}),
               [] { apot_rcf_qconfig<double>(1); }});
  r.push_back({"apot_rcf_qconfig: bits 0",
               raises<ValueError>("apot_sign_magnitude_levels", {"b must be >= 2", "got b=0"}),
               [] { apot_rcf_qconfig<double>(0); }});
  r.push_back({"apot_fixed_qconfig: bits 100",
               raises<ValueError>("make_fake_quantize", {"b=100 gives more than"}),
               [] { apot_fixed_qconfig<double>(100); }});
  r.push_back({"uniform_lsq_qconfig: bits 1",
               raises<ValueError>("make_fake_quantize", {"bits", "got 1"}),
               [] { uniform_lsq_qconfig<double>(1); }});
  r.push_back(
      {"make_fake_quantize: per-channel LSQ without the axis",
       raises<ShapeError>("make_fake_quantize", {"ch_axis 2 is out of range", "shape [4, 3]"}), [] {
         make_fake_quantize<double>({QuantMethod::uniform_lsq, 4, true, true, 2}, {4, 3});
       }});
  r.push_back({"decode_qconfig_name: not a character code",
               raises<ValueError>("decode_qconfig_name", {"element 1", "not a character code"}),
               [] {
                 decode_qconfig_name<double>(xt::xarray<double>({65.0, 0.5}));
               }});

  r.push_back({"qat::Linear: a float qconfig",
               raises<ValueError>("qat::Linear", {"no weight factory"}),
               [] { qat::Linear<double>(3, 2, true, float_qconfig<double>()); }});
  r.push_back({"qat::Conv2d: a float qconfig",
               raises<ValueError>("qat::Conv2d", {"no weight factory"}),
               [] { qat::Conv2d<double>(nn::Conv2dOptions(2, 4, 3), float_qconfig<double>()); }});
  r.push_back({"qat::Conv2d: groups not dividing",
               raises<ValueError>("Conv2d", {"groups", "got 3"}),
               [u8] { qat::Conv2d<double>(nn::Conv2dOptions(2, 4, 3).groups(3), u8); }});
  auto ql = std::make_shared<qat::Linear<double>>(3, 2, true, u8);
  r.push_back(forward_of_undefined(ql, "qat::Linear", "input"));
  r.push_back(forward_of("qat::Linear: forward of the wrong width",
                         raises<ShapeError>("linear", {"input [2, 4], weight [2, 3]"}), ql,
                         leaf({2, 4})));
  r.push_back(
      {"qat::Linear: load a state of another qconfig",
       raises<ValueError>("qat::Linear::load_state_dict", {"qconfig", "uniform(b=4,signed)"}),
       [ql] {
         qat::Linear<double> other(3, 2, true, uniform_qconfig<double>(4));
         ql->load_state_dict(other.state_dict());
       },
       {},
       {ql}});
  auto qc = std::make_shared<qat::Conv2d<double>>(nn::Conv2dOptions(2, 4, 3), u8);
  r.push_back(
      forward_of("qat::Conv2d: forward of other channels",
                 raises<ShapeError>("conv2d", {"the input has 3 channels, the weight expects 2"}),
                 qc, leaf({1, 3, 5, 5})));
}

BOOST_AUTO_TEST_SUITE_END()  // test_qat
