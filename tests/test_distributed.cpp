// Collectives and DistributedDataParallel, for any number of ranks: meson runs
// this suite as one process and, when built with MPI, under mpiexec on 2 and
// 3 processes. Every rank runs every case and calls the collectives in the
// same order; expected values are computed locally from what each rank is
// known to pass in.
#include <algorithm>
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "test_util.hpp"
#include "xgrad/data.hpp"
#include "xgrad/distributed/distributed_data_parallel.hpp"
#include "xgrad/distributed/distributed_sampler.hpp"
#include "xgrad/distributed/process_group.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using xgrad::distributed::DistributedDataParallel;
using xgrad::distributed::DistributedSampler;
using xgrad::distributed::ProcessGroup;
using xgrad::distributed::ReduceOp;
using xgrad_test::equal_arrays;
using xgrad_test::mentions;

namespace {

// The process group of the whole run (MPI is initialized once per process).
struct World {
  World() { instance = &group; }
  ~World() { instance = nullptr; }
  ProcessGroup group;
  static ProcessGroup* instance;
};
ProcessGroup* World::instance = nullptr;

ProcessGroup& world() { return *World::instance; }

// A test that needs ranks that can disagree.
boost::test_tools::assertion_result several_ranks(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(world().size() > 1);
  r.message() << "needs more than one process (mpiexec -n 2)";
  return r;
}

// Rank r's input for the collective tests: distinct per rank and element, of
// magnitudes 1e8 apart so that another order of additions rounds otherwise.
template <class T>
Tensor<T> rank_values(const Shape& shape, int rank) {
  Tensor<T> t = zeros<T>(shape);
  auto& d = t.mutable_data();
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double big = (rank % 2 == 0 ? 1e8 : -1e8) * (rank + 1);
    d.data()[i] = static_cast<T>(big + 0.1 * static_cast<double>(i + 1) / (rank + 1));
  }
  return t;
}

// Shapes with odd sizes, sizes below and above the number of ranks, a 0-d
// tensor and empty ones.
const std::vector<Shape> kShapes = {{}, {1}, {2}, {3}, {7}, {3, 5}, {1001}, {0}, {4, 0}};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(World);

using Types = boost::mpl::list<float, double>;

// ---- group ----

BOOST_AUTO_TEST_CASE(ranks_are_zero_to_size_minus_one) {
  BOOST_TEST(world().size() >= 1);
  const auto all = world().all_gather({world().rank(), 10 * world().rank()});
  BOOST_TEST(all.size() == static_cast<std::size_t>(world().size()));
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto rank = static_cast<std::int64_t>(r);
    BOOST_TEST(all[r] == (std::vector<std::int64_t>{rank, 10 * rank}));
  }
  world().barrier();
}

BOOST_AUTO_TEST_CASE(all_gather_takes_a_different_length_from_each_rank) {
  const std::vector<std::int64_t> mine(static_cast<std::size_t>(world().rank()), 7);
  const auto all = world().all_gather(mine);
  for (std::size_t r = 0; r < all.size(); ++r) {
    BOOST_TEST(all[r] == std::vector<std::int64_t>(r, 7));
  }
}

// ---- collectives ----

BOOST_AUTO_TEST_CASE_TEMPLATE(broadcast_copies_src_values_to_every_rank, T, Types) {
  for (const Shape& shape : kShapes) {
    for (int src = 0; src < world().size(); ++src) {
      BOOST_TEST_CONTEXT("shape " << to_string(shape) << " src " << src) {
        Tensor<T> t = rank_values<T>(shape, world().rank());
        world().broadcast(t, src);
        BOOST_TEST(equal_arrays(t.data(), rank_values<T>(shape, src).data()));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(all_reduce_sums_in_rank_order_bit_identically, T, Types) {
  for (const Shape& shape : kShapes) {
    for (ReduceOp op : {ReduceOp::SUM, ReduceOp::AVG}) {
      BOOST_TEST_CONTEXT("shape " << to_string(shape) << " op "
                                  << (op == ReduceOp::SUM ? "SUM" : "AVG")) {
        Tensor<T> t = rank_values<T>(shape, world().rank());
        world().all_reduce(t, op);
        // Note [Reduction order]: ((x_0 + x_1) + x_2) ..., then / W.
        xt::xarray<T> expected = rank_values<T>(shape, 0).data();
        for (int r = 1; r < world().size(); ++r) {
          const xt::xarray<T> x = rank_values<T>(shape, r).data();
          for (std::size_t i = 0; i < expected.size(); ++i) expected.data()[i] += x.data()[i];
        }
        if (op == ReduceOp::AVG) {
          for (auto& v : expected) v /= static_cast<T>(world().size());
        }
        BOOST_TEST(equal_arrays(t.data(), expected));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_checked_collective_is_two_calls_a_flat_one_is_one) {
  world().reset_stats();
  Tensor<double> t = ones<double>({5});
  world().all_reduce(t);
  BOOST_TEST(world().stats().calls == 2u);  // the signature all-gather, the all-reduce
  std::vector<float> flat(5, 1.0f);
  world().all_reduce_buffer(flat.data(), flat.size(), ReduceOp::SUM);
  BOOST_TEST(world().stats().calls == 3u);
  BOOST_TEST(flat[4] == static_cast<float>(world().size()));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_non_blocking_all_reduce_gives_the_blocking_ones_bits, T, Types) {
  // Several in flight at once, of sizes that do not split evenly (on 3
  // ranks, 2 elements make chunks of 1, 1 and 0), started before a blocking
  // all-reduce on even ranks and after it on odd ones, waited for in reverse.
  const std::vector<std::size_t> sizes = {1001, 0, 7, 2, 64};
  std::vector<Tensor<T>> blocking, async;
  std::vector<xgrad::distributed::Work> works;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    blocking.push_back(rank_values<T>({sizes[k]}, world().rank()));
    async.push_back(rank_values<T>({sizes[k]}, world().rank()));
  }
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const ReduceOp op = k % 2 == 0 ? ReduceOp::AVG : ReduceOp::SUM;
    T* data = async[k].mutable_data().data();
    if (world().rank() % 2 == 0)
      works.push_back(world().all_reduce_buffer_async(data, sizes[k], op));
    world().all_reduce_buffer(blocking[k].mutable_data().data(), sizes[k], op);
    if (world().rank() % 2 == 1)
      works.push_back(world().all_reduce_buffer_async(data, sizes[k], op));
  }
  for (std::size_t k = sizes.size(); k-- > 0;) works[k].wait();
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    BOOST_TEST_CONTEXT("size " << sizes[k]) {
      BOOST_TEST(works[k].is_completed());
      BOOST_TEST(equal_arrays(async[k].data(), blocking[k].data()));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_non_blocking_all_reduce_completes_by_polling) {
  std::vector<double> values(100, static_cast<double>(world().rank() + 1));
  auto work = world().all_reduce_buffer_async(values.data(), values.size(), ReduceOp::SUM);
  while (!work.is_completed()) {
  }
  const double expected = world().size() * (world().size() + 1) / 2.0;
  BOOST_TEST(values[99] == expected);
  BOOST_TEST(xgrad::distributed::Work().is_completed());  // nothing to do
}

BOOST_AUTO_TEST_CASE(different_shapes_are_a_shape_error_on_every_rank,
                     *boost::unit_test::precondition(several_ranks)) {
  // Rank 1 passes [3], the others [4]: no rank may hang, all must throw.
  Tensor<double> t = zeros<double>({world().rank() == 1 ? 3u : 4u});
  BOOST_CHECK_EXCEPTION(world().all_reduce(t), ShapeError,
                        mentions<ShapeError>("all_reduce: the ranks disagree: rank 0 passes a "
                                             "double tensor [4] with op SUM, rank 1 passes a "
                                             "double tensor [3] with op SUM"));
  BOOST_CHECK_THROW(world().broadcast(t, 0), ShapeError);
  BOOST_TEST(t.data() == xt::xarray<double>(xt::zeros<double>(t.shape())));  // unchanged
  // The group works afterwards.
  Tensor<double> one = ones<double>({2});
  world().all_reduce(one);
  BOOST_TEST(one.data()(0) == world().size());
}

BOOST_AUTO_TEST_CASE(different_element_types_ops_or_roots_are_a_shape_error_on_every_rank,
                     *boost::unit_test::precondition(several_ranks)) {
  Tensor<float> f = zeros<float>({2});
  Tensor<double> d = zeros<double>({2});
  auto mixed_types = [&] { world().rank() == 1 ? world().all_reduce(f) : world().all_reduce(d); };
  BOOST_CHECK_EXCEPTION(mixed_types(), ShapeError, mentions<ShapeError>("a float tensor [2]"));
  BOOST_CHECK_EXCEPTION(world().all_reduce(d, world().rank() == 1 ? ReduceOp::AVG : ReduceOp::SUM),
                        ShapeError, mentions<ShapeError>("with op AVG"));
  // A src out of range on rank 1 only: still a ShapeError everywhere.
  BOOST_CHECK_EXCEPTION(world().broadcast(d, world().rank() == 1 ? world().size() : 0), ShapeError,
                        mentions<ShapeError>("with src " + std::to_string(world().size())));
}

BOOST_AUTO_TEST_CASE(bad_arguments_on_every_rank_are_value_errors) {
  Tensor<double> t = zeros<double>({2});
  BOOST_CHECK_EXCEPTION(world().broadcast(t, world().size()), ValueError,
                        mentions<ValueError>("broadcast: src must be a rank in [0, " +
                                             std::to_string(world().size()) + "), got " +
                                             std::to_string(world().size())));
  BOOST_CHECK_EXCEPTION(world().broadcast(t, -1), ValueError, mentions<ValueError>("got -1"));
  Tensor<double> undefined;
  BOOST_CHECK_EXCEPTION(world().all_reduce(undefined), ValueError,
                        mentions<ValueError>("all_reduce: tensor is undefined"));
  BOOST_CHECK_EXCEPTION(world().broadcast(undefined), ValueError,
                        mentions<ValueError>("broadcast: tensor is undefined"));
}

// ---- DistributedDataParallel ----

namespace {

// 2 -> 8 -> BatchNorm1d -> tanh -> 3, initialized from `seed`.
std::shared_ptr<nn::Sequential<double>> make_model(std::uint64_t seed, std::size_t hidden = 8) {
  Generator gen(seed);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(std::make_shared<nn::Linear<double>>(2, hidden, true, gen));
  model->push_back(std::make_shared<nn::BatchNorm1d<double>>(hidden));
  model->push_back(std::make_shared<nn::Tanh<double>>());
  model->push_back(std::make_shared<nn::Linear<double>>(hidden, 3, true, gen));
  return model;
}

// 2 -> 16 -> tanh -> 3 for the training comparisons: no BatchNorm, whose
// batch statistics depend on how the batch is split (PyTorch's SyncBatchNorm
// exists for that).
std::shared_ptr<nn::Sequential<double>> make_mlp(std::uint64_t seed) {
  Generator gen(seed);
  const std::size_t hidden = 16;
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(std::make_shared<nn::Linear<double>>(2, hidden, true, gen));
  model->push_back(std::make_shared<nn::Tanh<double>>());
  model->push_back(std::make_shared<nn::Linear<double>>(hidden, 3, true, gen));
  return model;
}

// max |a - b| <= rtol * max |b|: relative to the tensor's scale, since single
// elements may be near 0.
boost::test_tools::predicate_result relatively_close(const xt::xarray<double>& a,
                                                     const xt::xarray<double>& b, double rtol) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(b.data()[i]));
  }
  boost::test_tools::predicate_result r(a.shape() == b.shape() && diff <= rtol * scale);
  r.message() << "max difference " << diff << ", scale " << scale << ", rtol " << rtol;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(construction_copies_rank_0s_parameters_and_buffers) {
  auto model = make_model(100 + static_cast<std::uint64_t>(world().rank()));
  // A buffer that differs by rank too.
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm1d<double>>(model->children()[1]);
  bn->running_mean.fill_(static_cast<double>(world().rank()));
  DistributedDataParallel<double> ddp(model, world());

  auto reference = make_model(100);
  const auto expected = reference->state_dict();
  const auto actual = model->state_dict();
  BOOST_TEST_REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    BOOST_TEST_CONTEXT(actual[i].first) {
      if (actual[i].first == "1.running_mean") {
        BOOST_TEST(equal_arrays(actual[i].second, xt::xarray<double>(xt::zeros<double>({8}))));
      } else {
        BOOST_TEST(equal_arrays(actual[i].second, expected[i].second));
      }
    }
  }
  // PyTorch's naming: the wrapped module is the child "module".
  BOOST_TEST(ddp.state_dict()[0].first == "module.0.weight");
  BOOST_TEST(ddp.parameters().size() == model->parameters().size());
}

BOOST_AUTO_TEST_CASE(different_models_are_a_shape_error_on_every_rank,
                     *boost::unit_test::precondition(several_ranks)) {
  // Rank 1's hidden layer is wider; parameter 0 is the first to differ.
  auto wider = make_model(1, world().rank() == 1 ? 9 : 8);
  BOOST_CHECK_EXCEPTION(
      DistributedDataParallel<double>(wider, world()), ShapeError,
      mentions<ShapeError>("DistributedDataParallel: the ranks' models differ: parameter 0 "
                           "('0.weight' on this rank) is [8, 2] on rank 0 and [9, 2] on rank 1"));
  // A missing layer: the counts differ.
  auto model = make_model(1);
  if (world().rank() == 1) model->push_back(std::make_shared<nn::Linear<double>>(3, 3));
  BOOST_CHECK_EXCEPTION(DistributedDataParallel<double>(model, world()), ShapeError,
                        mentions<ShapeError>("rank 0 has 6 parameters and 3 buffers, rank 1 "
                                             "has 8 and 3"));
  // A null module on one rank only.
  std::shared_ptr<Module<double>> none;
  BOOST_CHECK_EXCEPTION(
      DistributedDataParallel<double>(world().rank() == 1 ? none : make_model(1), world()),
      ShapeError, mentions<ShapeError>("the module is null on rank 1"));
}

BOOST_AUTO_TEST_CASE(bad_arguments_on_every_rank_are_value_errors_for_ddp) {
  BOOST_CHECK_EXCEPTION(DistributedDataParallel<double>(nullptr, world()), ValueError,
                        mentions<ValueError>("module is null"));
  BOOST_CHECK_EXCEPTION(DistributedDataParallel<double>(make_model(1), world(), 0), ValueError,
                        mentions<ValueError>("bucket_cap_bytes must be >= 1, got 0"));
}

BOOST_AUTO_TEST_CASE(buckets_hold_the_last_parameters_first) {
  // Parameters (doubles): 0.weight 16, 0.bias 8, 1.weight 8, 1.bias 8,
  // 3.weight 24, 3.bias 3. A cap of 200 bytes (25 doubles) packs, from the
  // last parameter backwards, {3}, {24}, {8, 8, 8}, {16}.
  DistributedDataParallel<double> ddp(make_model(1), world(), 200);
  using Range = std::pair<std::size_t, std::size_t>;
  BOOST_TEST(ddp.buckets() == (std::vector<Range>{{5, 6}, {4, 5}, {1, 4}, {0, 1}}));
  DistributedDataParallel<double> one_bucket(make_model(1), world());
  BOOST_TEST(one_bucket.buckets() == (std::vector<Range>{{0, 6}}));
}

BOOST_AUTO_TEST_CASE(the_first_bucket_holds_at_most_1_mib) {
  // Two 300 x 300 layers in double: 720,000 + 2,400 bytes each. The last
  // layer and the first bias fill the first bucket (1 MiB); the first weight
  // goes to the second (25 MB).
  Generator gen(1);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(std::make_shared<nn::Linear<double>>(300, 300, true, gen));
  model->push_back(std::make_shared<nn::Linear<double>>(300, 300, true, gen));
  DistributedDataParallel<double> ddp(model, world());
  using Range = std::pair<std::size_t, std::size_t>;
  BOOST_TEST(ddp.buckets() == (std::vector<Range>{{1, 4}, {0, 1}}));
}

namespace {

// The identity, whose backward throws.
struct FailingBackward : Function<FailingBackward> {
  static constexpr const char* name = "FailingBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& x) {
    return x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>&) {
    throw ValueError("FailingBackward: asked to fail");
  }
};

// 2 -> 4 -> tanh -> 3, with a probe: the number of collectives the group had
// started when the first layer's weight gradient was complete.
struct Probed {
  std::shared_ptr<nn::Sequential<double>> model = std::make_shared<nn::Sequential<double>>();
  std::shared_ptr<nn::Linear<double>> first, last;
  std::uint64_t calls_at_first_weight = 0;
  Probed() {
    Generator gen(5);
    first = std::make_shared<nn::Linear<double>>(2, 4, true, gen);
    last = std::make_shared<nn::Linear<double>>(4, 3, true, gen);
    model->push_back(first);
    model->push_back(std::make_shared<nn::Tanh<double>>());
    model->push_back(last);
    // Registered before the wrapper's hooks, so it runs before them.
    first->weight.register_hook(
        [this](const Tensor<double>&) { calls_at_first_weight = world().stats().calls; });
  }
};

// This rank's batch of 4 rows and its loss.
Tensor<double> loss_of(Module<double>& model, int rank, double scale = 1.0) {
  Tensor<double> x = rank_values<double>({4, 2}, rank);
  x.mutable_data() *= 1e-8 * scale;
  return cross_entropy(model.forward(x), Labels{0, 1, 2, 0});
}

// Calls all_reduce_gradients() and checks that it gives, bit for bit, each
// parameter's gradient reduced after backward, one by one, with the blocking
// all-reduce (zeros for a rank without one); the parameters listed in
// `without_gradient` must keep none.
void check_all_reduce_gradients(DistributedDataParallel<double>& ddp,
                                const std::vector<std::size_t>& without_gradient = {}) {
  const auto params = ddp.module()->parameters();
  std::vector<xt::xarray<double>> expected;
  for (const auto& p : params) {
    Tensor<double> g = p.grad().defined() ? p.grad().clone().detach() : zeros<double>(p.shape());
    world().all_reduce(g, ReduceOp::AVG);
    expected.push_back(g.data());
  }
  ddp.all_reduce_gradients();
  for (std::size_t i = 0; i < params.size(); ++i) {
    BOOST_TEST_CONTEXT("parameter " << i) {
      const bool none =
          std::find(without_gradient.begin(), without_gradient.end(), i) != without_gradient.end();
      BOOST_TEST_REQUIRE(params[i].grad().defined() == !none);
      if (!none) BOOST_TEST(equal_arrays(params[i].grad().data(), expected[i]));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(backward_starts_each_bucket_once_it_is_full_in_order) {
  // One bucket per parameter: last.bias, last.weight, first.bias,
  // first.weight. The last layer's two start during its node; the first
  // layer's when its node has run. With one process nothing is reduced.
  Probed probed;
  DistributedDataParallel<double> ddp(probed.model, world(), 1);
  world().reset_stats();
  loss_of(ddp, world().rank()).backward();
  const std::uint64_t during_backward = world().stats().calls;
  ddp.all_reduce_gradients();
  if (world().size() == 1) {
    BOOST_TEST(world().stats().calls == 0u);
    return;
  }
  BOOST_TEST(probed.calls_at_first_weight >= 2u);  // the last layer's buckets
  BOOST_TEST(probed.calls_at_first_weight < 4u);   // not the first weight's
  BOOST_TEST(during_backward == 4u);
  BOOST_TEST(world().stats().calls == 4u);  // all_reduce_gradients started none
}

BOOST_AUTO_TEST_CASE(overlapped_means_equal_reducing_after_backward_bit_for_bit) {
  for (std::size_t cap : {std::size_t(1), std::size_t(200),
                          DistributedDataParallel<double>::kDefaultBucketCapBytes}) {
    BOOST_TEST_CONTEXT("bucket cap " << cap) {
      auto model = make_model(1);
      DistributedDataParallel<double> ddp(model, world(), cap);
      loss_of(ddp, world().rank()).backward();
      check_all_reduce_gradients(ddp);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradients_accumulated_over_two_backwards_are_reduced_once) {
  // The second backward finds the first one's reductions in flight: they are
  // finished and dropped, and the accumulated gradients are reduced.
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  loss_of(ddp, world().rank()).backward();
  loss_of(ddp, world().rank(), 3.0).backward();
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_gradient_accumulated_onto_an_existing_one_is_reduced_as_committed) {
  // grad() holds a gradient from an earlier step; backward adds to it in place.
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  loss_of(ddp, world().rank()).backward();
  ddp.all_reduce_gradients();
  loss_of(ddp, world().rank(), 2.0).backward();
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_hook_registered_after_wrapping_changes_the_reduced_gradient) {
  // It runs after the wrapper's hook, so that parameter is packed from grad()
  // after backward instead.
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  Tensor<double> weight = model->parameters()[4];
  weight.register_hook([](const Tensor<double>& g) { return g * 2.0; });
  loss_of(ddp, world().rank()).backward();
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_frozen_parameter_gets_no_hook_and_keeps_no_gradient) {
  auto model = make_model(1);
  model->parameters()[0].set_requires_grad(false);
  DistributedDataParallel<double> ddp(model, world(), 200);
  loss_of(ddp, world().rank()).backward();
  check_all_reduce_gradients(ddp, {0});
}

BOOST_AUTO_TEST_CASE(ranks_that_reach_different_parameters_still_reduce_in_step) {
  // One bucket per parameter, the last layer's bias first. On odd ranks
  // backward reaches every parameter but that bias, so their other buckets
  // are full before the first one is: they still start only after it, in
  // all_reduce_gradients, in the order the even ranks start them during
  // backward (started in another order, their messages would not match).
  Probed probed;
  DistributedDataParallel<double> ddp(probed.model, world(), 1);
  if (world().rank() % 2 == 0) {
    loss_of(ddp, world().rank()).backward();
  } else {
    (sum(probed.first->weight) + sum(probed.first->bias) + sum(probed.last->weight)).backward();
  }
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_backward_that_threw_after_the_hooks_ran_is_refused_on_every_rank,
                     *boost::unit_test::precondition(several_ranks)) {
  // The input's node fails after every parameter's hook ran: their
  // reductions started, but no gradient was committed.
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  Tensor<double> x = rank_values<double>({4, 2}, world().rank());
  x.mutable_data() *= 1e-8;
  x.set_requires_grad(true);
  Tensor<double> loss = cross_entropy(ddp.forward(FailingBackward::apply(x)), Labels{0, 1, 2, 0});
  BOOST_CHECK_THROW(loss.backward(), ValueError);
  BOOST_TEST(!model->parameters()[0].grad().defined());
  BOOST_CHECK_EXCEPTION(ddp.all_reduce_gradients(), StateError,
                        mentions<StateError>("all_reduce_gradients: the gradient of parameter '"));
  // The next step works.
  loss_of(ddp, world().rank()).backward();
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_gradient_changed_between_backward_and_the_reduction_is_refused,
                     *boost::unit_test::precondition(several_ranks)) {
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  loss_of(ddp, world().rank()).backward();
  model->parameters()[2].grad().mutable_data() *= 0.5;  // clipping before averaging
  BOOST_CHECK_EXCEPTION(ddp.all_reduce_gradients(), StateError,
                        mentions<StateError>("gradient of parameter '1.weight' is not the one "
                                             "backward computed"));
  loss_of(ddp, world().rank()).backward();
  model->parameters()[2].zero_grad();
  BOOST_CHECK_THROW(ddp.all_reduce_gradients(), StateError);
}

BOOST_AUTO_TEST_CASE(a_parameter_or_gradient_resized_after_wrapping_is_a_shape_error) {
  // Every rank resizes the same way (a rank alone would throw alone: the
  // check is local, before anything starts). Nothing is reduced; restored,
  // the next step works. With one rank there is nothing to reduce or check.
  if (world().size() == 1) return;
  auto model = make_model(1);
  DistributedDataParallel<double> ddp(model, world(), 200);
  Tensor<double> weight = model->parameters()[4];  // "3.weight", [3, 8]
  const xt::xarray<double> kept = weight.data();
  weight.mutable_data() = xt::zeros<double>({2, 8});
  BOOST_CHECK_EXCEPTION(ddp.all_reduce_gradients(), ShapeError,
                        mentions<ShapeError>("all_reduce_gradients: parameter '3.weight' has 16 "
                                             "elements, but had 24 when the model was wrapped"));
  weight.mutable_data() = kept;
  loss_of(ddp, world().rank()).backward();
  weight.grad().mutable_data() = xt::zeros<double>({2});
  BOOST_CHECK_EXCEPTION(ddp.all_reduce_gradients(), ShapeError,
                        mentions<ShapeError>("the gradient of parameter '3.weight' has shape [2], "
                                             "the parameter [3, 8]"));
  for (auto& p : model->parameters()) p.zero_grad();
  loss_of(ddp, world().rank()).backward();
  check_all_reduce_gradients(ddp);
}

namespace {

// 150 -> 200 -> tanh -> 200 -> 3 in double: the middle weight (320,000
// bytes) gets its gradient before the first one (30,000 elements: more than
// an eighth of it).
std::shared_ptr<nn::Sequential<double>> make_wide_middle_model() {
  Generator gen(9);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(std::make_shared<nn::Linear<double>>(150, 200, true, gen));
  model->push_back(std::make_shared<nn::Tanh<double>>());
  model->push_back(std::make_shared<nn::Linear<double>>(200, 200, true, gen));
  model->push_back(std::make_shared<nn::Linear<double>>(200, 3, true, gen));
  return model;
}

// 200 -> 200 -> 3 in double: the first weight (320,000 bytes) gets its
// gradient last, so after the first step too it is reduced on grad().
std::shared_ptr<nn::Sequential<double>> make_wide_input_model() {
  Generator gen(10);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(std::make_shared<nn::Linear<double>>(200, 200, true, gen));
  model->push_back(std::make_shared<nn::Tanh<double>>());
  model->push_back(std::make_shared<nn::Linear<double>>(200, 3, true, gen));
  return model;
}

Tensor<double> wide_loss_of(Module<double>& model, int rank, double scale = 1.0,
                            std::size_t in = 200) {
  Tensor<double> x = rank_values<double>({4, in}, rank);
  x.mutable_data() *= 1e-10 * scale;
  return cross_entropy(model.forward(x), Labels{0, 1, 2, 0});
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_large_parameter_computed_last_is_reduced_in_place_without_copies) {
  // A cap of 100,000 bytes: the first weight gets a bucket of its own.
  auto model = make_wide_input_model();
  DistributedDataParallel<double> ddp(model, world(), 100000);
  using Range = std::pair<std::size_t, std::size_t>;
  BOOST_TEST(ddp.buckets() == (std::vector<Range>{{1, 4}, {0, 1}}));
  const std::uint64_t large = 200 * 200 * sizeof(double), small = (200 + 600 + 3) * sizeof(double);
  for (int step = 1; step <= 3; ++step) {
    BOOST_TEST_CONTEXT("step " << step) {
      for (auto& p : model->parameters()) p.zero_grad();
      wide_loss_of(ddp, world().rank(), step).backward();
      check_all_reduce_gradients(ddp);
      if (world().size() > 1) {
        // Every step: the small gradients copied in and out, the large one
        // reduced on grad() itself.
        BOOST_TEST(ddp.copy_stats().in_place_bytes == step * large);
        BOOST_TEST(ddp.copy_stats().packed_bytes == step * small);
        BOOST_TEST(ddp.copy_stats().unpacked_bytes == step * small);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_large_parameter_computed_early_is_packed_to_overlap_backward) {
  // The middle weight is alone in its bucket (a cap of 1,000 bytes). Step 1
  // leaves it to all_reduce_gradients (nothing is known yet); it shows that
  // the first layer's gradients came after it, so from step 2 its hook packs
  // and starts it during backward.
  auto model = make_wide_middle_model();
  DistributedDataParallel<double> ddp(model, world(), 1000);
  BOOST_TEST(ddp.buckets()[3].first == 2u);
  BOOST_TEST(ddp.buckets()[3].second == 3u);
  const std::uint64_t large = 200 * 200 * sizeof(double);
  for (int step = 1; step <= 3; ++step) {
    BOOST_TEST_CONTEXT("step " << step) {
      for (auto& p : model->parameters()) p.zero_grad();
      wide_loss_of(ddp, world().rank(), step, 150).backward();
      check_all_reduce_gradients(ddp);
      if (world().size() > 1) BOOST_TEST(ddp.copy_stats().in_place_bytes == large);
    }
  }
}

BOOST_AUTO_TEST_CASE(in_place_reductions_accumulate_like_the_packed_ones) {
  // Two backwards before the reduction, then one onto an existing gradient.
  auto model = make_wide_input_model();
  DistributedDataParallel<double> ddp(model, world(), 100000);
  wide_loss_of(ddp, world().rank()).backward();
  wide_loss_of(ddp, world().rank(), 3.0).backward();
  check_all_reduce_gradients(ddp);
  wide_loss_of(ddp, world().rank(), 2.0).backward();
  check_all_reduce_gradients(ddp);
}

BOOST_AUTO_TEST_CASE(a_large_parameter_without_gradient_on_some_ranks_gets_the_mean_with_zeros) {
  auto a = std::make_shared<nn::Linear<double>>(200, 200, false);
  auto b = std::make_shared<nn::Linear<double>>(200, 200, false);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(a);
  model->push_back(b);
  DistributedDataParallel<double> ddp(model, world(), 100000);  // one bucket each
  // Only rank 0 uses a (gradient 2 everywhere); nobody uses b.
  if (world().rank() == 0) sum(a->weight * 2.0).backward();
  ddp.all_reduce_gradients();
  BOOST_TEST_REQUIRE(a->weight.grad().defined());
  BOOST_TEST(a->weight.grad().data()(7, 5) == 2.0 / world().size());
  BOOST_TEST(!b->weight.grad().defined());
}

BOOST_AUTO_TEST_CASE(dropping_the_wrapper_finishes_its_reductions_and_removes_its_hooks) {
  auto model = make_model(1);
  {
    DistributedDataParallel<double> ddp(model, world(), 200);
    loss_of(ddp, world().rank()).backward();  // reductions in flight
  }
  for (auto& p : model->parameters()) p.zero_grad();
  world().reset_stats();
  loss_of(*model, world().rank()).backward();  // no hook left to call
  BOOST_TEST(world().stats().calls == 0u);
  BOOST_TEST(model->parameters()[0].grad().defined());
}

BOOST_AUTO_TEST_CASE(gradients_become_the_mean_over_ranks_bit_identical_everywhere) {
  DistributedDataParallel<double> ddp(make_model(1), world(), 200);
  // Gradients set by hand: rank r's gradient of every parameter is r + 1 + i / 8.
  for (auto& p : ddp.parameters()) {
    xt::xarray<double> g = xt::zeros<double>(p.shape());
    for (std::size_t i = 0; i < g.size(); ++i) g.data()[i] = world().rank() + 1 + i / 8.0;
    sum(p * Tensor<double>(g)).backward();  // p.grad() = g
  }
  ddp.all_reduce_gradients();
  for (auto& p : ddp.parameters()) {
    xt::xarray<double> expected = xt::zeros<double>(p.shape());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      double sum = 0;
      for (int r = 0; r < world().size(); ++r) sum += r + 1 + i / 8.0;
      expected.data()[i] = sum / world().size();
    }
    BOOST_TEST(equal_arrays(p.grad().data(), expected));
  }
}

BOOST_AUTO_TEST_CASE(a_parameter_without_gradient_on_some_ranks_gets_the_mean_with_zeros) {
  auto a = std::make_shared<nn::Linear<double>>(1, 1, false);
  auto b = std::make_shared<nn::Linear<double>>(1, 1, false);
  auto model = std::make_shared<nn::Sequential<double>>();
  model->push_back(a);
  model->push_back(b);
  DistributedDataParallel<double> ddp(model, world());
  // Only rank 0 uses a (gradient 2); nobody uses b.
  if (world().rank() == 0) sum(a->weight * 2.0).backward();
  ddp.all_reduce_gradients();
  BOOST_TEST_REQUIRE(a->weight.grad().defined());
  BOOST_TEST(a->weight.grad().data()(0, 0) == 2.0 / world().size());
  BOOST_TEST(!b->weight.grad().defined());
}

namespace {

// Trains make_mlp(7) for 20 steps (5 epochs of 4 batches of 12 rows from a
// 48-row spirals set) and returns its parameters. With ddp, each rank trains
// on its DistributedSampler shard with batches of 12 / W rows; without, one
// process sees the whole batch of 12 in the same epoch order.
template <class MakeOptimizer>
StateDict<double> train(bool ddp, MakeOptimizer make_optimizer) {
  Generator data_gen(3);
  const auto spirals = data::make_spirals<double>(16, 3, 0.05, data_gen);
  const std::size_t world_size = ddp ? static_cast<std::size_t>(world().size()) : 1;
  const std::size_t rank = ddp ? static_cast<std::size_t>(world().rank()) : 0;
  DistributedSampler sampler(spirals.size(), world_size, rank, true, 11);
  data::DataLoader<double> loader(spirals, 12 / world_size, [&] { return sampler.indices(); });

  auto model = make_mlp(7);
  std::shared_ptr<DistributedDataParallel<double>> wrapper;
  if (ddp) wrapper = std::make_shared<DistributedDataParallel<double>>(model, world());
  auto optimizer = make_optimizer(model->parameters());
  int steps = 0;
  for (std::uint64_t epoch = 0; epoch < 5; ++epoch) {
    sampler.set_epoch(epoch);
    for (const auto& batch : loader) {
      optimizer->zero_grad();
      cross_entropy(model->forward(batch.features), batch.labels).backward();
      if (wrapper) wrapper->all_reduce_gradients();
      optimizer->step();
      ++steps;
    }
  }
  BOOST_TEST(steps == 20);
  return model->state_dict();
}

template <class MakeOptimizer>
void check_training_matches_one_process(MakeOptimizer make_optimizer) {
  const StateDict<double> one = train(false, make_optimizer);
  const StateDict<double> many = train(true, make_optimizer);
  BOOST_TEST_REQUIRE(one.size() == many.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    BOOST_TEST_CONTEXT(one[i].first) {
      // Both runs add the same per-row gradients in different orders: each
      // step's gradient sums of 12 rows differ by at most 2 gamma_12 = 2.7e-15
      // of sum |terms| (test_util.hpp); 20 steps, with momentum 0.9 weighing
      // a gradient at most 10 times, accumulate at most ~20 * 10 * 2.7e-15 =
      // 5e-13 of the parameters' scale on this small, non-expanding model.
      // (Measured under the Prescott, Haswell, SkylakeX, Zen and Cooperlake
      // kernel sets at 2 and 3 ranks: 2.5e-15.)
      BOOST_TEST(relatively_close(many[i].second, one[i].second, 1e-12));
      // And every rank holds exactly rank 0's parameters.
      Tensor<double> mine(many[i].second);
      Tensor<double> rank0 = Tensor<double>(many[i].second).clone().detach();
      world().broadcast(rank0, 0);
      BOOST_TEST(equal_arrays(mine.data(), rank0.data()));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_on_w_ranks_with_batch_b_over_w_matches_one_process_with_batch_b) {
  check_training_matches_one_process([](std::vector<Tensor<double>> params) {
    return std::make_unique<optim::SGD<double>>(
        std::move(params), optim::SGDOptions(0.5).momentum(0.9).weight_decay(1e-3));
  });
}

BOOST_AUTO_TEST_CASE(adam_on_w_ranks_with_batch_b_over_w_matches_one_process_with_batch_b) {
  check_training_matches_one_process([](std::vector<Tensor<double>> params) {
    return std::make_unique<optim::Adam<double>>(std::move(params), optim::AdamOptions(0.05));
  });
}
