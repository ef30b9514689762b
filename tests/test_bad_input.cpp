// Bad input across the public API, as one table: every row is a call a
// hostile but fair user could make, the error type it must raise, a part of
// the message naming the argument (or the op and value), and the objects that
// must be unchanged afterwards (data, version, grad and requires_grad of
// tensors; state and mode of modules). A second suite turns allocation
// failure and impossible sizes into typed errors (with an allocator that
// refuses large requests, so no machine has to run out of memory).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "alloc_limit.hpp"
#include "test_util.hpp"
#include "xgrad/data.hpp"
#include "xgrad/function.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/gradcheck.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/fusion.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/batch_norm.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/dropout.hpp"
#include "xgrad/ops/elementwise.hpp"
#include "xgrad/ops/indexing.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/ops/softmax.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/quant/apot/quantizer.hpp"
#include "xgrad/quant/apot/visualization.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize_function.hpp"
#include "xgrad/quant/fake_quantize/lsq_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/per_channel_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/rcf_fake_quantize.hpp"
#include "xgrad/quant/levels/apot_codebook.hpp"
#include "xgrad/quant/levels/level_set.hpp"
#include "xgrad/quant/qat/conv2d.hpp"
#include "xgrad/quant/qat/linear.hpp"
#include "xgrad/quant/qat/qconfig.hpp"
#include "xgrad/quant/qat/weight_norm.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"
#include "xgrad/random.hpp"
#include "xgrad/serialize.hpp"

using namespace xgrad;
using namespace xgrad::quant;
using xgrad_test::AllocationLimit;
using xgrad_test::contains;
using xgrad_test::TempDir;

namespace {

using D = Tensor<double>;
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

enum class Kind { Shape, Value, State, Type, IO, Resource };

const char* name_of(Kind k) {
  switch (k) {
    case Kind::Shape:
      return "ShapeError";
    case Kind::Value:
      return "ValueError";
    case Kind::State:
      return "StateError";
    case Kind::Type:
      return "TypeError";
    case Kind::IO:
      return "IOError";
    case Kind::Resource:
      return "ResourceError";
  }
  return "?";
}

bool is_kind(const Error& e, Kind k) {
  switch (k) {
    case Kind::Shape:
      return dynamic_cast<const ShapeError*>(&e) != nullptr;
    case Kind::Value:
      return dynamic_cast<const ValueError*>(&e) != nullptr;
    case Kind::State:
      return dynamic_cast<const StateError*>(&e) != nullptr;
    case Kind::Type:
      return dynamic_cast<const TypeError*>(&e) != nullptr;
    case Kind::IO:
      return dynamic_cast<const IOError*>(&e) != nullptr;
    case Kind::Resource:
      return dynamic_cast<const ResourceError*>(&e) != nullptr;
  }
  return false;
}

// What "unchanged" means for a tensor: same bits, version, requires_grad and
// gradient; for a module: same state dict and training flag.
struct TensorSnapshot {
  D tensor;
  xt::xarray<double> data;
  std::uint64_t version;
  bool requires_grad;
  bool has_grad;
  xt::xarray<double> grad;
  explicit TensorSnapshot(const D& t)
      : tensor(t),
        data(t.data()),
        version(t.version()),
        requires_grad(t.requires_grad()),
        has_grad(t.grad().defined()),
        grad(has_grad ? t.grad().data() : xt::xarray<double>()) {}
  bool same() const {
    return xgrad_test::equal_arrays(tensor.data(), data) && tensor.version() == version &&
           tensor.requires_grad() == requires_grad && tensor.grad().defined() == has_grad &&
           (!has_grad || xgrad_test::equal_arrays(tensor.grad().data(), grad));
  }
};

struct ModuleSnapshot {
  std::shared_ptr<Module<double>> module;
  StateDict<double> state;
  bool training;
  explicit ModuleSnapshot(std::shared_ptr<Module<double>> m)
      : module(std::move(m)), state(module->state_dict()), training(module->is_training()) {}
  bool same() const {
    const auto now = module->state_dict();
    if (now.size() != state.size() || module->is_training() != training) return false;
    for (std::size_t i = 0; i < now.size(); ++i)
      if (now[i].first != state[i].first ||
          !xgrad_test::equal_arrays(now[i].second, state[i].second))
        return false;
    return true;
  }
};

struct Row {
  std::string what;
  Kind kind;
  std::string needle;  // part of the message: the argument, op or value
  std::function<void()> call;
  std::vector<D> tensors = {};
  std::vector<std::shared_ptr<Module<double>>> modules = {};
};

// A leaf of `shape` with distinct values, requiring grad.
D leaf(const Shape& shape) {
  xt::xarray<double> a = xt::xarray<double>::from_shape(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = 0.25 * double(i) - 1.0;
  return D(std::move(a), true);
}

// A user-defined op whose backward returns one gradient too many.
struct TwoGradientsForOne : Function<TwoGradientsForOne> {
  static constexpr const char* name = "TwoGradientsForOneBackward";
  template <class T>
  static xt::xarray<T> forward(Context<T>&, const Tensor<T>& x) {
    return x.data();
  }
  template <class T>
  static std::vector<xt::xarray<T>> backward(Context<T>&, const xt::xarray<T>& g) {
    return gradients(xt::xarray<T>(g), xt::xarray<T>(g));
  }
};

std::vector<Row> rows() {
  std::vector<Row> r;
  const D u;  // undefined
  Generator gen(5);

  // ---------------------------------------------------------------- creation
  r.push_back({"zeros: empty with overflowing extents", Kind::Value, "zeros", [] {
                 zeros<double>({0, std::size_t(1) << 32, std::size_t(1) << 32});
               }});
  r.push_back({"ones: too many elements", Kind::Value, "ones", [] {
                 ones<double>({std::size_t(1) << 62, 4});
               }});
  r.push_back({"full: too many elements", Kind::Value, "full", [] {
                 full<double>({std::size_t(1) << 40, std::size_t(1) << 40}, 1.0);
               }});
  r.push_back({"arange: step 0", Kind::Value, "step", [] { arange<double>(0, 1, 0); }});
  r.push_back(
      {"arange: wrong direction", Kind::Value, "moves away", [] { arange<double>(0, 1, -1); }});
  r.push_back({"arange: NaN stop", Kind::Value, "stop", [] { arange<double>(0, kNaN, 1); }});
  r.push_back(
      {"arange: too many", Kind::Value, "too many elements", [] { arange<double>(0, 1e20, 1); }});
  r.push_back(
      {"rand: low above high", Kind::Value, "low", [&gen] { rand<double>({2}, gen, 1.0, 0.0); }});
  r.push_back({"randn: negative stddev", Kind::Value, "stddev",
               [&gen] { randn<double>({2}, gen, 0.0, -1.0); }});
  r.push_back(
      {"randint: empty range", Kind::Value, "low", [&gen] { randint<double>(5, 5, {2}, gen); }});
  r.push_back({"randint: beyond exact integers", Kind::Value, "exact",
               [&gen] { randint<double>(0, std::int64_t(1) << 60, {2}, gen); }});
  r.push_back({"rand: too many elements", Kind::Value, "rand", [&gen] {
                 rand<double>({std::size_t(1) << 62, std::size_t(1) << 62}, gen, 0.0, 1.0);
               }});

  // ---------------------------------------------------------------- tensor
  {
    const D x = leaf({2});
    r.push_back({"item of two elements", Kind::Shape, "item", [x] { x.item(); }, {x}});
    r.push_back({"data of an undefined tensor", Kind::State, "undefined", [u] { u.data(); }});
    const D y = x * 2.0;
    r.push_back({"set_requires_grad on a non-leaf",
                 Kind::State,
                 "set_requires_grad",
                 [y] { D(y).set_requires_grad(false); },
                 {x}});
    r.push_back({"copy_ from undefined", Kind::Value, "source", [x, u] { D(x).copy_(u); }, {x}});
    const D z = zeros<double>({3});
    r.push_back({"copy_ of another shape",
                 Kind::Shape,
                 "copy_",
                 [z] { D(z).copy_(ones<double>({2})); },
                 {z}});
    r.push_back({"copy_ into a leaf requiring grad",
                 Kind::State,
                 "copy_",
                 [x] { D(x).copy_(ones<double>({2})); },
                 {x}});
    r.push_back(
        {"fill_ of a leaf requiring grad", Kind::State, "fill_", [x] { D(x).fill_(3.0); }, {x}});
  }

  // ---------------------------------------------------------------- backward
  {
    const D x = leaf({2, 2});
    const D y = x * 3.0;
    r.push_back({"backward of a non-scalar without gradient",
                 Kind::Shape,
                 "backward",
                 [y] { y.backward(); },
                 {x}});
    r.push_back({"backward of a tensor without grad", Kind::State, "does not require grad",
                 [] { zeros<double>({1}).backward(); }});
    r.push_back({"backward with a gradient of the wrong shape",
                 Kind::Shape,
                 "gradient shape",
                 [y] { y.backward(xt::xarray<double>::from_shape({3})); },
                 {x}});
    const D w = leaf({2});
    const D s = sum(exp(w));
    s.backward();
    r.push_back({"backward a second time", Kind::State, "second", [s] { s.backward(); }, {w}});
    const D v = leaf({2});
    const D e = exp(v * 1.0);  // exp saves its output
    const D out = sum(e);
    {
      NoGradGuard g;
      D(e).fill_(1.0);
    }
    r.push_back({"backward after a saved tensor was modified",
                 Kind::State,
                 "modified",
                 [out] { out.backward(); },
                 {v}});
    const D q = leaf({2});
    r.push_back({"a Function returning too many gradients",
                 Kind::Value,
                 "TwoGradientsForOneBackward: backward returned 2 gradients",
                 [q] { sum(TwoGradientsForOne::apply(q)).backward(); },
                 {q}});
  }

  // ---------------------------------------------------------------- elementwise
  {
    const D a = leaf({2, 3}), b = leaf({4, 3});
    using Bin = D (*)(const D&, const D&);
    const std::pair<const char*, Bin> binary[] = {
        {"add", &add<double>},        {"sub", &sub<double>},         {"mul", &mul<double>},
        {"div", &xgrad::div<double>}, {"minimum", &minimum<double>}, {"maximum", &maximum<double>}};
    for (const auto& op : binary) {
      const Bin f = op.second;
      r.push_back({std::string(op.first) + ": shapes that do not broadcast",
                   Kind::Shape,
                   "do not broadcast",
                   [f, a, b] { f(a, b); },
                   {a, b}});
      r.push_back({std::string(op.first) + ": undefined second operand",
                   Kind::Value,
                   "undefined",
                   [f, a, u] { f(a, u); },
                   {a}});
    }
    using Un = D (*)(const D&);
    const std::pair<const char*, Un> unary[] = {
        {"neg", &neg<double>},          {"exp", &xgrad::exp<double>},  {"log", &xgrad::log<double>},
        {"sqrt", &xgrad::sqrt<double>}, {"abs", &xgrad::abs<double>},  {"relu", &relu<double>},
        {"sigmoid", &sigmoid<double>},  {"tanh", &xgrad::tanh<double>}};
    for (const auto& op : unary) {
      const Un f = op.second;
      r.push_back({std::string(op.first) + ": undefined input", Kind::Value, "undefined",
                   [f, u] { f(u); }});
    }
    r.push_back({"pow: undefined", Kind::Value, "undefined", [u] { xgrad::pow(u, 2.0); }});
    r.push_back({"add scalar: undefined", Kind::Value, "undefined", [u] { add(u, 1.0); }});
    r.push_back({"clamp: lo above hi",
                 Kind::Value,
                 "must not exceed hi",
                 [a] { clamp(a, 1.0, 0.0); },
                 {a}});
    r.push_back(
        {"clamp: NaN lo", Kind::Value, "lo must not be NaN", [a] { clamp(a, kNaN, 1.0); }, {a}});
    r.push_back(
        {"clamp: NaN hi", Kind::Value, "hi must not be NaN", [a] { clamp(a, 0.0, kNaN); }, {a}});
    r.push_back({"clamp_min: NaN", Kind::Value, "clamp_min: lo", [a] { clamp_min(a, kNaN); }, {a}});
    r.push_back({"clamp_max: NaN", Kind::Value, "clamp_max: hi", [a] { clamp_max(a, kNaN); }, {a}});
    r.push_back({"where: condition of another shape",
                 Kind::Shape,
                 "where",
                 [a] { where(xt::xarray<bool>::from_shape({5}), a, a); },
                 {a}});
    r.push_back({"where: undefined branch",
                 Kind::Value,
                 "undefined",
                 [a, u] {
                   where(xt::xarray<bool>::from_shape({2, 3}), a, u);
                 },
                 {a}});
  }

  // ---------------------------------------------------------------- reductions
  {
    const D a = leaf({2, 3});
    r.push_back({"sum: axis out of range", Kind::Shape, "sum", [a] { sum(a, {2}); }, {a}});
    r.push_back({"sum: repeated axis", Kind::Shape, "sum", [a] { sum(a, {0, 0}); }, {a}});
    r.push_back(
        {"sum: negative axis out of range", Kind::Shape, "sum", [a] { sum(a, {-3}); }, {a}});
    r.push_back({"mean: axis out of range", Kind::Shape, "mean", [a] { mean(a, {5}); }, {a}});
    r.push_back({"max: axis out of range", Kind::Shape, "max", [a] { xgrad::max(a, 2); }, {a}});
    r.push_back({"max: over an empty axis", Kind::Shape, "max", [] {
                   xgrad::max(zeros<double>({0, 3}), 0);
                 }});
    r.push_back({"sum: undefined", Kind::Value, "sum: input", [u] { sum(u); }});
    r.push_back({"mean: undefined", Kind::Value, "mean: input", [u] { mean(u); }});
    r.push_back({"sum over axes: undefined", Kind::Value, "sum: input", [u] { sum(u, {0}); }});
    r.push_back({"max: undefined", Kind::Value, "max: input", [u] { xgrad::max(u, 0); }});
  }

  // ---------------------------------------------------------------- shape ops
  {
    const D a = leaf({2, 3});
    r.push_back({"transpose: 3-D without perm", Kind::Shape, "transpose", [] {
                   transpose(zeros<double>({2, 2, 2}));
                 }});
    r.push_back({"transpose: not a permutation",
                 Kind::Shape,
                 "not a permutation",
                 [a] {
                   transpose(a, {0, 0});
                 },
                 {a}});
    r.push_back({"transpose: perm too long",
                 Kind::Shape,
                 "transpose",
                 [a] {
                   transpose(a, {0, 1, 2});
                 },
                 {a}});
    r.push_back({"transpose: undefined", Kind::Value, "transpose: input", [u] { transpose(u); }});
    r.push_back({"reshape: count differs", Kind::Shape, "reshape", [a] { reshape(a, {4}); }, {a}});
    r.push_back({"reshape: two -1",
                 Kind::Shape,
                 "only one extent may be -1",
                 [a] {
                   reshape(a, {-1, -1});
                 },
                 {a}});
    r.push_back({"reshape: negative extent",
                 Kind::Shape,
                 "negative",
                 [a] {
                   reshape(a, {-2, 3});
                 },
                 {a}});
    r.push_back({"reshape: -1 not dividing",
                 Kind::Shape,
                 "divisible",
                 [a] {
                   reshape(a, {-1, 4});
                 },
                 {a}});
    r.push_back({"reshape: ambiguous -1", Kind::Shape, "ambiguous", [] {
                   reshape(zeros<double>({0}), {0, -1});
                 }});
    r.push_back({"reshape: undefined", Kind::Value, "reshape: input", [u] { reshape(u, {1}); }});
    r.push_back(
        {"concat: nothing", Kind::Shape, "at least one tensor", [] { concat<double>({}, 0); }});
    r.push_back({"concat: mismatched shapes",
                 Kind::Shape,
                 "concat: tensor 1",
                 [a] {
                   concat<double>({a, zeros<double>({2, 4})}, 0);
                 },
                 {a}});
    r.push_back({"concat: undefined tensor",
                 Kind::Value,
                 "concat: tensor 1",
                 [a, u] {
                   concat<double>({a, u}, 0);
                 },
                 {a}});
    r.push_back({"concat: axis out of range",
                 Kind::Shape,
                 "concat",
                 [a] {
                   concat<double>({a, a}, 2);
                 },
                 {a}});
    r.push_back({"index_select: index out of range",
                 Kind::Value,
                 "index 5",
                 [a] {
                   index_select(a, 1, {0, 5});
                 },
                 {a}});
    r.push_back({"index_select: axis out of range",
                 Kind::Shape,
                 "index_select",
                 [a] { index_select(a, 2, {0}); },
                 {a}});
    r.push_back({"index_select: undefined", Kind::Value, "index_select: input",
                 [u] { index_select(u, 0, {0}); }});
  }

  // ---------------------------------------------------------------- linalg
  {
    const D a = leaf({2, 3}), b = leaf({4, 2});
    r.push_back(
        {"matmul: inner extents differ", Kind::Shape, "matmul", [a, b] { matmul(a, b); }, {a, b}});
    r.push_back({"matmul: 3-D operand",
                 Kind::Shape,
                 "matmul",
                 [a] {
                   matmul(zeros<double>({2, 2, 2}), a);
                 },
                 {a}});
    r.push_back({"matmul: undefined b", Kind::Value, "matmul: b", [a, u] { matmul(a, u); }, {a}});
    r.push_back({"matmul: undefined a", Kind::Value, "matmul: a", [a, u] { matmul(u, a); }, {a}});
    r.push_back({"linear: weight of the wrong width",
                 Kind::Shape,
                 "linear",
                 [a, b] { linear(a, b); },
                 {a, b}});
    r.push_back({"linear: bias of the wrong size",
                 Kind::Shape,
                 "linear",
                 [a] {
                   linear(a, zeros<double>({4, 3}), zeros<double>({3}));
                 },
                 {a}});
    r.push_back(
        {"linear: undefined weight", Kind::Value, "linear: weight", [a, u] { linear(a, u); }, {a}});
    r.push_back(
        {"linear: undefined input", Kind::Value, "linear: input", [b, u] { linear(u, b); }, {b}});
    r.push_back(
        {"linear: 1-D weight", Kind::Shape, "linear", [a] { linear(a, zeros<double>({3})); }, {a}});
  }

  // ---------------------------------------------------------------- softmax, losses
  {
    const D a = leaf({2, 3});
    r.push_back({"softmax: axis out of range",
                 Kind::Shape,
                 "softmax: axis 2",
                 [a] { softmax(a, 2); },
                 {a}});
    r.push_back({"log_softmax: axis out of range",
                 Kind::Shape,
                 "log_softmax: axis -3",
                 [a] { log_softmax(a, -3); },
                 {a}});
    r.push_back({"softmax: undefined", Kind::Value, "undefined", [u] { softmax(u, 0); }});
    r.push_back({"mse_loss: shapes differ",
                 Kind::Shape,
                 "mse_loss: input shape",
                 [a] {
                   mse_loss(a, zeros<double>({3, 2}));
                 },
                 {a}});
    r.push_back({"mse_loss: undefined target",
                 Kind::Value,
                 "mse_loss: target",
                 [a, u] { mse_loss(a, u); },
                 {a}});
    r.push_back({"mse_loss: unknown reduction",
                 Kind::Value,
                 "unknown reduction 7",
                 [a] { mse_loss(a, a, static_cast<Reduction>(7)); },
                 {a}});
    const Labels good = {0, 2};
    r.push_back({"cross_entropy: label out of range",
                 Kind::Value,
                 "label at position 1 is 3",
                 [a] {
                   cross_entropy(a, Labels({0, 3}));
                 },
                 {a}});
    r.push_back({"cross_entropy: negative label",
                 Kind::Value,
                 "is -1",
                 [a] {
                   cross_entropy(a, Labels({-1, 0}));
                 },
                 {a}});
    r.push_back({"cross_entropy: too many labels",
                 Kind::Shape,
                 "input has 2 rows",
                 [a] {
                   cross_entropy(a, Labels({0, 1, 2}));
                 },
                 {a}});
    r.push_back({"cross_entropy: 1-D input", Kind::Shape, "expected input of shape [N, C]",
                 [good] { cross_entropy(zeros<double>({3}), good); }});
    r.push_back({"cross_entropy: 2-D labels",
                 Kind::Shape,
                 "expected labels of shape [N]",
                 [a] {
                   cross_entropy(a, Labels({{0, 1}}));
                 },
                 {a}});
    r.push_back({"cross_entropy: undefined logits", Kind::Value, "cross_entropy: logits",
                 [u, good] { cross_entropy(u, good); }});
    r.push_back({"cross_entropy: unknown reduction",
                 Kind::Value,
                 "unknown reduction",
                 [a, good] { cross_entropy(a, good, static_cast<Reduction>(9)); },
                 {a}});
    r.push_back({"nll_loss: label out of range",
                 Kind::Value,
                 "nll_loss: label",
                 [a] {
                   nll_loss(a, Labels({0, 7}));
                 },
                 {a}});
    r.push_back({"nll_loss: undefined", Kind::Value, "nll_loss: log_probs",
                 [u, good] { nll_loss(u, good); }});
    r.push_back({"nll_loss: labels of another length",
                 Kind::Shape,
                 "nll_loss: input has",
                 [a] { nll_loss(a, Labels({0})); },
                 {a}});
  }

  // ---------------------------------------------------------------- dropout, batch_norm ops
  {
    const D a = leaf({4, 3});
    r.push_back({"dropout: p = 1", Kind::Value, "dropout: p", [a] { dropout(a, 1.0); }, {a}});
    r.push_back({"dropout: negative p", Kind::Value, "dropout: p", [a] { dropout(a, -0.1); }, {a}});
    r.push_back({"dropout: NaN p", Kind::Value, "dropout: p", [a] { dropout(a, kNaN); }, {a}});
    r.push_back({"dropout: undefined", Kind::Value, "dropout: input", [u] { dropout(u, 0.5); }});
    const D rm = zeros<double>({3}), rv = ones<double>({3});
    r.push_back({"batch_norm: 1-D input",
                 Kind::Shape,
                 "batch_norm: input",
                 [rm, rv, u] { batch_norm(zeros<double>({3}), rm, rv, u, u, true, 0.1, 1e-5); },
                 {rm, rv}});
    r.push_back({"batch_norm: running_mean of the wrong size",
                 Kind::Shape,
                 "running_mean",
                 [a, rv, u] { batch_norm(a, zeros<double>({2}), rv, u, u, true, 0.1, 1e-5); },
                 {a, rv}});
    r.push_back({"batch_norm: momentum above 1",
                 Kind::Value,
                 "momentum",
                 [a, rm, rv, u] { batch_norm(a, rm, rv, u, u, true, 1.5, 1e-5); },
                 {a, rm, rv}});
    r.push_back({"batch_norm: zero eps",
                 Kind::Value,
                 "eps",
                 [a, rm, rv, u] { batch_norm(a, rm, rv, u, u, true, 0.1, 0.0); },
                 {a, rm, rv}});
    r.push_back({"batch_norm: eval without running stats",
                 Kind::Value,
                 "running_mean",
                 [a, u] { batch_norm(a, u, u, u, u, false, 0.1, 1e-5); },
                 {a}});
    r.push_back({"batch_norm: one value per channel",
                 Kind::Value,
                 "batch_norm",
                 [rm, rv, u] {
                   batch_norm(zeros<double>({1, 3}), rm, rv, u, u, true, 0.1, 1e-5);
                 },
                 {rm, rv}});
    r.push_back({"batch_norm: undefined input",
                 Kind::Value,
                 "batch_norm: input",
                 [rm, rv, u] { batch_norm(u, rm, rv, u, u, true, 0.1, 1e-5); },
                 {rm, rv}});
  }

  // ---------------------------------------------------------------- conv, pooling, BatchNorm2d
  {
    const D x = leaf({1, 2, 5, 5}), w = leaf({4, 2, 3, 3}), b = leaf({4});
    r.push_back({"conv2d: 3-D input",
                 Kind::Shape,
                 "conv2d: input must be 4-D",
                 [w, b] {
                   conv2d(leaf({2, 5, 5}), w, b);
                 },
                 {w, b}});
    r.push_back({"conv2d: 2-D weight",
                 Kind::Shape,
                 "conv2d: weight must be 4-D",
                 [x, b] {
                   conv2d(x, leaf({4, 18}), b);
                 },
                 {x, b}});
    r.push_back({"conv2d: zero spatial extent",
                 Kind::Shape,
                 "zero channel or spatial extent",
                 [w, b] {
                   conv2d(zeros<double>({1, 2, 0, 5}), w, b);
                 },
                 {w, b}});
    r.push_back({"conv2d: weight with a zero extent",
                 Kind::Shape,
                 "conv2d: weight [4, 2, 0, 3]",
                 [x] {
                   conv2d(x, zeros<double>({4, 2, 0, 3}));
                 },
                 {x}});
    r.push_back({"conv2d: undefined input",
                 Kind::Value,
                 "conv2d: input is undefined",
                 [u, w] { conv2d(u, w); },
                 {w}});
    r.push_back({"conv2d: undefined weight",
                 Kind::Value,
                 "conv2d: weight is undefined",
                 [x, u] { conv2d(x, u); },
                 {x}});
    r.push_back({"conv2d: stride 0",
                 Kind::Value,
                 "stride must be in [1, INT_MAX], got [0, 0]",
                 [x, w, b] { conv2d(x, w, b, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: negative stride width",
                 Kind::Value,
                 "stride must be in [1, INT_MAX], got [1, -1]",
                 [x, w, b] {
                   conv2d(x, w, b, {1, -1});
                 },
                 {x, w, b}});
    r.push_back({"conv2d: stride above INT_MAX",
                 Kind::Value,
                 "conv2d: stride",
                 [x, w, b] { conv2d(x, w, b, std::int64_t(1) << 40); },
                 {x, w, b}});
    r.push_back({"conv2d: negative padding",
                 Kind::Value,
                 "padding must be in [0, INT_MAX], got [-1, 0]",
                 [x, w, b] {
                   conv2d(x, w, b, 1, {-1, 0});
                 },
                 {x, w, b}});
    r.push_back({"conv2d: dilation 0",
                 Kind::Value,
                 "dilation must be in [1, INT_MAX], got [0, 0]",
                 [x, w, b] { conv2d(x, w, b, 1, 0, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: groups 0",
                 Kind::Value,
                 "groups must be positive, got 0",
                 [x, w, b] { conv2d(x, w, b, 1, 0, 1, 0); },
                 {x, w, b}});
    r.push_back({"conv2d: groups not dividing the input channels",
                 Kind::Value,
                 "groups 3 does not divide the 2 input channels",
                 [x, w, b] { conv2d(x, w, b, 1, 0, 1, 3); },
                 {x, w, b}});
    r.push_back({"conv2d: groups not dividing the output channels",
                 Kind::Value,
                 "groups 2 does not divide the 3 output channels",
                 [x] {
                   conv2d(x, leaf({3, 1, 3, 3}), D(), 1, 0, 1, 2);
                 },
                 {x}});
    r.push_back({"conv2d: weight for other input channels",
                 Kind::Shape,
                 "the weight expects 3",
                 [x] {
                   conv2d(x, leaf({4, 3, 3, 3}));
                 },
                 {x}});
    r.push_back({"conv2d: bias of the wrong size",
                 Kind::Shape,
                 "bias must be [4]",
                 [x, w] { conv2d(x, w, leaf({3})); },
                 {x, w}});
    r.push_back({"conv2d: kernel larger than the input",
                 Kind::Shape,
                 "larger than the padded input",
                 [x] {
                   conv2d(x, leaf({4, 2, 7, 7}));
                 },
                 {x}});
    r.push_back({"conv2d: dilated kernel larger than the input",
                 Kind::Shape,
                 "with dilation [3, 3]",
                 [x, w, b] { conv2d(x, w, b, 1, 0, 3); },
                 {x, w, b}});

    const D p = leaf({1, 2, 4, 4});
    r.push_back({"max_pool2d: 3-D input", Kind::Shape, "max_pool2d: input must be 4-D", [] {
                   max_pool2d(leaf({2, 4, 4}), 2);
                 }});
    r.push_back({"max_pool2d: kernel_size 0",
                 Kind::Value,
                 "max_pool2d: kernel_size",
                 [p] { max_pool2d(p, 0); },
                 {p}});
    r.push_back({"max_pool2d: stride 0",
                 Kind::Value,
                 "max_pool2d: stride",
                 [p] { max_pool2d(p, 2, 0); },
                 {p}});
    r.push_back({"max_pool2d: padding above half the kernel",
                 Kind::Value,
                 "max_pool2d: padding",
                 [p] { max_pool2d(p, 2, 2, 2); },
                 {p}});
    r.push_back({"max_pool2d: kernel larger than the input",
                 Kind::Shape,
                 "max_pool2d: kernel_size [5, 5]",
                 [p] { max_pool2d(p, 5); },
                 {p}});
    r.push_back({"max_pool2d: undefined", Kind::Value, "max_pool2d", [u] { max_pool2d(u, 2); }});
    r.push_back({"avg_pool2d: negative padding",
                 Kind::Value,
                 "avg_pool2d: padding",
                 [p] { avg_pool2d(p, 3, 1, -1); },
                 {p}});
    r.push_back({"avg_pool2d: kernel width 0",
                 Kind::Value,
                 "avg_pool2d: kernel_size",
                 [p] {
                   avg_pool2d(p, {2, 0});
                 },
                 {p}});
    r.push_back({"avg_pool2d: zero channels", Kind::Shape, "avg_pool2d: input", [] {
                   avg_pool2d(zeros<double>({1, 0, 4, 4}), 2);
                 }});
    r.push_back({"adaptive_avg_pool2d: output_size 0",
                 Kind::Value,
                 "adaptive_avg_pool2d: output_size",
                 [p] {
                   adaptive_avg_pool2d(p, {0, 1});
                 },
                 {p}});
    r.push_back({"adaptive_avg_pool2d: 2-D input", Kind::Shape, "adaptive_avg_pool2d: input", [] {
                   adaptive_avg_pool2d(leaf({4, 4}), 1);
                 }});
    r.push_back({"adaptive_avg_pool2d: undefined", Kind::Value, "adaptive_avg_pool2d",
                 [u] { adaptive_avg_pool2d(u, 1); }});

    const D x4 = leaf({2, 3, 2, 2}), rm = zeros<double>({3}), rv = ones<double>({3});
    r.push_back({"batch_norm: 4-D input, weight of the wrong size",
                 Kind::Shape,
                 "batch_norm: weight",
                 [x4, rm, rv, u] { batch_norm(x4, rm, rv, leaf({2}), u, true); },
                 {x4, rm, rv}});
    r.push_back({"batch_norm: 4-D input, running_var of the wrong size",
                 Kind::Shape,
                 "running_var",
                 [x4, rm, u] { batch_norm(x4, rm, ones<double>({4}), u, u, true); },
                 {x4, rm}});
    r.push_back({"batch_norm: 5-D input",
                 Kind::Shape,
                 "batch_norm: input",
                 [rm, rv, u] {
                   batch_norm(leaf({1, 3, 2, 2, 2}), rm, rv, u, u, true);
                 },
                 {rm, rv}});
    r.push_back({"batch_norm: 4-D input, one value per channel",
                 Kind::Value,
                 "batch_norm",
                 [rm, rv, u] {
                   batch_norm(leaf({1, 3, 1, 1}), rm, rv, u, u, true);
                 },
                 {rm, rv}});

    using nn::Conv2dOptions;
    r.push_back({"Conv2d: in_channels 0", Kind::Value, "Conv2d: in_channels",
                 [] { nn::Conv2d<double>(0, 4, 3); }});
    r.push_back({"Conv2d: negative out_channels", Kind::Value, "Conv2d: in_channels",
                 [] { nn::Conv2d<double>(2, -4, 3); }});
    r.push_back({"Conv2d: kernel_size 0", Kind::Value, "Conv2d: kernel_size", [] {
                   nn::Conv2d<double>(2, 4, {3, 0});
                 }});
    r.push_back({"Conv2dOptions: stride 0", Kind::Value, "Conv2d: stride", [] {
                   nn::Conv2d<double>(Conv2dOptions(2, 4, 3).stride({1, 0}));
                 }});
    r.push_back({"Conv2dOptions: negative padding", Kind::Value, "Conv2d: padding",
                 [] { nn::Conv2d<double>(Conv2dOptions(2, 4, 3).padding(-1)); }});
    r.push_back({"Conv2dOptions: dilation 0", Kind::Value, "Conv2d: dilation",
                 [] { nn::Conv2d<double>(Conv2dOptions(2, 4, 3).dilation(0)); }});
    r.push_back({"Conv2dOptions: groups 0", Kind::Value, "Conv2d: groups",
                 [] { nn::Conv2d<double>(Conv2dOptions(2, 4, 3).groups(0)); }});
    r.push_back({"Conv2dOptions: groups not dividing out_channels", Kind::Value, "got 3",
                 [] { nn::Conv2d<double>(Conv2dOptions(3, 4, 3).groups(3)); }});
    auto c2 = std::make_shared<nn::Conv2d<double>>(2, 4, 3);
    r.push_back({"Conv2d: forward of other channels",
                 Kind::Shape,
                 "the weight expects 2",
                 [c2] {
                   c2->forward(leaf({1, 3, 5, 5}));
                 },
                 {},
                 {c2}});
    r.push_back({"Conv2d: forward of a 3-D input",
                 Kind::Shape,
                 "input must be 4-D",
                 [c2] {
                   c2->forward(leaf({2, 5, 5}));
                 },
                 {},
                 {c2}});
    r.push_back({"Conv2d: forward of an input smaller than the kernel",
                 Kind::Shape,
                 "larger than the padded input",
                 [c2] {
                   c2->forward(leaf({1, 2, 2, 2}));
                 },
                 {},
                 {c2}});

    r.push_back({"BatchNorm2d: num_features 0", Kind::Value, "num_features",
                 [] { nn::BatchNorm2d<double>(0); }});
    r.push_back(
        {"BatchNorm2d: eps 0", Kind::Value, "eps", [] { nn::BatchNorm2d<double>(3, 0.0); }});
    r.push_back({"BatchNorm2d: momentum 2", Kind::Value, "momentum",
                 [] { nn::BatchNorm2d<double>(3, 1e-5, 2.0); }});
    auto bn = std::make_shared<nn::BatchNorm2d<double>>(3);
    r.push_back({"BatchNorm2d: forward of a 2-D input",
                 Kind::Shape,
                 "[N, C, H, W]",
                 [bn] {
                   bn->forward(leaf({2, 3}));
                 },
                 {},
                 {bn}});
    r.push_back({"BatchNorm2d: forward of other channels",
                 Kind::Shape,
                 "expected 3",
                 [bn] {
                   bn->forward(leaf({2, 4, 2, 2}));
                 },
                 {},
                 {bn}});
    r.push_back({"BatchNorm2d: training forward of one value per channel",
                 Kind::Value,
                 "batch_norm",
                 [bn] {
                   bn->forward(leaf({1, 3, 1, 1}));
                 },
                 {},
                 {bn}});
    r.push_back({"BatchNorm2d: load a negative running_var",
                 Kind::Value,
                 "running_var",
                 [bn] {
                   auto d = bn->state_dict();
                   for (auto& kv : d)
                     if (kv.first == "running_var") kv.second(1) = -1.0;
                   bn->load_state_dict(d);
                 },
                 {},
                 {bn}});

    r.push_back({"MaxPool2d: kernel_size 0", Kind::Value, "MaxPool2d: kernel_size",
                 [] { nn::MaxPool2d<double>(0); }});
    r.push_back({"MaxPool2dOptions: stride 0", Kind::Value, "MaxPool2d: stride",
                 [] { nn::MaxPool2d<double>(nn::MaxPool2dOptions(2).stride(0)); }});
    r.push_back({"MaxPool2dOptions: padding above half the kernel", Kind::Value,
                 "MaxPool2d: padding",
                 [] { nn::MaxPool2d<double>(nn::MaxPool2dOptions(2).padding(2)); }});
    r.push_back({"AvgPool2dOptions: negative padding", Kind::Value, "AvgPool2d: padding", [] {
                   nn::AvgPool2d<double>(nn::AvgPool2dOptions(3).padding({0, -1}));
                 }});
    r.push_back(
        {"AdaptiveAvgPool2d: output_size 0", Kind::Value, "AdaptiveAvgPool2d: output_size", [] {
           nn::AdaptiveAvgPool2d<double>({1, 0});
         }});
    auto mp = std::make_shared<nn::MaxPool2d<double>>(2);
    r.push_back({"MaxPool2d: forward of a 3-D input",
                 Kind::Shape,
                 "max_pool2d: input must be 4-D",
                 [mp] {
                   mp->forward(leaf({2, 4, 4}));
                 },
                 {},
                 {mp}});

    r.push_back({"fuse_conv_bn: bn of other features",
                 Kind::Shape,
                 "bn has 3 features, conv has 4 output channels",
                 [c2, bn] { nn::fuse_conv_bn(*c2, *bn); },
                 {},
                 {c2, bn}});
    auto bn_untracked = std::make_shared<nn::BatchNorm2d<double>>(4, 1e-5, 0.1, true, false);
    r.push_back({"fuse_conv_bn: bn without running statistics",
                 Kind::Value,
                 "running statistics",
                 [c2, bn_untracked] { nn::fuse_conv_bn(*c2, *bn_untracked); },
                 {},
                 {c2, bn_untracked}});
  }

  // ---------------------------------------------------------------- gradcheck
  {
    const D x = leaf({2});
    const GradcheckFn f = [](const std::vector<D>& in) { return sum(in[0] * in[0]); };
    r.push_back({"gradcheck: eps 0", Kind::Value, "eps", [f, x] { gradcheck(f, {x}, 0.0); }, {x}});
    r.push_back(
        {"gradcheck: NaN eps", Kind::Value, "eps", [f, x] { gradcheck(f, {x}, kNaN); }, {x}});
    r.push_back({"gradcheck: negative atol",
                 Kind::Value,
                 "tolerances",
                 [f, x] { gradcheck(f, {x}, 1e-6, -1.0); },
                 {x}});
    r.push_back({"gradcheck: undefined input",
                 Kind::Value,
                 "input 1",
                 [f, x, u] {
                   gradcheck(f, {x, u});
                 },
                 {x}});
    r.push_back({"gradcheck: nothing requires grad", Kind::Value, "no input requires grad",
                 [f] { gradcheck(f, {zeros<double>({2})}); }});
    const GradcheckFn changing = [](const std::vector<D>& in) {
      static int calls = 0;
      return ++calls % 2 ? sum(in[0]) : in[0] * 1.0;
    };
    r.push_back({"gradcheck: output shape changes",
                 Kind::Value,
                 "gradcheck",
                 [changing, x] { gradcheck(changing, {x}); },
                 {x}});
  }

  // ---------------------------------------------------------------- modules
  {
    auto m = std::make_shared<nn::Linear<double>>(3, 2);
    const D leaf2 = leaf({2});
    r.push_back({"register_parameter: empty name",
                 Kind::Value,
                 "name must not be empty",
                 [m, leaf2] { m->register_parameter("", leaf2); },
                 {leaf2},
                 {m}});
    r.push_back({"register_parameter: dotted name",
                 Kind::Value,
                 "must not contain '.'",
                 [m, leaf2] { m->register_parameter("a.b", leaf2); },
                 {leaf2},
                 {m}});
    r.push_back({"register_parameter: taken name",
                 Kind::Value,
                 "already registered",
                 [m, leaf2] { m->register_parameter("weight", leaf2); },
                 {leaf2},
                 {m}});
    r.push_back({"register_parameter: undefined",
                 Kind::Value,
                 "undefined",
                 [m, u] { m->register_parameter("p", u); },
                 {},
                 {m}});
    r.push_back({"register_parameter: not a leaf",
                 Kind::Value,
                 "not a leaf",
                 [m, leaf2] { m->register_parameter("p", leaf2 * 2.0); },
                 {leaf2},
                 {m}});
    r.push_back({"register_buffer: undefined",
                 Kind::Value,
                 "undefined",
                 [m, u] { m->register_buffer("b", u); },
                 {},
                 {m}});
    r.push_back({"register_module: null",
                 Kind::Value,
                 "is null",
                 [m] { m->register_module("c", std::shared_ptr<Module<double>>()); },
                 {},
                 {m}});
    r.push_back({"register_module: itself",
                 Kind::Value,
                 "own descendant",
                 [m] { m->register_module("self", m); },
                 {},
                 {m}});
    auto seq = std::make_shared<nn::Sequential<double>>(
        std::initializer_list<std::shared_ptr<Module<double>>>{m});
    r.push_back({"register_module: a cycle",
                 Kind::Value,
                 "own descendant",
                 [m, seq] { m->register_module("parent", seq); },
                 {},
                 {m, seq}});
    r.push_back({"load_state_dict: missing key",
                 Kind::Value,
                 "missing keys: bias",
                 [m] {
                   m->load_state_dict({{"weight", xt::xarray<double>::from_shape({2, 3})}});
                 },
                 {},
                 {m}});
    r.push_back({"load_state_dict: unexpected key",
                 Kind::Value,
                 "unexpected keys: extra",
                 [m] {
                   auto d = m->state_dict();
                   d.emplace_back("extra", xt::xarray<double>({1.0}));
                   m->load_state_dict(d);
                 },
                 {},
                 {m}});
    r.push_back({"load_state_dict: wrong shape",
                 Kind::Shape,
                 "shape mismatch: weight",
                 [m] {
                   m->load_state_dict({{"weight", xt::xarray<double>::from_shape({3, 2})},
                                       {"bias", xt::xarray<double>::from_shape({2})}});
                 },
                 {},
                 {m}});
    r.push_back({"load_state_dict: repeated key",
                 Kind::Value,
                 "appears more than once",
                 [m] {
                   auto d = m->state_dict();
                   d.push_back(d[0]);
                   m->load_state_dict(d);
                 },
                 {},
                 {m}});
    r.push_back({"Module::forward without an override", Kind::State, "no unary forward",
                 [] { Module<double>("Plain").forward(zeros<double>({1})); }});
    r.push_back(
        {"Linear: zero in_features", Kind::Value, "Linear", [] { nn::Linear<double>(0, 2); }});
    r.push_back({"Linear: input of the wrong width",
                 Kind::Shape,
                 "linear",
                 [m] {
                   m->forward(zeros<double>({4, 5}));
                 },
                 {},
                 {m}});
    r.push_back(
        {"Linear: undefined input", Kind::Value, "undefined", [m, u] { m->forward(u); }, {}, {m}});
    r.push_back({"Sequential: null module", Kind::Value, "null", [] {
                   nn::Sequential<double> s;
                   s.push_back(std::shared_ptr<Module<double>>());
                 }});
    auto bn = std::make_shared<nn::BatchNorm1d<double>>(3);
    r.push_back({"BatchNorm1d: zero features", Kind::Value, "num_features",
                 [] { nn::BatchNorm1d<double>(0); }});
    r.push_back({"BatchNorm1d: negative eps", Kind::Value, "eps",
                 [] { nn::BatchNorm1d<double>(3, -1.0); }});
    r.push_back({"BatchNorm1d: momentum 2", Kind::Value, "momentum",
                 [] { nn::BatchNorm1d<double>(3, 1e-5, 2.0); }});
    r.push_back({"BatchNorm1d: wrong channel count",
                 Kind::Shape,
                 "expected 3 channels",
                 [bn] {
                   bn->forward(zeros<double>({4, 2}));
                 },
                 {},
                 {bn}});
    r.push_back({"BatchNorm1d: one value per channel in training",
                 Kind::Value,
                 "batch_norm",
                 [bn] {
                   bn->forward(zeros<double>({1, 3}));
                 },
                 {},
                 {bn}});
    r.push_back({"Dropout: p = 1", Kind::Value, "p", [] { nn::Dropout<double>(1.0); }});
    r.push_back({"Flatten: start after end", Kind::Value, "Flatten", [] {
                   nn::Flatten<double>(1, 0).forward(zeros<double>({2, 3, 4}));
                 }});
    r.push_back({"Flatten: axis out of range", Kind::Shape, "Flatten", [] {
                   nn::Flatten<double>(3).forward(zeros<double>({2, 3}));
                 }});
    r.push_back({"Softmax module: axis out of range", Kind::Shape, "softmax", [] {
                   nn::Softmax<double>(4).forward(zeros<double>({2, 3}));
                 }});
  }

  // ---------------------------------------------------------------- checkpoints
  {
    static TempDir tmp;
    auto m = std::make_shared<nn::Linear<double>>(3, 2);
    xgrad::save(*m, tmp / "m.npz");
    xgrad::save(StateDict<double>{{"weight", xt::xarray<double>::from_shape({2, 3})}},
                tmp / "partial.npz");
    {
      std::ofstream out(tmp / "garbage.npz", std::ios::binary);
      out << "not a zip";
    }
    nn::Linear<float> f(3, 2);
    xgrad::save(f, tmp / "float.npz");
    r.push_back({"load: missing file",
                 Kind::IO,
                 "nope.npz",
                 [m] { xgrad::load(*m, tmp / "nope.npz"); },
                 {},
                 {m}});
    r.push_back({"load: not a zip",
                 Kind::IO,
                 "garbage.npz",
                 [m] { xgrad::load(*m, tmp / "garbage.npz"); },
                 {},
                 {m}});
    r.push_back({"load: float file as double",
                 Kind::Type,
                 "float32",
                 [m] { xgrad::load(*m, tmp / "float.npz"); },
                 {},
                 {m}});
    r.push_back({"load: missing key",
                 Kind::Value,
                 "missing keys: bias",
                 [m] { xgrad::load(*m, tmp / "partial.npz"); },
                 {},
                 {m}});
    r.push_back({"save: empty key", Kind::Value, "is empty", [] {
                   xgrad::save(StateDict<double>{{"", xt::xarray<double>({1.0})}}, tmp / "x.npz");
                 }});
    r.push_back(
        {"save: key with '/'", Kind::Value, "path separator", [] {
           xgrad::save(StateDict<double>{{"a/b", xt::xarray<double>({1.0})}}, tmp / "x.npz");
         }});
    r.push_back(
        {"save: key with '..'", Kind::Value, "\"..\"", [] {
           xgrad::save(StateDict<double>{{"a..b", xt::xarray<double>({1.0})}}, tmp / "x.npz");
         }});
    r.push_back({"save: key with a NUL byte", Kind::Value, "'\\0'", [] {
                   xgrad::save(
                       StateDict<double>{{std::string("a\0b", 3), xt::xarray<double>({1.0})}},
                       tmp / "x.npz");
                 }});
    r.push_back({"save: repeated key", Kind::Value, "more than once", [] {
                   xgrad::save(StateDict<double>{{"a", xt::xarray<double>({1.0})},
                                                 {"a", xt::xarray<double>({1.0})}},
                               tmp / "x.npz");
                 }});
    r.push_back({"save: unwritable directory",
                 Kind::IO,
                 "no/such/dir",
                 [m] { xgrad::save(*m, tmp / "no/such/dir/m.npz"); },
                 {},
                 {m}});
    r.push_back({"parse_npy: bad magic", Kind::IO, "member x",
                 [] { xgrad::parse_npy<double>("garbage!garbage!", "member x"); }});
  }

  // ---------------------------------------------------------------- optimizers
  {
    const D p = leaf({2});
    r.push_back({"SGD: negative lr",
                 Kind::Value,
                 "lr must be >= 0",
                 [p] { optim::SGD<double>({p}, optim::SGDOptions(-1.0)); },
                 {p}});
    r.push_back({"SGD: negative momentum",
                 Kind::Value,
                 "momentum",
                 [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).momentum(-1)); },
                 {p}});
    r.push_back({"SGD: nesterov without momentum",
                 Kind::Value,
                 "nesterov",
                 [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).nesterov(true)); },
                 {p}});
    r.push_back({"SGD: negative weight decay",
                 Kind::Value,
                 "weight_decay",
                 [p] { optim::SGD<double>({p}, optim::SGDOptions(0.1).weight_decay(-1)); },
                 {p}});
    r.push_back({"SGD: no parameters", Kind::Value, "no parameters",
                 [] { optim::SGD<double>(std::vector<D>{}, optim::SGDOptions(0.1)); }});
    r.push_back({"SGD: undefined parameter", Kind::Value, "undefined",
                 [u] { optim::SGD<double>({u}, optim::SGDOptions(0.1)); }});
    r.push_back({"SGD: non-leaf parameter",
                 Kind::Value,
                 "not a leaf",
                 [p] { optim::SGD<double>({p * 2.0}, optim::SGDOptions(0.1)); },
                 {p}});
    r.push_back({"SGD: repeated parameter",
                 Kind::Value,
                 "more than once",
                 [p] {
                   optim::SGD<double>({p, p}, optim::SGDOptions(0.1));
                 },
                 {p}});
    r.push_back({"Adam: beta1 = 1",
                 Kind::Value,
                 "beta",
                 [p] {
                   optim::Adam<double>({p}, optim::AdamOptions().betas({1.0, 0.9}));
                 },
                 {p}});
    r.push_back({"Adam: beta2 negative",
                 Kind::Value,
                 "beta",
                 [p] {
                   optim::Adam<double>({p}, optim::AdamOptions().betas({0.9, -0.1}));
                 },
                 {p}});
    r.push_back({"Adam: eps 0",
                 Kind::Value,
                 "eps",
                 [p] { optim::Adam<double>({p}, optim::AdamOptions().eps(0)); },
                 {p}});
    r.push_back({"Adam: NaN lr",
                 Kind::Value,
                 "lr",
                 [p] { optim::Adam<double>({p}, optim::AdamOptions(kNaN)); },
                 {p}});
    r.push_back({"AdamW: negative weight decay",
                 Kind::Value,
                 "weight_decay",
                 [p] { optim::AdamW<double>({p}, optim::AdamWOptions().weight_decay(-1)); },
                 {p}});
    auto sgd = std::make_shared<optim::SGD<double>>(std::vector<D>{p},
                                                    optim::SGDOptions(0.1).momentum(0.9));
    r.push_back({"set_lr: group out of range",
                 Kind::Value,
                 "group 3",
                 [sgd] { sgd->set_lr(3, 0.1); },
                 {p}});
    r.push_back(
        {"set_lr: negative", Kind::Value, "lr must be >= 0", [sgd] { sgd->set_lr(0, -0.1); }, {p}});
    r.push_back({"lr: group out of range", Kind::Value, "group 1", [sgd] { sgd->lr(1); }, {p}});
    r.push_back(
        {"params: group out of range", Kind::Value, "group 2", [sgd] { sgd->params(2); }, {p}});
    r.push_back({"optimizer load_state_dict: empty",
                 Kind::Value,
                 "SGD",
                 [sgd] { sgd->load_state_dict({}); },
                 {p}});
    r.push_back({"optimizer load_state_dict: another optimizer's",
                 Kind::Type,
                 "SGD",
                 [sgd, p] {
                   optim::Adam<double> adam({p});
                   sgd->load_state_dict(adam.state_dict());
                 },
                 {p}});
    const D g = leaf({2});
    sum(g * 1.0).backward();
    g.grad().mutable_data() = xt::xarray<double>::from_shape({3});
    auto sgd2 = std::make_shared<optim::SGD<double>>(std::vector<D>{g}, optim::SGDOptions(0.1));
    r.push_back({"step: gradient of the wrong shape",
                 Kind::Shape,
                 "SGD::step",
                 [sgd2] { sgd2->step(); },
                 {g}});
  }

  // ---------------------------------------------------------------- schedulers
  {
    const D p = leaf({2});
    auto sgd = std::make_shared<optim::SGD<double>>(std::vector<D>{p}, optim::SGDOptions(0.1));
    r.push_back({"StepLR: step_size 0",
                 Kind::Value,
                 "step_size",
                 [sgd] { optim::StepLR<double>(*sgd, 0); },
                 {p}});
    r.push_back({"StepLR: gamma 0",
                 Kind::Value,
                 "gamma",
                 [sgd] { optim::StepLR<double>(*sgd, 2, 0.0); },
                 {p}});
    r.push_back({"CosineAnnealingLR: T_max 0",
                 Kind::Value,
                 "T_max",
                 [sgd] { optim::CosineAnnealingLR<double>(*sgd, 0); },
                 {p}});
    r.push_back({"CosineAnnealingLR: negative eta_min",
                 Kind::Value,
                 "eta_min",
                 [sgd] { optim::CosineAnnealingLR<double>(*sgd, 5, -1.0); },
                 {p}});
    r.push_back({"scheduler load_state_dict: missing last_epoch",
                 Kind::Value,
                 "last_epoch",
                 [sgd] {
                   optim::StepLR<double> s(*sgd, 2);
                   s.load_state_dict({});
                 },
                 {p}});
    r.push_back({"scheduler load_state_dict: fractional epoch",
                 Kind::Value,
                 "last_epoch",
                 [sgd] {
                   optim::StepLR<double> s(*sgd, 2);
                   auto d = s.state_dict();
                   for (auto& kv : d)
                     if (kv.first == "last_epoch") kv.second() = 1.5;
                   s.load_state_dict(d);
                 },
                 {p}});
  }

  // ---------------------------------------------------------------- data
  {
    data::Dataset<double> ds{leaf({4, 2}), Labels({0, 1, 0, 1})};
    data::Dataset<double> bad{leaf({4, 2}), Labels({0, 1})};
    r.push_back({"check_dataset: labels of another length",
                 Kind::Shape,
                 "labels",
                 [bad] { data::check_dataset(bad, "test"); },
                 {bad.features}});
    r.push_back({"subset: index out of range",
                 Kind::Value,
                 "index 9",
                 [ds] {
                   data::subset(ds, {0, 9});
                 },
                 {ds.features}});
    r.push_back({"train_test_split: fraction 1",
                 Kind::Value,
                 "test_fraction",
                 [ds] {
                   Generator g(1);
                   data::train_test_split(ds, 1.0, g);
                 },
                 {ds.features}});
    r.push_back({"train_test_split: empty part",
                 Kind::Value,
                 "train_test_split",
                 [ds] {
                   Generator g(1);
                   data::train_test_split(ds, 0.01, g);
                 },
                 {ds.features}});
    r.push_back({"make_spirals: one class", Kind::Value, "num_classes", [] {
                   Generator g(1);
                   data::make_spirals<double>(4, 1, 0.1, g);
                 }});
    r.push_back({"make_spirals: zero points", Kind::Value, "points_per_class", [] {
                   Generator g(1);
                   data::make_spirals<double>(0, 2, 0.1, g);
                 }});
    r.push_back({"make_spirals: negative noise", Kind::Value, "noise", [] {
                   Generator g(1);
                   data::make_spirals<double>(4, 2, -0.1, g);
                 }});
    r.push_back({"make_spirals: zero turns", Kind::Value, "turns", [] {
                   Generator g(1);
                   data::make_spirals<double>(4, 2, 0.1, g, 0.0);
                 }});
    r.push_back({"accuracy: undefined logits", Kind::Value, "accuracy: logits",
                 [u] { data::accuracy(u, Labels({0})); }});
    r.push_back({"accuracy: rows differ", Kind::Shape, "accuracy", [] {
                   data::accuracy(zeros<double>({2, 3}), Labels({0}));
                 }});
    r.push_back({"DataLoader: batch_size 0",
                 Kind::Value,
                 "batch_size",
                 [ds] { data::DataLoader<double>(ds, 0, false); },
                 {ds.features}});
    r.push_back({"DataLoader: malformed dataset",
                 Kind::Shape,
                 "DataLoader",
                 [bad] { data::DataLoader<double>(bad, 2, false); },
                 {bad.features}});
    r.push_back({"DataLoader::batch: out of range",
                 Kind::Value,
                 "index 7",
                 [ds] { data::DataLoader<double>(ds, 2, false).batch(7); },
                 {ds.features}});
  }

  // ---------------------------------------------------------------- APoT quantization
  {
    const D x = leaf({4});
    r.push_back({"apot_level_set: k = 0", Kind::Value, "k must be >= 1",
                 [] { apot_level_set(4, 0, 1.0, LevelScheme::unsigned_levels); }});
    r.push_back({"apot_level_set: b not a multiple of k", Kind::Value, "multiple of k",
                 [] { apot_level_set(5, 2, 1.0, LevelScheme::unsigned_levels); }});
    r.push_back({"apot_level_set: NaN alpha", Kind::Value, "alpha",
                 [] { apot_level_set(4, 2, kNaN, LevelScheme::unsigned_levels); }});
    r.push_back({"apot_level_set: negative alpha", Kind::Value, "alpha",
                 [] { apot_level_set(4, 2, -1.0, LevelScheme::unsigned_levels); }});
    r.push_back({"apot_level_set: too many levels", Kind::Value, "levels",
                 [] { apot_level_set(40, 2, 1.0, LevelScheme::unsigned_levels); }});
    r.push_back({"apot_level_set: sign_magnitude b = 1", Kind::Value, "b",
                 [] { apot_level_set(1, 1, 1.0, LevelScheme::sign_magnitude); }});
    r.push_back(
        {"apot_codebook: b = 0", Kind::Value, "b must be >= 1", [] { apot_codebook(0, 1); }});
    r.push_back({"apot_sign_magnitude_codebook: k = 3 not dividing", Kind::Value, "k=3",
                 [] { apot_sign_magnitude_codebook(5, 3); }});
    r.push_back({"APoTCodeBook::field: code out of range", Kind::Value, "code",
                 [] { apot_codebook(4, 2).field(1 << 10, 0); }});
    r.push_back(
        {"APoTObserver: k = 0", Kind::Value, "k must be >= 1", [] { APoTObserver<double>(4, 0); }});
    r.push_back(
        {"APoTObserver: b = 0", Kind::Value, "b must be >= 1", [] { APoTObserver<double>(0, 1); }});
    auto obs = std::make_shared<APoTObserver<double>>(4, 2);
    r.push_back({"APoTObserver: qparams before observing",
                 Kind::State,
                 "nothing observed",
                 [obs] { obs->calculate_qparams(false); },
                 {},
                 {obs}});
    r.push_back({"APoTObserver: forward undefined",
                 Kind::Value,
                 "undefined",
                 [obs, u] { obs->forward(u); },
                 {},
                 {obs}});
    r.push_back({"APoTObserver: set_min_val NaN",
                 Kind::Value,
                 "min_val",
                 [obs] { obs->set_min_val(kNaN); },
                 {},
                 {obs}});
    r.push_back({"APoTObserver: set_max_val of two elements",
                 Kind::Value,
                 "max_val",
                 [obs] { obs->set_max_val(zeros<double>({2})); },
                 {},
                 {obs}});
    auto seen = std::make_shared<APoTObserver<double>>(5, 2);
    seen->forward(tensor<double>({-1.0, 2.0}));
    r.push_back({"APoTObserver: b not a multiple of k",
                 Kind::Value,
                 "multiple of k",
                 [seen] { seen->calculate_qparams(false); },
                 {},
                 {seen}});
    auto q = APoTObserver<double>(4, 2);
    q.forward(tensor<double>({-1.0, 2.0}));
    const APoTQParams<double> good = q.calculate_qparams(false);
    r.push_back({"quantize_APoT: NaN input", Kind::Value, "NaN", [good] {
                   quantize_APoT(tensor<double>({0.0, kNaN}), good);
                 }});
    r.push_back({"quantize_APoT: undefined input", Kind::Value, "undefined",
                 [good, u] { quantize_APoT(u, good); }});
    r.push_back({"quantize_APoT: NaN alpha",
                 Kind::Value,
                 "alpha",
                 [good, x] {
                   quantize_APoT<double>(x, kNaN, good.gamma, good.quantization_levels,
                                         good.level_indices);
                 },
                 {x}});
    r.push_back({"quantize_APoT: infinite gamma",
                 Kind::Value,
                 "gamma",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, kInf, good.quantization_levels,
                                         good.level_indices);
                 },
                 {x}});
    r.push_back({"quantize_APoT: unsorted levels",
                 Kind::Value,
                 "sorted",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({1.0, 0.0}),
                                         xt::xarray<std::int64_t>({0, 1}));
                 },
                 {x}});
    r.push_back({"quantize_APoT: empty levels",
                 Kind::Value,
                 "quantization_levels",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, good.gamma, zeros<double>({0}),
                                         xt::xarray<std::int64_t>::from_shape({0}));
                 },
                 {x}});
    r.push_back({"quantize_APoT: indices of another length",
                 Kind::Value,
                 "level_indices",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, good.gamma, good.quantization_levels,
                                         xt::xarray<std::int64_t>({0}));
                 },
                 {x}});
    r.push_back({"quantize_APoT: repeated index",
                 Kind::Value,
                 "twice",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({0.0, 1.0}),
                                         xt::xarray<std::int64_t>({1, 1}));
                 },
                 {x}});
    r.push_back({"quantize_APoT: negative index",
                 Kind::Value,
                 "level_indices",
                 [good, x] {
                   quantize_APoT<double>(x, good.alpha, good.gamma, tensor<double>({0.0, 1.0}),
                                         xt::xarray<std::int64_t>({-1, 1}));
                 },
                 {x}});
    r.push_back({"TensorAPoT: code not a level index", Kind::Value, "code",
                 [good] { TensorAPoT<double>(xt::xarray<std::int64_t>({99}), good); }});
    r.push_back({"quant_dequant: NaN alpha",
                 Kind::Value,
                 "alpha",
                 [good, x] {
                   quant_dequant<double>(x, kNaN, good.gamma, good.quantization_levels,
                                         good.level_indices);
                 },
                 {x}});
    r.push_back({"fake_quantize_APoT: unsorted levels",
                 Kind::Value,
                 "sorted",
                 [good, x] {
                   fake_quantize_function::apply(x, good.alpha, good.gamma,
                                                 tensor<double>({1.0, 0.0}),
                                                 xt::xarray<std::int64_t>({0, 1}));
                 },
                 {x}});
    r.push_back({"fake_quantize_APoT: undefined input", Kind::Value, "undefined",
                 [good, u] { fake_quantize_APoT(u, good); }});
    r.push_back({"APoTFakeQuantize: b not a multiple of k", Kind::Value, "multiple of k",
                 [] { APoTFakeQuantize<double>(5, 2); }});
    auto afq = std::make_shared<APoTFakeQuantize<double>>(4, 2);
    afq->disable_observer();
    r.push_back({"APoTFakeQuantize: forward without qparams",
                 Kind::State,
                 "qparams are missing",
                 [afq, x] { afq->forward(x); },
                 {x},
                 {afq}});
    r.push_back({"APoTFakeQuantize: load unsorted levels",
                 Kind::Value,
                 "sorted",
                 [afq, good] {
                   auto d = afq->state_dict();
                   for (auto& kv : d) {
                     if (kv.first == "alpha" || kv.first == "gamma")
                       kv.second = xt::xarray<double>({1.0});
                     if (kv.first == "quantization_levels")
                       kv.second = xt::xarray<double>({1.0, 0.0});
                     if (kv.first == "level_indices") kv.second = xt::xarray<double>({0.0, 1.0});
                   }
                   afq->load_state_dict(d);
                 },
                 {},
                 {afq}});
    auto afq_on = std::make_shared<APoTFakeQuantize<double>>(4, 2);
    r.push_back({"APoTFakeQuantize: forward on a range beyond float32",
                 Kind::Value,
                 "alpha",
                 [afq_on] {
                   afq_on->forward(tensor<double>({-1e300, 1e300}));
                 },
                 {},
                 {afq_on}});
    const D w = tensor<double>({{0.5, -0.25}, {1.0, 0.0}});
    r.push_back({"LinearAPoT: undefined weight", Kind::Value, "weight",
                 [u] { LinearAPoT<double>(u, 4, 2); }});
    r.push_back({"LinearAPoT: 1-D weight", Kind::Shape, "weight",
                 [] { LinearAPoT<double>(zeros<double>({3}), 4, 2); }});
    r.push_back({"LinearAPoT: bias of the wrong size",
                 Kind::Shape,
                 "bias",
                 [w] { LinearAPoT<double>(w, 4, 2, zeros<double>({3})); },
                 {w}});
    r.push_back({"LinearAPoT: NaN weight", Kind::Value, "weight", [] {
                   LinearAPoT<double>(tensor<double>({{kNaN, 1.0}}), 4, 2);
                 }});
    r.push_back({"LinearAPoT: signed_per_term",
                 Kind::Value,
                 "signed_per_term",
                 [w] { LinearAPoT<double>(w, 4, 2, D(), LevelScheme::signed_per_term); },
                 {w}});
    auto la = std::make_shared<LinearAPoT<double>>(w, 4, 2);
    r.push_back({"LinearAPoT: forward of the wrong width",
                 Kind::Shape,
                 "linear",
                 [la] {
                   la->forward(zeros<double>({1, 3}));
                 },
                 {},
                 {la}});
    r.push_back({"LinearAPoT: forward undefined",
                 Kind::Value,
                 "undefined",
                 [la, u] { la->forward(u); },
                 {},
                 {la}});
    r.push_back({"LinearAPoT: forward_integer of the wrong width",
                 Kind::Shape,
                 "forward_integer",
                 [la] {
                   la->forward_integer(xt::xarray<std::int64_t>({1, 2, 3}));
                 },
                 {},
                 {la}});
    r.push_back({"LinearAPoT: forward_integer overflowing",
                 Kind::Value,
                 "overflow",
                 [la] {
                   la->forward_integer(
                       xt::xarray<std::int64_t>({std::int64_t(1) << 61, std::int64_t(1) << 61}));
                 },
                 {},
                 {la}});
    r.push_back({"LinearAPoT: load a code of 1e9",
                 Kind::Value,
                 "weight_codes",
                 [la] {
                   auto d = la->state_dict();
                   d[0].second.data()[0] = 1e9;
                   la->load_state_dict(d);
                 },
                 {},
                 {la}});
    r.push_back({"quant_levels_visualization: bad extension", Kind::Value, "png",
                 [] { quant_levels_visualization("plot.jpg"); }});
    r.push_back({"quant_levels_visualization: alpha 0", Kind::Value, "alpha", [] {
                   LevelsPlotOptions o;
                   o.alpha = 0;
                   quant_levels_visualization("plot.png", o);
                 }});
    r.push_back({"quant_levels_visualization: one point", Kind::Value, "points", [] {
                   LevelsPlotOptions o;
                   o.points = 1;
                   quant_levels_visualization("plot.png", o);
                 }});
  }

  // ---------------------------------------------------------------- uniform quantization
  {
    const D x = leaf({3});
    r.push_back({"fake_quantize_per_tensor_affine: scale 0",
                 Kind::Value,
                 "scale",
                 [x] { fake_quantize_per_tensor_affine(x, 0.0, 0, 0, 255); },
                 {x}});
    r.push_back({"fake_quantize_per_tensor_affine: NaN scale",
                 Kind::Value,
                 "scale",
                 [x] { fake_quantize_per_tensor_affine(x, kNaN, 0, 0, 255); },
                 {x}});
    r.push_back({"fake_quantize_per_tensor_affine: quant_min above quant_max",
                 Kind::Value,
                 "quant_min",
                 [x] { fake_quantize_per_tensor_affine(x, 0.1, 0, 10, 5); },
                 {x}});
    r.push_back({"fake_quantize_per_tensor_affine: zero_point outside",
                 Kind::Value,
                 "zero_point",
                 [x] { fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255); },
                 {x}});
    r.push_back({"fake_quantize_per_tensor_affine: undefined", Kind::Value, "undefined",
                 [u] { fake_quantize_per_tensor_affine(u, 0.1, 0, 0, 255); }});
    r.push_back({"MinMaxObserver: only quant_min", Kind::Value, "quant_max", [] {
                   MinMaxObserver<double>(QuantDtype::quint8, QScheme::per_tensor_affine, 0);
                 }});
    r.push_back({"MinMaxObserver: range without 0", Kind::Value, "include 0", [] {
                   MinMaxObserver<double>(QuantDtype::quint8, QScheme::per_tensor_affine, 1, 10);
                 }});
    r.push_back({"MinMaxObserver: range beyond qint8", Kind::Value, "qint8", [] {
                   MinMaxObserver<double>(QuantDtype::qint8, QScheme::per_tensor_affine, -200, 10);
                 }});
    auto mm = std::make_shared<MinMaxObserver<double>>();
    r.push_back({"MinMaxObserver: qparams before observing",
                 Kind::State,
                 "nothing was observed",
                 [mm] { mm->calculate_qparams(); },
                 {},
                 {mm}});
    r.push_back({"MinMaxObserver: forward of NaN",
                 Kind::Value,
                 "finite",
                 [mm] {
                   mm->forward(tensor<double>({0.0, kNaN}));
                 },
                 {},
                 {mm}});
    r.push_back({"MinMaxObserver: forward undefined",
                 Kind::Value,
                 "undefined",
                 [mm, u] { mm->forward(u); },
                 {},
                 {mm}});
    r.push_back({"MinMaxObserver: set_min_val NaN",
                 Kind::Value,
                 "NaN",
                 [mm] { mm->set_min_val(kNaN); },
                 {},
                 {mm}});
    auto fq = std::make_shared<FakeQuantize<double>>();
    fq->disable_observer();
    r.push_back({"FakeQuantize: forward without qparams",
                 Kind::State,
                 "no qparams",
                 [fq, x] { fq->forward(x); },
                 {x},
                 {fq}});
    r.push_back({"FakeQuantize: forward undefined",
                 Kind::Value,
                 "undefined",
                 [fq, u] { fq->forward(u); },
                 {},
                 {fq}});
    auto fq_on = std::make_shared<FakeQuantize<double>>();
    r.push_back({"FakeQuantize: forward of an infinite value",
                 Kind::Value,
                 "inf",
                 [fq_on] {
                   fq_on->forward(tensor<double>({0.0, kInf}));
                 },
                 {},
                 {fq_on}});
    r.push_back({"FakeQuantize: load a zero scale",
                 Kind::Value,
                 "scale",
                 [fq] {
                   auto d = fq->state_dict();
                   for (auto& kv : d) {
                     if (kv.first == "scale") kv.second = xt::xarray<double>({0.0});
                     if (kv.first == "zero_point") kv.second = xt::xarray<double>({0.0});
                   }
                   fq->load_state_dict(d);
                 },
                 {},
                 {fq}});
  }

  // ---------------------------------------------------------------- QAT: configs, layers, workflow
  {
    using Seq = nn::Sequential<double>;
    using Mods = std::initializer_list<std::shared_ptr<Module<double>>>;
    const auto mlp = [] {
      return std::make_shared<Seq>(
          Mods{std::make_shared<nn::Linear<double>>(3, 2), std::make_shared<nn::ReLU<double>>()});
    };
    const auto u8 = uniform_qconfig<double>(8);
    auto plain = mlp();
    r.push_back({"prepare_qat: the model is a Linear itself", Kind::Value,
                 "the model itself is a Linear", [u8] {
                   nn::Linear<double> fc(3, 2);
                   prepare_qat<double>(fc, u8);
                 }});
    r.push_back({"prepare_qat: override of a name that does not exist",
                 Kind::Value,
                 "override \"2\" names no nn::Linear",
                 [plain, u8] {
                   prepare_qat<double>(*plain, u8, {{"2", u8}});
                 },
                 {},
                 {plain}});
    r.push_back({"prepare_qat: override naming a ReLU",
                 Kind::Value,
                 "(it is a ReLU)",
                 [plain, u8] {
                   prepare_qat<double>(*plain, u8, {{"1", u8}});
                 },
                 {},
                 {plain}});
    auto relus = std::make_shared<Seq>(Mods{std::make_shared<nn::ReLU<double>>()});
    r.push_back({"prepare_qat: nothing to swap",
                 Kind::Value,
                 "no nn::Linear or nn::Conv2d",
                 [relus, u8] { prepare_qat<double>(*relus, u8); },
                 {},
                 {relus}});
    auto prepared = mlp();
    prepare_qat<double>(*prepared, u8);
    r.push_back({"prepare_qat: an already prepared model",
                 Kind::Value,
                 "already prepared",
                 [prepared, u8] { prepare_qat<double>(*prepared, u8); },
                 {},
                 {prepared}});
    QConfig<double> null_weight = u8;
    null_weight.weight = [](const Shape&) { return std::shared_ptr<FakeQuantizeBase<double>>(); };
    r.push_back({"prepare_qat: a weight factory returning null",
                 Kind::Value,
                 "weight factory returned null",
                 [plain, null_weight] { prepare_qat<double>(*plain, null_weight); },
                 {},
                 {plain}});
    auto one_weight = std::make_shared<Seq>(Mods{std::make_shared<nn::Linear<double>>(1, 1)});
    r.push_back({"prepare_qat: weight normalization of a single weight",
                 Kind::Value,
                 "at least 2 weights",
                 [one_weight] { prepare_qat<double>(*one_weight, apot_rcf_qconfig<double>(4)); },
                 {},
                 {one_weight}});
    r.push_back({"calibrate: a batch of the wrong width",
                 Kind::Shape,
                 "linear",
                 [prepared] {
                   calibrate<double>(*prepared, {leaf({2, 3}), leaf({2, 5})});
                 },
                 {},
                 {prepared}});
    r.push_back({"convert: a float model",
                 Kind::State,
                 "no QAT layer",
                 [plain] { convert<double>(*plain); },
                 {},
                 {plain}});
    r.push_back({"convert: before calibrate",
                 Kind::State,
                 "calibrate first",
                 [prepared] { convert<double>(*prepared); },
                 {},
                 {prepared}});

    r.push_back(
        {"make_qconfig: uniform bits 9", Kind::Value, "uniform bits must be in [2, 8], got 9", [] {
           make_qconfig<double>({QuantMethod::uniform, 9, true}, std::nullopt);
         }});
    r.push_back({"make_qconfig: per-channel APoT", Kind::Value, "per_channel", [] {
                   make_qconfig<double>({QuantMethod::apot_rcf, 4, true, true}, std::nullopt);
                 }});
    r.push_back({"make_qconfig: negative ch_axis", Kind::Value, "ch_axis must be >= 0, got -1", [] {
                   make_qconfig<double>({QuantMethod::uniform, 8, true, true, -1}, std::nullopt);
                 }});
    r.push_back({"make_qconfig: eps 0", Kind::Value, "eps", [] {
                   make_qconfig<double>({QuantMethod::uniform, 8, true}, std::nullopt,
                                        WeightNorm::standardize, 0.0);
                 }});
    r.push_back(
        {"apot_rcf_qconfig: bits 1", Kind::Value, "b=1", [] { apot_rcf_qconfig<double>(1); }});
    r.push_back(
        {"apot_rcf_qconfig: bits 0", Kind::Value, "got b=0", [] { apot_rcf_qconfig<double>(0); }});
    r.push_back({"apot_fixed_qconfig: bits 100", Kind::Value, "b=100 gives more than",
                 [] { apot_fixed_qconfig<double>(100); }});
    r.push_back({"uniform_lsq_qconfig: bits 1", Kind::Value, "bits",
                 [] { uniform_lsq_qconfig<double>(1); }});
    r.push_back({"make_fake_quantize: per-channel LSQ without the axis", Kind::Shape,
                 "ch_axis 2 is out of range", [] {
                   make_fake_quantize<double>({QuantMethod::uniform_lsq, 4, true, true, 2}, {4, 3});
                 }});
    r.push_back({"decode_qconfig_name: not a character code", Kind::Value, "element 1", [] {
                   decode_qconfig_name<double>(xt::xarray<double>({65.0, 0.5}));
                 }});

    r.push_back({"qat::Linear: a float qconfig", Kind::Value, "no weight factory",
                 [] { qat::Linear<double>(3, 2, true, float_qconfig<double>()); }});
    r.push_back({"qat::Conv2d: a float qconfig", Kind::Value, "no weight factory",
                 [] { qat::Conv2d<double>(nn::Conv2dOptions(2, 4, 3), float_qconfig<double>()); }});
    r.push_back({"qat::Conv2d: groups not dividing", Kind::Value, "groups",
                 [u8] { qat::Conv2d<double>(nn::Conv2dOptions(2, 4, 3).groups(3), u8); }});
    auto ql = std::make_shared<qat::Linear<double>>(3, 2, true, u8);
    r.push_back({"qat::Linear: forward undefined",
                 Kind::Value,
                 "input is undefined",
                 [ql, u] { ql->forward(u); },
                 {},
                 {ql}});
    r.push_back({"qat::Linear: forward of the wrong width",
                 Kind::Shape,
                 "linear",
                 [ql] {
                   ql->forward(leaf({2, 4}));
                 },
                 {},
                 {ql}});
    r.push_back({"qat::Linear: load a state of another qconfig",
                 Kind::Value,
                 "qconfig",
                 [ql] {
                   qat::Linear<double> other(3, 2, true, uniform_qconfig<double>(4));
                   ql->load_state_dict(other.state_dict());
                 },
                 {},
                 {ql}});
    auto qc = std::make_shared<qat::Conv2d<double>>(nn::Conv2dOptions(2, 4, 3), u8);
    r.push_back({"qat::Conv2d: forward of other channels",
                 Kind::Shape,
                 "the weight expects 2",
                 [qc] {
                   qc->forward(leaf({1, 3, 5, 5}));
                 },
                 {},
                 {qc}});
  }

  // ---------------------------------------------------------------- learnable quantizers
  {
    const D x = leaf({2, 3}), alpha = D(xt::xarray<double>({2.0}), true);
    const std::vector<double> lv = {0.0, 0.5, 1.0};
    r.push_back({"rcf_fake_quantize: alpha 0",
                 Kind::Value,
                 "alpha must be finite and > 0",
                 [x] {
                   rcf_fake_quantize(x, D(xt::xarray<double>({0.0}), true), {0.0, 0.5, 1.0});
                 },
                 {x}});
    r.push_back({"rcf_fake_quantize: negative alpha",
                 Kind::Value,
                 "alpha must be finite and > 0",
                 [x, lv] { rcf_fake_quantize(x, D(xt::xarray<double>({-1.0})), lv); },
                 {x}});
    r.push_back({"rcf_fake_quantize: NaN alpha",
                 Kind::Value,
                 "alpha must be finite and > 0",
                 [x, lv] { rcf_fake_quantize(x, D(xt::xarray<double>({kNaN})), lv); },
                 {x}});
    r.push_back({"rcf_fake_quantize: alpha of two values",
                 Kind::Shape,
                 "alpha must hold one value",
                 [x, lv] { rcf_fake_quantize(x, leaf({2}), lv); },
                 {x}});
    r.push_back({"rcf_fake_quantize: undefined alpha",
                 Kind::Value,
                 "alpha is undefined",
                 [x, u, lv] { rcf_fake_quantize(x, u, lv); },
                 {x}});
    r.push_back({"rcf_fake_quantize: undefined x",
                 Kind::Value,
                 "x is undefined",
                 [u, alpha, lv] { rcf_fake_quantize(u, alpha, lv); },
                 {alpha}});
    r.push_back({"rcf_fake_quantize: unsorted levels",
                 Kind::Value,
                 "strictly ascending",
                 [x, alpha] {
                   rcf_fake_quantize(x, alpha, {0.0, 0.75, 0.5, 1.0});
                 },
                 {x, alpha}});
    r.push_back({"rcf_fake_quantize: levels not ending at 1",
                 Kind::Value,
                 "levels",
                 [x, alpha] {
                   rcf_fake_quantize(x, alpha, {0.0, 0.5, 0.9});
                 },
                 {x, alpha}});
    r.push_back({"rcf_fake_quantize: one level",
                 Kind::Value,
                 "at least 2",
                 [x, alpha] { rcf_fake_quantize(x, alpha, {1.0}); },
                 {x, alpha}});
    r.push_back({"rcf_fake_quantize: NaN grad_scale",
                 Kind::Value,
                 "grad_scale",
                 [x, alpha, lv] { rcf_fake_quantize(x, alpha, lv, kNaN); },
                 {x, alpha}});
    r.push_back({"lsq_grad_scale: numel 0", Kind::Value, "numel", [] { lsq_grad_scale(0, 7); }});
    r.push_back({"apot_unsigned_levels: b 0", Kind::Value, "b must be >= 1, got b=0",
                 [] { apot_unsigned_levels(0, 2); }});
    r.push_back({"apot_sign_magnitude_levels: b 1", Kind::Value, "got b=1",
                 [] { apot_sign_magnitude_levels(1); }});
    r.push_back({"RCFFakeQuantize: alpha 0", Kind::Value, "alpha must be finite and > 0", [] {
                   RCFOptions<double> o;
                   o.alpha = 0.0;
                   RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
                 }});
    r.push_back({"RCFFakeQuantize: NaN min_alpha", Kind::Value, "min_alpha", [] {
                   RCFOptions<double> o;
                   o.min_alpha = kNaN;
                   RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
                 }});
    r.push_back({"RCFFakeQuantize: infinite grad_scale", Kind::Value, "grad_scale", [] {
                   RCFOptions<double> o;
                   o.grad_scale = kInf;
                   RCFFakeQuantize<double>(apot_unsigned_levels(4, 2), o);
                 }});
    auto rcf = std::make_shared<RCFFakeQuantize<double>>(apot_sign_magnitude_levels(4));
    rcf->alpha().mutable_data().fill(
        -0.5);  // as an optimizer step without clamp_alpha_() could leave it
    r.push_back({"RCFFakeQuantize: forward with a negative alpha",
                 Kind::Value,
                 "alpha",
                 [rcf, x] { rcf->forward(x); },
                 {x},
                 {rcf}});
    RCFOptions<double> observing;
    observing.init = AlphaInit::max_abs;
    auto rcf_obs = std::make_shared<RCFFakeQuantize<double>>(apot_unsigned_levels(4, 2), observing);
    r.push_back({"RCFFakeQuantize: observe a NaN",
                 Kind::Value,
                 "cannot observe",
                 [rcf_obs] {
                   rcf_obs->forward(tensor<double>({1.0, kNaN}));
                 },
                 {},
                 {rcf_obs}});

    const D s1 = D(xt::xarray<double>({0.1}), true), z1 = D(xt::xarray<double>({0.0}), true);
    r.push_back({"fake_quantize_learnable_per_tensor_affine: scale 0",
                 Kind::Value,
                 "scale",
                 [x, z1] {
                   fake_quantize_learnable_per_tensor_affine(x, D(xt::xarray<double>({0.0})), z1, 0,
                                                             255);
                 },
                 {x, z1}});
    r.push_back({"fake_quantize_learnable_per_tensor_affine: scale of two values",
                 Kind::Shape,
                 "scale",
                 [x, z1] { fake_quantize_learnable_per_tensor_affine(x, leaf({2}), z1, 0, 255); },
                 {x, z1}});
    r.push_back({"fake_quantize_learnable_per_tensor_affine: quant_min above quant_max",
                 Kind::Value,
                 "quant_min",
                 [x, s1, z1] { fake_quantize_learnable_per_tensor_affine(x, s1, z1, 10, 5); },
                 {x, s1, z1}});
    r.push_back(
        {"fake_quantize_learnable_per_tensor_affine: NaN grad_factor",
         Kind::Value,
         "grad_factor",
         [x, s1, z1] { fake_quantize_learnable_per_tensor_affine(x, s1, z1, 0, 255, kNaN); },
         {x, s1, z1}});
    r.push_back({"fake_quantize_learnable_per_channel_affine: axis out of range",
                 Kind::Shape,
                 "axis",
                 [x] {
                   fake_quantize_learnable_per_channel_affine(x, leaf({3}), zeros<double>({3}), 2,
                                                              0, 255);
                 },
                 {x}});
    r.push_back({"LearnableFakeQuantize: scale 0", Kind::Value, "scale", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.scale = 0.0;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: negative scale", Kind::Value, "scale", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.scale = -0.1;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: NaN zero_point", Kind::Value, "zero_point", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.zero_point = kNaN;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: quant_min equal to quant_max", Kind::Value,
                 "quant_min must be strictly less than quant_max", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.quant_min = o.quant_max = 7;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: quant range beyond quint8", Kind::Value, "quint8", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.quant_max = 1000;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: channel_len 0", Kind::Value, "channel_len", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.channel_len = 0;
                   LearnableFakeQuantize<double>{o};
                 }});
    r.push_back({"LearnableFakeQuantize: per-channel qscheme without channel_len", Kind::Value,
                 "is per channel but channel_len is -1", [] {
                   LearnableFakeQuantizeOptions<double> o;
                   o.qscheme = QScheme::per_channel_affine;
                   LearnableFakeQuantize<double>{o};
                 }});
    LearnableFakeQuantizeOptions<double> per_channel;
    per_channel.qscheme = QScheme::per_channel_affine;
    per_channel.channel_len = 4;
    auto lsq = std::make_shared<LearnableFakeQuantize<double>>(per_channel);
    r.push_back({"LearnableFakeQuantize: forward of another channel count",
                 Kind::Shape,
                 "observer found",
                 [lsq, x] { lsq->forward(x); },
                 {x},
                 {lsq}});

    r.push_back({"weight_standardize: one element", Kind::Value, "at least 2 elements",
                 [] { weight_standardize(leaf({1})); }});
    r.push_back({"weight_standardize: negative eps",
                 Kind::Value,
                 "eps",
                 [x] { weight_standardize(x, -1e-5); },
                 {x}});
    r.push_back({"weight_standardize: NaN eps",
                 Kind::Value,
                 "eps",
                 [x] { weight_standardize(x, kNaN); },
                 {x}});
    r.push_back({"weight_standardize: undefined", Kind::Value, "undefined",
                 [u] { weight_standardize(u); }});
    r.push_back({"weight_std: one element", Kind::Value, "at least 2 elements",
                 [] { weight_std(leaf({1})); }});
    r.push_back({"rescale_by_weight_std: undefined quantized",
                 Kind::Value,
                 "undefined",
                 [x, u] { rescale_by_weight_std(u, x); },
                 {x}});

    auto pc_far = std::make_shared<PerChannelFakeQuantize<double>>(5);
    r.push_back({"PerChannelFakeQuantize: axis 5 of a 2-D input",
                 Kind::Shape,
                 "axis 5 is out of range",
                 [pc_far, x] { pc_far->forward(x); },
                 {x},
                 {pc_far}});
    auto pc_neg = std::make_shared<PerChannelFakeQuantize<double>>(-3);
    r.push_back({"PerChannelFakeQuantize: axis -3 of a 2-D input",
                 Kind::Shape,
                 "axis -3 is out of range",
                 [pc_neg, x] { pc_neg->forward(x); },
                 {x},
                 {pc_neg}});
    r.push_back({"PerChannelFakeQuantize: a per-tensor qscheme", Kind::Value, "per tensor", [] {
                   PerChannelFakeQuantize<double>(0, QuantDtype::qint8,
                                                  QScheme::per_tensor_symmetric);
                 }});
    auto pc_off = std::make_shared<PerChannelFakeQuantize<double>>(0);
    pc_off->disable_observer();
    r.push_back({"PerChannelFakeQuantize: forward without qparams",
                 Kind::State,
                 "PerChannelFakeQuantize",
                 [pc_off, x] { pc_off->forward(x); },
                 {x},
                 {pc_off}});
    r.push_back({"fake_quantize_per_channel_affine: axis out of range",
                 Kind::Shape,
                 "axis",
                 [x] {
                   fake_quantize_per_channel_affine(x, full<double>({3}, 0.1), zeros<double>({3}),
                                                    2, -128, 127);
                 },
                 {x}});
    r.push_back({"fake_quantize_per_channel_affine: scale of the wrong length",
                 Kind::Shape,
                 "scale",
                 [x] {
                   fake_quantize_per_channel_affine(x, full<double>({2}, 0.1), zeros<double>({3}),
                                                    1, -128, 127);
                 },
                 {x}});
    r.push_back({"fake_quantize_per_channel_affine: zero_point outside the range",
                 Kind::Value,
                 "zero_point",
                 [x] {
                   fake_quantize_per_channel_affine(x, full<double>({3}, 0.1),
                                                    full<double>({3}, 200.0), 1, -128, 127);
                 },
                 {x}});
  }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bad_input_table)

BOOST_AUTO_TEST_CASE(
    every_bad_call_raises_its_typed_error_naming_the_argument_and_changes_nothing) {
  const std::vector<Row> table = rows();
  BOOST_TEST_MESSAGE(table.size() << " bad calls");
  BOOST_TEST(table.size() > 150u);
  for (const auto& row : table) {
    BOOST_TEST_CONTEXT(row.what) {
      std::vector<TensorSnapshot> tensors;
      for (const auto& t : row.tensors) tensors.emplace_back(t);
      std::vector<ModuleSnapshot> modules;
      for (const auto& m : row.modules) modules.emplace_back(m);
      try {
        row.call();
        BOOST_ERROR("no error");
      } catch (const Error& e) {
        BOOST_TEST(is_kind(e, row.kind), "expected " << name_of(row.kind) << ", got: " << e.what());
        BOOST_TEST(contains(e.what(), row.needle),
                   "message lacks \"" << row.needle << "\": " << e.what());
      } catch (const std::exception& e) {
        BOOST_ERROR("not an xgrad::Error: " << e.what());
      }
      for (std::size_t i = 0; i < tensors.size(); ++i)
        BOOST_TEST(tensors[i].same(), "tensor " << i << " changed");
      for (std::size_t i = 0; i < modules.size(); ++i)
        BOOST_TEST(modules[i].same(), "module " << i << " changed");
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(allocation)

// Requests above 1 GiB fail in these cases, as they would on a small machine.
constexpr std::size_t kLimit = std::size_t(1) << 30;

BOOST_AUTO_TEST_CASE(creating_a_tensor_too_large_for_memory_is_a_resource_error) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  AllocationLimit limit(kLimit);
  Generator gen(1);
  const std::vector<std::pair<const char*, std::function<void()>>> calls = {
      {"zeros", [] { zeros<float>({std::size_t(1) << 40}); }},
      {"ones",
       [] {
         ones<double>({std::size_t(1) << 20, std::size_t(1) << 20});
       }},
      {"full", [] { full<float>({std::size_t(1) << 40}, 2.0f); }},
      {"rand", [&gen] { rand<double>({std::size_t(1) << 40}, gen); }},
      {"randn", [&gen] { randn<float>({std::size_t(1) << 40}, gen); }},
      {"randint", [&gen] { randint<float>(0, 9, {std::size_t(1) << 40}, gen); }},
      {"arange", [] { arange<double>(0.0, 1e15, 1.0); }},
  };
  for (const auto& c : calls) {
    BOOST_TEST_CONTEXT(c.first) {
      BOOST_CHECK_EXCEPTION(c.second(), ResourceError,
                            xgrad_test::mentions<ResourceError>(std::string(c.first) + ":"));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_op_whose_result_does_not_fit_is_a_resource_error_naming_the_op) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  const D x = ones<double>({256, 1024}, true);  // 2 MiB
  const TensorSnapshot before(x);
  AllocationLimit limit(std::size_t(1) << 20);
  BOOST_CHECK_EXCEPTION(exp(x), ResourceError, xgrad_test::mentions<ResourceError>("Exp"));
  BOOST_CHECK_EXCEPTION(matmul(x, transpose(x)), ResourceError,
                        xgrad_test::mentions<ResourceError>("memory"));
  BOOST_TEST(before.same());
}

BOOST_AUTO_TEST_CASE(backward_out_of_memory_is_a_resource_error_and_can_be_retried) {
  if (!xgrad_test::kAllocationLimitWorks) {
    BOOST_TEST_MESSAGE("skipped: no allocation limit under AddressSanitizer or ThreadSanitizer");
    return;
  }
  const D x = ones<double>({256, 1024}, true);
  const D y = sum(exp(x) * 2.0);
  {
    AllocationLimit limit(std::size_t(1) << 20);
    BOOST_CHECK_EXCEPTION(y.backward(), ResourceError,
                          xgrad_test::mentions<ResourceError>("backward"));
    BOOST_TEST(!x.grad().defined());
  }
  y.backward();  // the graph was left as it was
  BOOST_TEST(x.grad().data()(0, 0) == 2.0 * std::exp(1.0));
}

BOOST_AUTO_TEST_CASE(an_impossible_shape_is_a_value_error_even_when_empty) {
  // 0 elements, but the strides (products of the non-zero extents) overflow.
  BOOST_CHECK_EXCEPTION(zeros<double>({0, std::size_t(1) << 32, std::size_t(1) << 32}), ValueError,
                        xgrad_test::mentions<ValueError>("zeros: shape"));
  BOOST_CHECK_EXCEPTION(ones<float>({std::size_t(1) << 61}), ValueError,
                        xgrad_test::mentions<ValueError>("ones: shape"));
  BOOST_TEST(zeros<double>({0, std::size_t(1) << 20, std::size_t(1) << 20}).numel() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
