// Module<T>: registration, naming and order, train/eval, zero_grad, state
// dicts (strictness, atomicity, fixed-shape buffers, per-module vetoes),
// float/double conversion and the module-tree utilities (named_modules, apply,
// replace_module, as); named_parameters as libtorch's OrderedDict, nn::Module.
#include <boost/test/unit_test.hpp>
#include <type_traits>

#include "test_util.hpp"
#include "xgrad/module.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/elementwise.hpp"

BOOST_AUTO_TEST_SUITE(test_module)

using xgrad::Module;
using xgrad::StateDict;
using xgrad::Tensor;
using xgrad_test::equal_arrays;
using xgrad_test::names_of;

namespace {

// A leaf module: one parameter, one bias, one buffer.
template <class T>
struct Leaf : Module<T> {
  Tensor<T> weight, bias, count;
  explicit Leaf(std::size_t n) : Module<T>("Leaf") {
    weight = this->register_parameter("weight", xgrad::full<T>({n}, T(1)));
    bias = this->register_parameter("bias", xgrad::zeros<T>({n}));
    count = this->register_buffer("count", xgrad::scalar<T>(0));
  }
};

// Two children plus an own parameter, registered between them.
template <class T>
struct Net : Module<T> {
  std::shared_ptr<Leaf<T>> fc1, fc2;
  Tensor<T> scale;
  Net() : Module<T>("Net") {
    fc1 = this->register_module("fc1", std::make_shared<Leaf<T>>(3));
    scale = this->register_parameter("scale", xgrad::scalar<T>(2));
    fc2 = this->register_module("fc2", std::make_shared<Leaf<T>>(2));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(module)

BOOST_AUTO_TEST_CASE(named_parameters_are_dotted_own_first_then_children) {
  Net<float> net;
  const std::vector<std::string> want = {"scale", "fc1.weight", "fc1.bias", "fc2.weight",
                                         "fc2.bias"};
  BOOST_TEST(names_of(net.named_parameters()) == want, boost::test_tools::per_element());
  const std::vector<std::string> own = {"scale"};
  BOOST_TEST(names_of(net.named_parameters(false)) == own, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(named_parameters_is_an_ordered_dict_as_in_libtorch) {
  Net<float> net;
  const auto named = net.named_parameters();
  BOOST_TEST(named[1].key() == "fc1.weight");  // libtorch's item.key() / item.value()
  BOOST_TEST(named[1].value().storage() == net.fc1->weight.storage());
  BOOST_TEST(named[1].first == "fc1.weight");  // and std::pair's first / second
  BOOST_TEST(named["fc2.bias"].storage() == net.fc2->bias.storage());
  BOOST_TEST(named.contains("scale"));
  BOOST_TEST(named.find("fc3.weight") == nullptr);
  BOOST_TEST(named.keys() == names_of(named), boost::test_tools::per_element());
  BOOST_TEST(named.values().size() == 5u);
  std::size_t n = 0;
  for (const auto& [name, tensor] : named) n += !name.empty() && tensor.defined();
  BOOST_TEST(n == 5u);
}

BOOST_AUTO_TEST_CASE(nn_module_is_the_float_module_for_libtorch_style_subclasses) {
  static_assert(std::is_same<xgrad::nn::Module, Module<float>>::value, "nn::Module");
  struct Tiny : xgrad::nn::Module {
    Tensor<float> w = register_parameter("w", xgrad::ones<float>({2}));
  };
  auto tiny = std::make_shared<Tiny>();
  BOOST_TEST(tiny->named_parameters()["w"].sizes() == xgrad::Shape({2}));
}

BOOST_AUTO_TEST_CASE(parameters_alias_the_registered_tensors) {
  Net<float> net;
  const auto params = net.parameters();
  BOOST_REQUIRE_EQUAL(params.size(), 5u);
  BOOST_TEST(params[1].storage() == net.fc1->weight.storage());
  for (const auto& p : params) BOOST_TEST(p.requires_grad());
}

BOOST_AUTO_TEST_CASE(register_parameter_can_register_frozen_tensors) {
  Module<float> m;
  auto t = m.register_parameter("frozen", xgrad::ones<float>({2}), /*requires_grad=*/false);
  BOOST_TEST(!t.requires_grad());
  BOOST_TEST(m.parameters().size() == 1u);
}

BOOST_AUTO_TEST_CASE(named_buffers_and_children) {
  Net<double> net;
  const std::vector<std::string> buffers = {"fc1.count", "fc2.count"};
  BOOST_TEST(names_of(net.named_buffers()) == buffers, boost::test_tools::per_element());
  BOOST_TEST(net.buffers().size() == 2u);
  BOOST_TEST(!net.buffers()[0].requires_grad());
  BOOST_TEST(net.named_buffers(false).empty());
  const std::vector<std::string> children = {"fc1", "fc2"};
  BOOST_TEST(names_of(net.named_children()) == children, boost::test_tools::per_element());
  BOOST_TEST(net.children()[1].get() == net.fc2.get());
}

BOOST_AUTO_TEST_CASE(modules_lists_descendants_depth_first_without_self) {
  auto inner = std::make_shared<Net<float>>();
  Module<float> outer("Outer");
  outer.register_module("net", inner);
  auto extra = outer.register_module("extra", std::make_shared<Leaf<float>>(1));
  const auto mods = outer.modules();
  BOOST_REQUIRE_EQUAL(mods.size(), 4u);
  BOOST_TEST(mods[0].get() == inner.get());
  BOOST_TEST(mods[1].get() == inner->fc1.get());
  BOOST_TEST(mods[2].get() == inner->fc2.get());
  BOOST_TEST(mods[3].get() == extra.get());
}

BOOST_AUTO_TEST_CASE(shared_child_parameters_are_listed_once_but_saved_under_both_names) {
  auto shared = std::make_shared<Leaf<float>>(2);
  Module<float> m;
  m.register_module("a", shared);
  m.register_module("b", shared);
  const std::vector<std::string> params = {"a.weight", "a.bias"};
  BOOST_TEST(names_of(m.named_parameters()) == params, boost::test_tools::per_element());
  BOOST_TEST(m.modules().size() == 1u);
  BOOST_TEST(m.state_dict().size() == 6u);
}

BOOST_AUTO_TEST_CASE(train_and_eval_propagate_to_every_descendant) {
  Module<float> outer;
  auto net = outer.register_module("net", std::make_shared<Net<float>>());
  BOOST_TEST(outer.is_training());
  outer.eval();
  BOOST_TEST(!outer.is_training());
  BOOST_TEST(!net->is_training());
  BOOST_TEST(!net->fc1->is_training());
  BOOST_TEST(!net->fc2->is_training());
  outer.train();
  BOOST_TEST(net->fc2->is_training());
  net->train(false);  // a subtree can be switched on its own
  BOOST_TEST(outer.is_training());
  BOOST_TEST(!net->fc1->is_training());
}

BOOST_AUTO_TEST_CASE(eval_does_not_turn_gradients_off) {
  Net<float> net;
  net.eval();
  for (const auto& p : net.parameters()) BOOST_TEST(p.requires_grad());
}

BOOST_AUTO_TEST_CASE(zero_grad_drops_every_parameter_gradient) {
  Net<double> net;
  for (auto& p : net.parameters())
    p.clone().backward(xt::xarray<double>(xt::ones<double>(p.shape())));
  for (const auto& p : net.parameters()) BOOST_TEST(p.grad().defined());
  net.zero_grad();
  for (const auto& p : net.parameters()) BOOST_TEST(!p.grad().defined());
}

BOOST_AUTO_TEST_CASE(default_forward_throws_state_error_naming_the_type) {
  Net<float> net;
  BOOST_CHECK_EXCEPTION(net(xgrad::zeros<float>({1})), xgrad::StateError,
                        [](const xgrad::StateError& e) {
                          return std::string(e.what()).find("Net") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(bad_registrations_throw_value_error) {
  Module<float> m;
  m.register_parameter("w", xgrad::zeros<float>({1}));
  BOOST_CHECK_THROW(m.register_parameter("", xgrad::zeros<float>({1})), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_parameter("a.b", xgrad::zeros<float>({1})), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_parameter("w", xgrad::zeros<float>({1})), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_buffer("w", xgrad::zeros<float>({1})), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_module("w", std::make_shared<Module<float>>()), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_parameter("u", Tensor<float>()), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_buffer("u", Tensor<float>()), xgrad::ValueError);
  BOOST_CHECK_THROW(m.register_module("u", std::shared_ptr<Module<float>>()), xgrad::ValueError);
  BOOST_TEST(m.named_parameters().size() == 1u);  // nothing was added
}

BOOST_AUTO_TEST_CASE(a_non_leaf_parameter_is_rejected) {
  Module<double> m;
  auto x = xgrad::ones<double>({2}, true);
  auto y = x.clone();  // produced by an op: not a leaf
  BOOST_CHECK_THROW(m.register_parameter("y", y), xgrad::ValueError);
}

BOOST_AUTO_TEST_CASE(a_module_cannot_become_its_own_descendant) {
  auto a = std::make_shared<Module<float>>("A");
  auto b = a->register_module("b", std::make_shared<Module<float>>("B"));
  BOOST_CHECK_THROW(b->register_module("a", a), xgrad::ValueError);
  BOOST_CHECK_THROW(a->register_module("self", a), xgrad::ValueError);
}

BOOST_AUTO_TEST_CASE(state_dict_holds_parameters_then_buffers_per_module) {
  Net<float> net;
  const std::vector<std::string> want = {"scale",      "fc1.weight", "fc1.bias", "fc1.count",
                                         "fc2.weight", "fc2.bias",   "fc2.count"};
  const auto dict = net.state_dict();
  BOOST_TEST(names_of(dict) == want, boost::test_tools::per_element());
  BOOST_TEST(equal_arrays(dict[1].second, xt::xarray<float>({1, 1, 1})));
}

BOOST_AUTO_TEST_CASE(state_dict_is_a_copy) {
  Net<float> net;
  auto dict = net.state_dict();
  dict[0].second(0) = 42;
  BOOST_TEST(net.scale.item() == 2.0f);
}

BOOST_AUTO_TEST_CASE(load_state_dict_writes_into_existing_handles) {
  Net<double> src, dst;
  src.fc1->weight.mutable_data() = xt::xarray<double>({0.5, -1.25, 3});
  src.fc2->count.mutable_data() = xt::xarray<double>(7);
  auto handle = dst.fc1->weight;  // e.g. held by an optimizer
  const auto version = handle.version();
  dst.load_state_dict(src.state_dict());
  BOOST_TEST(equal_arrays(handle.data(), xt::xarray<double>({0.5, -1.25, 3})));
  BOOST_TEST(dst.fc2->count.item() == 7.0);
  BOOST_TEST(handle.version() > version);  // saved graphs see the write
}

BOOST_AUTO_TEST_CASE(strict_load_reports_every_problem_in_one_error) {
  Net<float> net;
  auto dict = net.state_dict();
  dict.erase(dict.begin() + 2);                             // missing fc1.bias
  dict.emplace_back("fc3.weight", xt::xarray<float>({1}));  // unexpected
  dict[0].second = xt::xarray<float>({1, 2});               // scale: [] -> [2]
  try {
    net.load_state_dict(dict);
    BOOST_FAIL("load_state_dict accepted a bad dict");
  } catch (const xgrad::ValueError& e) {
    const std::string msg = e.what();
    BOOST_TEST_INFO(msg);
    BOOST_TEST(msg.find("fc1.bias") != std::string::npos);
    BOOST_TEST(msg.find("fc3.weight") != std::string::npos);
    BOOST_TEST(msg.find("scale") != std::string::npos);
    BOOST_TEST(msg.find("[2]") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(shape_mismatch_alone_is_a_shape_error_even_when_not_strict) {
  Net<float> net;
  auto dict = net.state_dict();
  dict[1].second = xt::xarray<float>({1, 2});  // fc1.weight is [3]
  BOOST_CHECK_THROW(net.load_state_dict(dict), xgrad::ShapeError);
  BOOST_CHECK_THROW(net.load_state_dict(dict, /*strict=*/false), xgrad::ShapeError);
}

BOOST_AUTO_TEST_CASE(a_failed_load_changes_nothing) {
  Net<float> net;
  const auto before = net.state_dict();
  StateDict<float> dict = net.state_dict();
  for (auto& kv : dict) kv.second.fill(9);
  dict.back().second = xt::xarray<float>({1, 2, 3});  // fc2.count has shape []
  BOOST_CHECK_THROW(net.load_state_dict(dict), xgrad::ShapeError);
  const auto after = net.state_dict();
  for (std::size_t i = 0; i < before.size(); ++i)
    BOOST_TEST(equal_arrays(after[i].second, before[i].second));
}

BOOST_AUTO_TEST_CASE(non_strict_load_ignores_missing_and_unexpected_keys) {
  Net<float> net;
  StateDict<float> dict = {{"fc2.bias", xt::xarray<float>({4, 5})},
                           {"other", xt::xarray<float>({1})}};
  BOOST_CHECK_THROW(net.load_state_dict(dict), xgrad::ValueError);
  net.load_state_dict(dict, /*strict=*/false);
  BOOST_TEST(equal_arrays(net.fc2->bias.data(), xt::xarray<float>({4, 5})));
  BOOST_TEST(equal_arrays(net.fc1->bias.data(), xt::xarray<float>({0, 0, 0})));
}

BOOST_AUTO_TEST_CASE(a_repeated_key_is_a_value_error) {
  Net<float> net;
  auto dict = net.state_dict();
  dict.push_back(dict[0]);
  BOOST_CHECK_THROW(net.load_state_dict(dict, false), xgrad::ValueError);
}

BOOST_AUTO_TEST_CASE(a_buffer_without_fixed_shape_accepts_any_shape) {
  Module<float> m;
  auto levels = m.register_buffer("levels", xgrad::zeros<float>({4}), /*fixed_shape=*/false);
  auto fixed = m.register_buffer("fixed", xgrad::zeros<float>({4}));
  m.load_state_dict({{"levels", xt::xarray<float>({1, 2, 3, 4, 5, 6})},
                     {"fixed", xt::xarray<float>({1, 1, 1, 1})}});
  BOOST_TEST(equal_arrays(levels.data(), xt::xarray<float>({1, 2, 3, 4, 5, 6})));
  BOOST_CHECK_THROW(
      m.load_state_dict({{"levels", xt::xarray<float>({1})}, {"fixed", xt::xarray<float>({1})}}),
      xgrad::ShapeError);
  BOOST_TEST(levels.numel() == 6u);  // unchanged by the failed load
}

BOOST_AUTO_TEST_CASE(convert_state_dict_moves_a_model_between_float_and_double) {
  Net<float> f;
  f.fc1->weight.mutable_data() = xt::xarray<float>({0.1f, -2.5f, 1e-30f});
  Net<double> d;
  d.load_state_dict(xgrad::convert_state_dict<double>(f.state_dict()));
  BOOST_TEST(d.fc1->weight.data()(0) == static_cast<double>(0.1f));  // exact widening
  BOOST_TEST(d.fc1->weight.data()(2) == static_cast<double>(1e-30f));
  d.fc2->bias.mutable_data() = xt::xarray<double>({0.1, 1e300});
  Net<float> back;
  back.load_state_dict(xgrad::convert_state_dict<float>(d.state_dict()));
  BOOST_TEST(back.fc2->bias.data()(0) == 0.1f);  // rounds to nearest
  BOOST_TEST(std::isinf(back.fc2->bias.data()(1)));
}

// ---- module-tree utilities ----

namespace {

// outer { net { fc1, fc2 }, extra }, owned by a shared_ptr.
std::shared_ptr<Module<float>> make_tree() {
  auto outer = std::make_shared<Module<float>>("Outer");
  outer->register_module("net", std::make_shared<Net<float>>());
  outer->register_module("extra", std::make_shared<Leaf<float>>(1));
  return outer;
}

// Refuses any load whose "weight" holds a negative first element.
struct Picky : Leaf<float> {
  Picky() : Leaf<float>(2) {}

 protected:
  void check_state(const StateCandidate& state) const override {
    if (state["weight"](0) < 0) throw xgrad::ValueError("Picky: negative");
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(named_modules_lists_self_then_descendants_depth_first_with_dotted_names) {
  auto outer = make_tree();
  const auto all = outer->named_modules();
  const std::vector<std::string> want = {"", "net", "net.fc1", "net.fc2", "extra"};
  BOOST_TEST(names_of(all) == want, boost::test_tools::per_element());
  BOOST_TEST(all[0].second.get() == outer.get());
  BOOST_TEST(all[2].second.get() == outer->named_children()[0].second->children()[0].get());
}

BOOST_AUTO_TEST_CASE(named_modules_prefixes_every_name_and_can_leave_self_out) {
  auto outer = make_tree();
  const std::vector<std::string> want = {"model", "model.net", "model.net.fc1", "model.net.fc2",
                                         "model.extra"};
  BOOST_TEST(names_of(outer->named_modules("model")) == want, boost::test_tools::per_element());
  const std::vector<std::string> without = {"net", "net.fc1", "net.fc2", "extra"};
  BOOST_TEST(names_of(outer->named_modules("", false)) == without,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(named_modules_with_self_needs_a_shared_ptr_owner) {
  Net<float> on_stack;
  BOOST_CHECK_EXCEPTION(on_stack.named_modules(), xgrad::StateError,
                        xgrad_test::mentions<xgrad::StateError>("include_self"));
  const std::vector<std::string> want = {"fc1", "fc2"};
  BOOST_TEST(names_of(on_stack.named_modules("", false)) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(named_modules_lists_a_shared_child_once_under_its_first_name) {
  auto shared = std::make_shared<Leaf<float>>(2);
  Module<float> m;
  m.register_module("a", shared);
  m.register_module("b", shared);
  const std::vector<std::string> want = {"a"};
  BOOST_TEST(names_of(m.named_modules("", false)) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(apply_visits_self_first_then_descendants_in_order) {
  auto outer = make_tree();
  std::vector<std::string> types;
  outer->apply([&types](Module<float>& m) { types.push_back(m.type_name()); });
  const std::vector<std::string> want = {"Outer", "Net", "Leaf", "Leaf", "Leaf"};
  BOOST_TEST(types == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(named_apply_passes_dotted_names_under_the_prefix) {
  Net<float> net;  // apply needs no shared_ptr owner
  std::vector<std::string> names;
  net.apply([&names](const std::string& name, Module<float>&) { names.push_back(name); }, "root");
  const std::vector<std::string> want = {"root", "root.fc1", "root.fc2"};
  BOOST_TEST(names == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(apply_can_change_state_of_every_module) {
  auto outer = make_tree();
  outer->apply([](Module<float>& m) {
    if (auto* leaf = m.as<Leaf<float>>()) leaf->count.fill_(7);
  });
  for (const auto& b : outer->buffers()) BOOST_TEST(b.item() == 7.0f);
}

BOOST_AUTO_TEST_CASE(replace_module_keeps_the_position_and_returns_the_new_child) {
  Net<float> net;
  auto old_fc1 = net.fc1;
  auto fresh = std::make_shared<Leaf<float>>(5);
  auto returned = net.replace_module("fc1", fresh);
  BOOST_TEST(returned.get() == fresh.get());
  const std::vector<std::string> children = {"fc1", "fc2"};
  BOOST_TEST(names_of(net.named_children()) == children, boost::test_tools::per_element());
  BOOST_TEST(net.named_children()[0].second.get() == fresh.get());
  const std::vector<std::string> keys = {"scale",      "fc1.weight", "fc1.bias", "fc1.count",
                                         "fc2.weight", "fc2.bias",   "fc2.count"};
  BOOST_TEST(names_of(net.state_dict()) == keys, boost::test_tools::per_element());
  BOOST_TEST(net.state_dict()[1].second.size() == 5u);  // the new child's weight
  // libtorch's contract: the member handle is the caller's to refresh.
  BOOST_TEST(net.fc1.get() == old_fc1.get());
  net.fc1 = returned;
  BOOST_TEST(net.fc1.get() == fresh.get());
}

BOOST_AUTO_TEST_CASE(bad_replacements_throw_value_error_and_change_nothing) {
  auto outer = make_tree();
  const auto before = outer->named_modules();
  BOOST_CHECK_EXCEPTION(outer->replace_module("nope", std::make_shared<Leaf<float>>(1)),
                        xgrad::ValueError, xgrad_test::mentions<xgrad::ValueError>("\"nope\""));
  BOOST_CHECK_THROW(outer->replace_module("net", std::shared_ptr<Leaf<float>>()),
                    xgrad::ValueError);
  BOOST_CHECK_THROW(outer->replace_module("net.fc1", std::make_shared<Leaf<float>>(1)),
                    xgrad::ValueError);  // direct children only, as libtorch
  BOOST_CHECK_EXCEPTION(outer->replace_module("net", outer), xgrad::ValueError,
                        xgrad_test::mentions<xgrad::ValueError>("its own descendant"));
  const auto after = outer->named_modules();
  BOOST_REQUIRE_EQUAL(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    BOOST_TEST(after[i].first == before[i].first);
    BOOST_TEST(after[i].second.get() == before[i].second.get());
  }
}

BOOST_AUTO_TEST_CASE(as_casts_to_the_dynamic_type_or_gives_null) {
  Net<float> net;
  Module<float>& base = net;
  BOOST_TEST(base.as<Net<float>>() == &net);
  BOOST_TEST(base.as<Leaf<float>>() == nullptr);
  const Module<float>& cbase = net;
  BOOST_TEST(cbase.as<Net<float>>() == &net);
}

BOOST_AUTO_TEST_CASE(a_module_can_veto_a_load_and_then_nothing_changes) {
  Module<float> m;
  auto picky = m.register_module("p", std::make_shared<Picky>());
  auto other = m.register_module("q", std::make_shared<Leaf<float>>(1));
  auto dict = m.state_dict();
  for (auto& kv : dict) kv.second.fill(-1);
  BOOST_CHECK_EXCEPTION(m.load_state_dict(dict), xgrad::ValueError,
                        xgrad_test::mentions<xgrad::ValueError>("Picky"));
  BOOST_TEST(other->weight.item() == 1.0f);  // the other module's entries too
  BOOST_TEST(picky->weight.data()(0) == 1.0f);
  dict[0].second.fill(2);  // p.weight acceptable now
  m.load_state_dict(dict);
  BOOST_TEST(picky->weight.data()(0) == 2.0f);
  BOOST_TEST(other->weight.item() == -1.0f);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  r.push_back({"named_parameters: an unknown name",
               raises<ValueError>("OrderedDict", {"no key \"fc3.weight\"", "among 2 keys"}),
               [] { nn::Linear<double>(3, 2).named_parameters()["fc3.weight"]; }});
  r.push_back({"named_parameters: an index out of range",
               raises<ValueError>("OrderedDict", {"index 2 is out of range for 2 items"}),
               [] { nn::Linear<double>(3, 2).named_parameters()[2]; }});
  r.push_back({"OrderedDict: a repeated key",
               raises<ValueError>("OrderedDict", {"key \"w\" is already present"}), [] {
                 xgrad::OrderedDict<int> d;
                 d.insert("w", 1);
                 d.insert("w", 2);
               }});

  auto m = std::make_shared<nn::Linear<double>>(3, 2);
  const D leaf2 = leaf({2});
  r.push_back({"register_parameter: empty name",
               raises<ValueError>("Linear::register_parameter", {"name must not be empty"}),
               [m, leaf2] { m->register_parameter("", leaf2); },
               {leaf2},
               {m}});
  r.push_back(
      {"register_parameter: dotted name",
       raises<ValueError>("Linear::register_parameter", {"must not contain '.'", "got \"a.b\""}),
       [m, leaf2] { m->register_parameter("a.b", leaf2); },
       {leaf2},
       {m}});
  r.push_back(
      {"register_parameter: taken name",
       raises<ValueError>("Linear::register_parameter", {"name \"weight\" is already registered"}),
       [m, leaf2] { m->register_parameter("weight", leaf2); },
       {leaf2},
       {m}});
  r.push_back({"register_parameter: undefined",
               raises<ValueError>("Linear::register_parameter", {"tensor \"p\" is undefined"}),
               [m, u] { m->register_parameter("p", u); },
               {},
               {m}});
  r.push_back({"register_parameter: not a leaf",
               raises<ValueError>("Linear::register_parameter", {"tensor \"p\" is not a leaf"}),
               [m, leaf2] { m->register_parameter("p", leaf2 * 2.0); },
               {leaf2},
               {m}});
  r.push_back({"register_buffer: undefined",
               raises<ValueError>("Linear::register_buffer", {"tensor \"b\" is undefined"}),
               [m, u] { m->register_buffer("b", u); },
               {},
               {m}});
  r.push_back({"register_module: null",
               raises<ValueError>("Linear::register_module", {"module \"c\" is null"}),
               [m] { m->register_module("c", std::shared_ptr<Module<double>>()); },
               {},
               {m}});
  r.push_back(
      {"register_module: itself",
       raises<ValueError>("Linear::register_module", {"registering \"self\"", "own descendant"}),
       [m] { m->register_module("self", m); },
       {},
       {m}});
  auto seq = std::make_shared<nn::Sequential<double>>(
      std::initializer_list<std::shared_ptr<Module<double>>>{m});
  r.push_back(
      {"register_module: a cycle",
       raises<ValueError>("Linear::register_module", {"registering \"parent\"", "own descendant"}),
       [m, seq] { m->register_module("parent", seq); },
       {},
       {m, seq}});
  r.push_back({"load_state_dict: missing key",
               raises<ValueError>("Linear::load_state_dict", {"missing keys: bias"}),
               [m] {
                 m->load_state_dict({{"weight", xt::xarray<double>::from_shape({2, 3})}});
               },
               {},
               {m}});
  r.push_back({"load_state_dict: unexpected key",
               raises<ValueError>("Linear::load_state_dict", {"unexpected keys: extra"}),
               [m] {
                 auto d = m->state_dict();
                 d.emplace_back("extra", xt::xarray<double>({1.0}));
                 m->load_state_dict(d);
               },
               {},
               {m}});
  r.push_back(
      {"load_state_dict: wrong shape",
       raises<ShapeError>("Linear::load_state_dict", {"shape mismatch: weight", "got [3, 2]"}),
       [m] {
         m->load_state_dict({{"weight", xt::xarray<double>::from_shape({3, 2})},
                             {"bias", xt::xarray<double>::from_shape({2})}});
       },
       {},
       {m}});
  r.push_back(
      {"load_state_dict: repeated key",
       raises<ValueError>("Linear::load_state_dict", {"key \"weight\" appears more than once"}),
       [m] {
         auto d = m->state_dict();
         d.push_back(d[0]);
         m->load_state_dict(d);
       },
       {},
       {m}});
  r.push_back({"Module::forward without an override",
               raises<StateError>("Plain::forward", {"no unary forward"}),
               [] { Module<double>("Plain").forward(zeros<double>({1})); }});
}

BOOST_AUTO_TEST_SUITE_END()  // test_module
