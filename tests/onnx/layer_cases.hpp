// The layers ONNX export covers, one table shared by the export suite (which
// ONNX nodes each becomes) and the runtime suite (ONNX Runtime computes what
// xgrad computes). Odd sizes everywhere; the batch axis is free.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

#include "xgrad/module.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/random.hpp"

namespace onnx_cases {

using xgrad::Module;
using xgrad::Shape;
using ModulePtr = std::shared_ptr<Module<float>>;
namespace nn = xgrad::nn;

// How far ONNX Runtime's float result may be from xgrad's, element by
// element (u = 2^-24, float's unit roundoff; gamma(n) = n u / (1 - n u)):
enum class Bound {
  // Selection and copies (ReLU, max pooling, Flatten, Dropout): no rounding
  // at all, so the results are bit-identical.
  exact,
  // Sums of products (Linear, Conv2d, pooling means, eval BatchNorm, and
  // chains of them with ReLU / max pooling between). Any summation order (BLAS
  // blocking, MLAS kernels, FMA or not) of n terms is within gamma(n) * sum |a_i
  // b_i| of the exact value, so the two results are within 2 gamma(n) A, where
  // A is the same network run on |x| with every weight and bias replaced by its
  // absolute value (BatchNorm's running mean by -|mean|): A bounds every
  // partial sum. Through a chain, each layer's error is carried on by the
  // next (ReLU and max pooling never enlarge it), so n is the sum over layers
  // of terms per output (fan-in + 1 for the bias, a few for BatchNorm).
  sums,
  // BatchNorm with the batch's own statistics: xgrad sums in double, ONNX
  // Runtime in float; the mean and the biased variance of `rounding` values
  // each carry at most gamma(rounding) relative error, so the output is within
  // 2 gamma(rounding + 8) of ((|x| + mean |x|) invstd |weight| + |bias|).
  batch_statistics,
  // Sigmoid and Tanh: results in [-1, 1]; MLAS computes them with a rational
  // approximation (Eigen's), xgrad with libm; both within a few ulp of 1.
  // Bound: 8 u absolute.
  squashing,
  // Softmax over n values: each exp is within a few ulp (relative), the sum
  // within gamma(n), the division within u: 2 (n + 8) u relative to y.
  softmax,
  // LogSoftmax: y = (x - max) - log(sum exp): the log of a sum with relative
  // error (n + 8) u is off by that much absolutely, and the subtractions add u
  // |y| each: 2 u (n + 8 + 2 |y|).
  log_softmax,
};

struct LayerCase {
  std::string name;
  // A new module, the same every call (its own seeded generator), so that the
  // bound's absolute-value copy can be made of it.
  std::function<ModulePtr()> make;
  Shape sample_shape;            // the input without its batch axis
  std::vector<std::string> ops;  // the ONNX nodes it becomes, in order
  Bound bound;
  std::size_t terms = 0;  // n of the bound: terms per output (sums, softmax ...)
  // For Bound::sums of a layer whose input is quantized (quant_cases.hpp): A
  // of the bound for module m on input x (null: the absolute-value copy).
  std::function<xt::xarray<float>(Module<float>& m, const xt::xarray<float>& x)> magnitude = {};
};

// Every parameter and buffer drawn again: weights and means in [-1, 1),
// running variances in [0.5, 2), so eval BatchNorm does real work.
inline void randomize_state(Module<float>& m, std::uint64_t seed) {
  xgrad::Generator gen(seed);
  xgrad::StateDict<float> state = m.state_dict();
  for (auto& kv : state) {
    const std::string& key = kv.first;
    const bool variance = key.size() >= 11 && key.compare(key.size() - 11, 11, "running_var") == 0;
    const bool count = key.find("num_batches_tracked") != std::string::npos;
    if (count) continue;
    Shape shape(kv.second.shape().begin(), kv.second.shape().end());
    kv.second = variance ? xgrad::rand<float>(shape, gen, 0.5f, 2.0f).data()
                         : xgrad::rand<float>(shape, gen, -1.0f, 1.0f).data();
  }
  m.load_state_dict(state);
}

template <class M, class... Args>
std::function<ModulePtr()> maker(Args... args) {
  return [=] { return std::static_pointer_cast<Module<float>>(std::make_shared<M>(args...)); };
}

// A layer built with its own generator (Linear, Conv2d), then randomized.
template <class M, class... Args>
std::function<ModulePtr()> seeded(std::uint64_t seed, Args... args) {
  return [=] {
    xgrad::Generator gen(seed);
    auto m = std::make_shared<M>(args..., gen);
    return std::static_pointer_cast<Module<float>>(m);
  };
}

template <class M, class... Args>
std::function<ModulePtr()> randomized(std::uint64_t seed, Args... args) {
  return [=] {
    ModulePtr m = std::make_shared<M>(args...);
    randomize_state(*m, seed);
    return m;
  };
}

// The experiment's LeNet-5 for 28x28 grayscale images, as layers: conv 1->6
// 5x5 (padding 2), ReLU, max pool 2, conv 6->16 5x5, ReLU, max pool 2,
// flatten, Linear 400-120-84-10 with ReLUs between.
inline std::shared_ptr<nn::Sequential<float>> lenet5(std::uint64_t seed) {
  xgrad::Generator gen(seed);
  using nn::Conv2dOptions;
  return std::make_shared<nn::Sequential<float>>(std::initializer_list<ModulePtr>{
      std::make_shared<nn::Conv2d<float>>(Conv2dOptions(1, 6, 5).padding(2), gen),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Conv2d<float>>(Conv2dOptions(6, 16, 5), gen),
      std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2),
      std::make_shared<nn::Flatten<float>>(),
      std::make_shared<nn::Linear<float>>(400, 120, true, gen), std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Linear<float>>(120, 84, true, gen), std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Linear<float>>(84, 10, true, gen)});
}

inline std::vector<LayerCase> layer_cases() {
  using nn::Conv2dOptions;
  using nn::Pool2dOptions;
  const auto conv_grouped = [] {
    xgrad::Generator gen(12);
    return std::static_pointer_cast<Module<float>>(
        std::make_shared<nn::Conv2d<float>>(Conv2dOptions(4, 6, {3, 2})
                                                .stride({2, 1})
                                                .padding({1, 0})
                                                .dilation({1, 2})
                                                .groups(2)
                                                .bias(false),
                                            gen));
  };
  const auto nested = [] {
    xgrad::Generator gen(13);
    auto bn = std::make_shared<nn::BatchNorm2d<float>>(4);
    randomize_state(*bn, 14);
    auto head = std::make_shared<nn::Sequential<float>>(std::initializer_list<ModulePtr>{
        std::make_shared<nn::Flatten<float>>(),
        std::make_shared<nn::Linear<float>>(36, 7, true, gen), std::make_shared<nn::ReLU<float>>(),
        std::make_shared<nn::Dropout<float>>(0.25),
        std::make_shared<nn::Linear<float>>(7, 3, true, gen)});
    return std::static_pointer_cast<Module<float>>(
        std::make_shared<nn::Sequential<float>>(std::initializer_list<ModulePtr>{
            std::make_shared<nn::Conv2d<float>>(Conv2dOptions(2, 4, 3).padding(1), gen), bn,
            std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::MaxPool2d<float>>(2), head}));
  };
  // Terms per output of `nested`: conv 2*3*3 + 1, BatchNorm 8, fc 36 + 1, fc 7 + 1.
  const std::size_t nested_terms = 19 + 8 + 37 + 8;
  return {
      {"linear", seeded<nn::Linear<float>>(1, 7, 5, true), {7}, {"Gemm"}, Bound::sums, 8},
      {"linear_no_bias", seeded<nn::Linear<float>>(2, 7, 5, false), {7}, {"Gemm"}, Bound::sums, 7},
      {"linear_rank3",
       seeded<nn::Linear<float>>(3, 7, 5, true),
       {3, 7},
       {"Transpose", "MatMul", "Add"},
       Bound::sums,
       8},
      {"conv2d",
       seeded<nn::Conv2d<float>>(4, 3, 4, xgrad::Size2(3)),
       {3, 9, 11},
       {"Conv"},
       Bound::sums,
       3 * 9 + 1},
      {"conv2d_strided_padded_dilated_grouped",
       conv_grouped,
       {4, 10, 9},
       {"Conv"},
       Bound::sums,
       2 * 3 * 2},
      {"batchnorm2d",
       randomized<nn::BatchNorm2d<float>>(5, 3),
       {3, 5, 7},
       {"BatchNormalization"},
       Bound::sums,
       8},
      {"batchnorm2d_no_affine",
       randomized<nn::BatchNorm2d<float>>(6, 3, 1e-3, 0.1, false),
       {3, 5, 7},
       {"BatchNormalization"},
       Bound::sums,
       8},
      {"batchnorm1d",
       randomized<nn::BatchNorm1d<float>>(7, 6),
       {6},
       {"BatchNormalization"},
       Bound::sums,
       8},
      {"batchnorm1d_rank3",
       randomized<nn::BatchNorm1d<float>>(8, 6),
       {6, 4},
       {"BatchNormalization"},
       Bound::sums,
       8},
      {"batchnorm2d_batch_statistics",
       randomized<nn::BatchNorm2d<float>>(9, 3, 1e-5, 0.1, true, false),
       {3, 5, 7},
       {"ReduceMean", "Sub", "Mul", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"},
       Bound::batch_statistics,
       5 * 5 * 7},
      {"max_pool2d",
       maker<nn::MaxPool2d<float>>(Pool2dOptions(2)),
       {3, 7, 9},
       {"MaxPool"},
       Bound::exact},
      {"max_pool2d_strided_padded",
       maker<nn::MaxPool2d<float>>(Pool2dOptions({3, 2}).stride({2, 1}).padding({1, 1})),
       {2, 8, 7},
       {"MaxPool"},
       Bound::exact},
      {"avg_pool2d",
       maker<nn::AvgPool2d<float>>(Pool2dOptions(2)),
       {3, 7, 9},
       {"AveragePool"},
       Bound::sums,
       4 + 1},
      {"avg_pool2d_strided_padded",
       maker<nn::AvgPool2d<float>>(Pool2dOptions(3).stride(2).padding(1)),
       {2, 8, 7},
       {"AveragePool"},
       Bound::sums,
       9 + 1},
      {"adaptive_avg_pool2d_global",
       maker<nn::AdaptiveAvgPool2d<float>>(xgrad::Size2(1)),
       {3, 7, 5},
       {"GlobalAveragePool"},
       Bound::sums,
       35 + 1},
      {"adaptive_avg_pool2d_divisible",
       maker<nn::AdaptiveAvgPool2d<float>>(xgrad::Size2(2, 3)),
       {3, 6, 9},
       {"AveragePool"},
       Bound::sums,
       9 + 1},
      {"adaptive_avg_pool2d_uneven_windows",
       maker<nn::AdaptiveAvgPool2d<float>>(xgrad::Size2(3, 4)),
       {2, 7, 10},
       {"MatMul", "MatMul"},
       Bound::sums,
       7 + 10 + 3},
      {"relu", maker<nn::ReLU<float>>(), {3, 4}, {"Relu"}, Bound::exact},
      {"sigmoid", maker<nn::Sigmoid<float>>(), {3, 4}, {"Sigmoid"}, Bound::squashing},
      {"tanh", maker<nn::Tanh<float>>(), {3, 4}, {"Tanh"}, Bound::squashing},
      {"softmax", maker<nn::Softmax<float>>(1), {5}, {"Softmax"}, Bound::softmax, 5},
      {"softmax_last_of_rank3",
       maker<nn::Softmax<float>>(-1),
       {3, 4},
       {"Softmax"},
       Bound::softmax,
       4},
      {"log_softmax", maker<nn::LogSoftmax<float>>(1), {6}, {"LogSoftmax"}, Bound::log_softmax, 6},
      {"flatten", maker<nn::Flatten<float>>(), {3, 4, 5}, {"Flatten"}, Bound::exact},
      {"flatten_inner_axes", maker<nn::Flatten<float>>(2, 3), {3, 4, 5}, {"Reshape"}, Bound::exact},
      {"flatten_with_batch_axis",
       maker<nn::Flatten<float>>(0, 1),
       {3, 4},
       {"Reshape"},
       Bound::exact},
      {"dropout", maker<nn::Dropout<float>>(0.3), {4}, {"Identity"}, Bound::exact},
      {"empty_sequential", maker<nn::Sequential<float>>(), {4}, {"Identity"}, Bound::exact},
      {"nested_sequential",
       nested,
       {2, 6, 6},
       {"Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"},
       Bound::sums,
       nested_terms},
  };
}

}  // namespace onnx_cases
