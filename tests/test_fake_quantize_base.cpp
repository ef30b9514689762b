// FakeQuantizeBase: one pair of flag buffers and toggles for every fake
// quantizer, and the whole-tree toggles (PyTorch's model.apply(disable_observer)).
#include <boost/test/unit_test.hpp>
#include <memory>

#include "test_util.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"

BOOST_AUTO_TEST_SUITE(test_fake_quantize_base)

using namespace xgrad;
using namespace xgrad::quant;

namespace {

// The smallest user-written fake quantizer: doubles x when fake quant is on.
struct Doubler : FakeQuantizeBase<float> {
  Doubler() : FakeQuantizeBase<float>("Doubler") {}
  Tensor<float> forward(const Tensor<float>& x) override {
    return fake_quant_enabled() ? Tensor<float>(xt::xarray<float>(2.0f * x.data())) : x;
  }
};

// A user module holding a fake quantizer below a Sequential.
struct Block : Module<float> {
  Block() : Module<float>("Block") {
    fq = register_module("fq", std::make_shared<APoTFakeQuantize<float>>(4, 2));
  }
  std::shared_ptr<APoTFakeQuantize<float>> fq;
};

}  // namespace

BOOST_AUTO_TEST_CASE(flags_start_on_and_are_the_first_two_buffers_in_pytorch_order) {
  Doubler d;
  BOOST_TEST(d.observer_enabled());
  BOOST_TEST(d.fake_quant_enabled());
  const auto sd = d.state_dict();
  BOOST_TEST_REQUIRE(sd.size() == 2u);
  BOOST_TEST(sd[0].first == "fake_quant_enabled");
  BOOST_TEST(sd[1].first == "observer_enabled");
}

BOOST_AUTO_TEST_CASE(each_toggle_flips_only_its_own_flag) {
  Doubler d;
  d.disable_observer();
  BOOST_TEST(!d.observer_enabled());
  BOOST_TEST(d.fake_quant_enabled());
  d.disable_fake_quant();
  BOOST_TEST(!d.fake_quant_enabled());
  d.enable_observer();
  BOOST_TEST(d.observer_enabled());
  BOOST_TEST(!d.fake_quant_enabled());
  d.enable_fake_quant(true);
  d.enable_observer(false);
  BOOST_TEST(d.fake_quant_enabled());
  BOOST_TEST(!d.observer_enabled());
  const auto sd = d.state_dict();
  BOOST_TEST(sd[0].second(0) == 1.0f);
  BOOST_TEST(sd[1].second(0) == 0.0f);
}

BOOST_AUTO_TEST_CASE(flags_round_trip_through_the_state_dict) {
  Doubler a;
  a.disable_fake_quant();
  Doubler b;
  b.load_state_dict(a.state_dict());
  BOOST_TEST(!b.fake_quant_enabled());
  BOOST_TEST(b.observer_enabled());
  const Tensor<float> x = tensor<float>({1.5f});
  BOOST_TEST(b.forward(x).item() == 1.5f);
}

BOOST_AUTO_TEST_CASE(a_loaded_nonzero_flag_reads_as_on) {
  Doubler a;
  StateDict<float> sd = a.state_dict();
  sd[0].second(0) = 0.5f;  // fake_quant_enabled
  sd[1].second(0) = 0.0f;  // observer_enabled
  a.load_state_dict(sd);
  BOOST_TEST(a.fake_quant_enabled());
  BOOST_TEST(!a.observer_enabled());
}

BOOST_AUTO_TEST_CASE(tree_toggles_reach_every_fake_quantizer_and_nothing_else) {
  auto model = std::make_shared<nn::Sequential<float>>();
  model->push_back(std::make_shared<nn::Linear<float>>(2, 2));
  model->push_back(std::make_shared<FakeQuantize<float>>());
  auto block = std::make_shared<Block>();
  model->push_back(block);
  auto d = std::make_shared<Doubler>();
  model->push_back(d);
  const auto linear_state = model->children()[0]->state_dict();

  disable_observer(*model);
  disable_fake_quant(*model);
  int seen = 0;
  for (const auto& m : model->modules()) {
    if (auto* fq = dynamic_cast<FakeQuantizeBase<float>*>(m.get())) {
      ++seen;
      BOOST_TEST_CONTEXT(m->type_name()) {
        BOOST_TEST(!fq->observer_enabled());
        BOOST_TEST(!fq->fake_quant_enabled());
      }
    }
  }
  BOOST_TEST(seen == 3);
  enable_fake_quant(*model);
  BOOST_TEST(block->fq->fake_quant_enabled());
  BOOST_TEST(!block->fq->observer_enabled());
  enable_observer(*model, true);
  BOOST_TEST(d->observer_enabled());
  // The Linear's state is untouched.
  const auto after = model->children()[0]->state_dict();
  BOOST_TEST_REQUIRE(after.size() == linear_state.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    BOOST_TEST(xgrad_test::equal_arrays(after[i].second, linear_state[i].second));
}

BOOST_AUTO_TEST_CASE(tree_toggles_apply_to_the_root_itself) {
  Doubler d;
  disable_fake_quant(d);
  BOOST_TEST(!d.fake_quant_enabled());
  enable_fake_quant(d, true);
  BOOST_TEST(d.fake_quant_enabled());
}

BOOST_AUTO_TEST_SUITE_END()  // test_fake_quantize_base
