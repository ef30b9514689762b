// Gradient hooks (Tensor::register_hook): when they run (once per leaf per
// backward, as soon as the leaf's gradient is complete, before the commit),
// what they see, how they replace a gradient, and what an exception leaves.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/tensor.hpp"

BOOST_AUTO_TEST_SUITE(test_hooks)

using namespace xgrad;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

using Log = std::vector<std::string>;

// The identity, whose backward writes its label to a log: shows where in the
// backward pass a hook runs. Throws in backward when its label is "throw".
struct Logged : Function<Logged> {
  static constexpr const char* name = "LoggedBackward";
  static inline Log* log = nullptr;
  template <class T>
  static xt::xarray<T> forward(Context<T>& ctx, const Tensor<T>& x, int label) {
    ctx.saved_ints.push_back(label);
    return x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>& ctx, const xt::xarray<T>& g) {
    const int label = static_cast<int>(ctx.saved_ints[0]);
    if (label < 0) throw ValueError("LoggedBackward: asked to fail");
    log->push_back("node " + std::to_string(label));
    return {g};
  }
};

// A hook that logs "hook <name>" and the gradient it was given.
auto logging_hook(Log& log, const std::string& name, std::vector<xt::xarray<double>>* seen) {
  return [&log, name, seen](const Tensor<double>& grad) {
    log.push_back("hook " + name);
    if (seen) seen->push_back(grad.data());
  };
}

// Leaves a = [1, 2] and b = [3, 4] whose hooks, like Logged's nodes, write
// to `log`.
struct LoggedLeaves {
  Log log;
  Tensor<double> a = tensor<double>({1, 2}, true);
  Tensor<double> b = tensor<double>({3, 4}, true);
  LoggedLeaves() {
    Logged::log = &log;
    a.register_hook(logging_hook(log, "a", nullptr));
    b.register_hook(logging_hook(log, "b", nullptr));
  }
  ~LoggedLeaves() { Logged::log = nullptr; }
  LoggedLeaves(const LoggedLeaves&) = delete;
  LoggedLeaves& operator=(const LoggedLeaves&) = delete;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_hook_runs_once_with_the_sum_of_every_path_before_the_commit) {
  auto a = tensor<double>({1, 2}, true);
  std::vector<xt::xarray<double>> seen;
  bool grad_defined_in_hook = true;
  a.register_hook([&](const Tensor<double>& grad) {
    seen.push_back(grad.data());
    grad_defined_in_hook = a.grad().defined();
  });
  sum(a * a + a * 3.0).backward();  // a reaches the sum by three edges
  BOOST_TEST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(equal_arrays(seen[0], xt::xarray<double>({5, 7})));  // 2 a + 3
  BOOST_TEST(!grad_defined_in_hook);                              // committed only after the hooks
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({5, 7})));
}

BOOST_FIXTURE_TEST_CASE(a_hook_runs_as_soon_as_its_leaf_is_complete, LoggedLeaves) {
  // loss = sum(Logged_1(a * Logged_2(b))): a's gradient is complete once the
  // product's node has run, b's only after node 2.
  sum(Logged::apply(a * Logged::apply(b, 2), 1)).backward();
  BOOST_TEST(log == (Log{"node 1", "hook a", "node 2", "hook b"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hooks_run_in_registration_order_each_seeing_the_previous_result) {
  auto a = tensor<double>({1, 2}, true);
  std::vector<xt::xarray<double>> seen;
  Log log;
  a.register_hook(logging_hook(log, "first", &seen));
  a.register_hook([&](const Tensor<double>& grad) {
    log.push_back("hook doubling");
    return grad * 2.0;
  });
  a.register_hook(logging_hook(log, "last", &seen));
  sum(a * 3.0).backward();
  BOOST_TEST(log == (Log{"hook first", "hook doubling", "hook last"}),
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(equal_arrays(seen[0], xt::xarray<double>({3, 3})));
  BOOST_TEST(equal_arrays(seen[1], xt::xarray<double>({6, 6})));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({6, 6})));
}

BOOST_AUTO_TEST_CASE(an_undefined_result_keeps_the_gradient) {
  auto a = tensor<double>({1, 2}, true);
  a.register_hook([](const Tensor<double>&) { return Tensor<double>(); });
  sum(a * 3.0).backward();
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({3, 3})));
}

BOOST_AUTO_TEST_CASE(each_backward_calls_the_hook_with_its_own_gradient) {
  // retain_graph: the same graph twice, then a new one; the hook sees each
  // backward's gradient, not the accumulated grad().
  auto a = tensor<double>({1, 2}, true);
  std::vector<xt::xarray<double>> seen;
  Log log;
  a.register_hook(logging_hook(log, "a", &seen));
  auto y = sum(a * a);
  y.backward(/*retain_graph=*/true);
  y.backward();
  sum(a * 5.0).backward();
  BOOST_TEST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(equal_arrays(seen[0], xt::xarray<double>({2, 4})));
  BOOST_TEST(equal_arrays(seen[1], xt::xarray<double>({2, 4})));
  BOOST_TEST(equal_arrays(seen[2], xt::xarray<double>({5, 5})));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({9, 13})));
}

BOOST_AUTO_TEST_CASE(only_leaves_that_receive_a_gradient_call_their_hooks) {
  auto a = tensor<double>({1, 2}, true);
  auto unused = tensor<double>({1, 2}, true);
  int calls = 0;
  unused.register_hook([&](const Tensor<double>&) { ++calls; });
  sum(a * 2.0).backward();
  BOOST_TEST(calls == 0);
}

BOOST_AUTO_TEST_CASE(backward_of_a_leaf_itself_runs_its_hooks) {
  auto a = tensor<double>({1, 2}, true);
  a.register_hook([](const Tensor<double>& grad) { return grad * 10.0; });
  a.backward(xt::xarray<double>({1, 2}));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({10, 20})));
}

BOOST_AUTO_TEST_CASE(a_removed_hook_is_not_called_and_positions_stay_valid) {
  auto a = tensor<double>({1, 2}, true);
  Log log;
  const unsigned first = a.register_hook(logging_hook(log, "first", nullptr));
  const unsigned second = a.register_hook(logging_hook(log, "second", nullptr));
  BOOST_TEST(first == 0u);
  BOOST_TEST(second == 1u);
  a.remove_hook(first);
  sum(a).backward();
  BOOST_TEST(log == (Log{"hook second"}), boost::test_tools::per_element());
  a.remove_hook(second);
  sum(a).backward();
  BOOST_TEST(log.size() == 1u);
}

BOOST_AUTO_TEST_CASE(hooks_belong_to_the_tensor_not_to_its_detached_copies) {
  auto a = tensor<double>({1, 2}, true);
  int calls = 0;
  a.register_hook([&](const Tensor<double>&) { ++calls; });
  auto alias = a;  // a copy of the handle: the same tensor
  sum(alias * 2.0).backward();
  auto other = a.detach().set_requires_grad(true);
  sum(other * 2.0).backward();
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_CASE(hooks_run_with_grad_mode_off) {
  auto a = tensor<double>({1, 2}, true);
  auto w = tensor<double>({3, 4}, true);
  bool enabled = true;
  bool recorded = true;
  a.register_hook([&](const Tensor<double>& grad) {
    enabled = GradMode::is_enabled();
    auto scaled = grad * w;  // w requires grad: would record a node with grad mode on
    recorded = scaled.requires_grad();
    return scaled;
  });
  sum(a).backward();
  BOOST_TEST(!enabled);
  BOOST_TEST(!recorded);
  BOOST_TEST(GradMode::is_enabled());  // restored
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({3, 4})));
}

BOOST_AUTO_TEST_CASE(a_gradient_a_hook_keeps_is_not_changed_by_the_commit) {
  // The engine lends the hook its gradient buffer and takes it back, unless
  // the hook kept a handle: then the leaf gets a copy.
  auto a = tensor<double>({1, 2}, true);
  Tensor<double> kept;
  a.register_hook([&](const Tensor<double>& grad) { kept = grad; });
  sum(a * 3.0).backward();
  sum(a * 3.0).backward();  // adds in place to a.grad(), not to `kept`
  BOOST_TEST(equal_arrays(kept.data(), xt::xarray<double>({3, 3})));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({6, 6})));
}

// ---- exceptions ----

BOOST_AUTO_TEST_CASE(a_throwing_hook_fails_the_backward_with_no_gradient_changed) {
  auto a = tensor<double>({1, 2}, true);
  auto b = tensor<double>({3, 4}, true);
  sum(a + b).backward();  // a.grad() = b.grad() = [1, 1]
  const unsigned h = a.register_hook(
      [](const Tensor<double>&) -> Tensor<double> { throw ValueError("hook: asked to fail"); });
  auto y = sum(a * b);
  BOOST_CHECK_EXCEPTION(y.backward(/*retain_graph=*/true), ValueError,
                        mentions<ValueError>("hook: asked to fail"));
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({1, 1})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({1, 1})));
  // The graph is intact: without the hook the same backward succeeds.
  a.remove_hook(h);
  y.backward();
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({4, 5})));
  BOOST_TEST(equal_arrays(b.grad().data(), xt::xarray<double>({2, 3})));
}

BOOST_FIXTURE_TEST_CASE(a_hook_that_ran_before_a_failing_node_has_run_but_nothing_is_committed,
                        LoggedLeaves) {
  // a is complete after the product's node; node -1 throws afterwards.
  BOOST_CHECK_THROW(sum(a * Logged::apply(b, -1)).backward(), ValueError);
  BOOST_TEST(log == (Log{"hook a"}), boost::test_tools::per_element());
  BOOST_TEST(!a.grad().defined());
  BOOST_TEST(!b.grad().defined());
  // The engine's scratch space is clean: the next backward counts afresh.
  sum(a * b).backward();
  BOOST_TEST(log == (Log{"hook a", "hook a", "hook b"}), boost::test_tools::per_element());
  BOOST_TEST(equal_arrays(a.grad().data(), xt::xarray<double>({3, 4})));
}

XGRAD_TEST_BAD_CALLS(r) {
  const D a = leaf({2});
  const D constant = Tensor<double>(xt::xarray<double>({1, 2}));
  r.push_back({"register_hook on a tensor that does not require grad",
               raises<StateError>("register_hook", {"does not require grad"}),
               [constant] {
                 D c = constant;
                 c.register_hook([](const D&) {});
               },
               {constant}});
  r.push_back({"register_hook on a non-leaf",
               raises<StateError>("register_hook", {"non-leaf", "MulBackward"}),
               [a] { (a * 2.0).register_hook([](const D&) {}); },
               {a}});
  r.push_back({"register_hook with an empty function",
               raises<ValueError>("register_hook", {"hook is empty"}),
               [a] {
                 D t = a.detach().set_requires_grad(true);
                 t.register_hook(std::function<D(const D&)>());
               },
               {a}});
  r.push_back({"remove_hook of a position never registered",
               raises<ValueError>("remove_hook", {"position 3", "not a registered hook"}),
               [a] {
                 D t = a.detach().set_requires_grad(true);
                 t.register_hook([](const D&) {});
                 t.remove_hook(3);
               },
               {a}});
  r.push_back({"remove_hook twice",
               raises<ValueError>("remove_hook", {"position 0", "not a registered hook"}),
               [a] {
                 D t = a.detach().set_requires_grad(true);
                 const unsigned h = t.register_hook([](const D&) {});
                 t.remove_hook(h);
                 t.remove_hook(h);
               },
               {a}});
  r.push_back({"a hook returning a gradient of another shape",
               raises<ShapeError>("backward", {"hook 0", "shape [2]", "shape [3]"}),
               [a] {
                 D t = a.detach().set_requires_grad(true);
                 t.register_hook([](const D&) { return zeros<double>({3}); });
                 sum(t * 2.0).backward();
               },
               {a}});
  r.push_back({"backward from a hook",
               raises<StateError>("backward", {"called from a gradient hook"}),
               [a] {
                 D t = a.detach().set_requires_grad(true);
                 D other = a.detach().set_requires_grad(true);
                 t.register_hook([other](const D&) { sum(other * 2.0).backward(); });
                 sum(t * 2.0).backward();
               },
               {a}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_hooks
