// libFuzzer harness: a fuzzed state dict loaded into a model holding every
// kind of layer and quantizer, then a forward, a backward and an optimizer
// step. The fuzzer edits the model's own state dict (element values of any
// bit pattern, new shapes, dropped keys, strict or not); every call may throw
// an xgrad::Error, and anything else (a crash, UB, a leak, another exception)
// is a finding.
#include <cstdint>
#include <memory>

#include "fuzz_input.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/batchnorm.hpp"
#include "xgrad/nn/dropout.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops/reduce.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/quant/fake_quantize/apot_fake_quantize.hpp"
#include "xgrad/quant/fake_quantize/fake_quantize.hpp"
#include "xgrad/quant/quantized/linear_apot.hpp"
#include "xgrad/random.hpp"

using namespace xgrad;
using xgrad_fuzz::FuzzInput;

namespace {

struct Model {
  std::shared_ptr<nn::Sequential<double>> net;
  std::shared_ptr<quant::LinearAPoT<double>> apot_linear;
};

Model make_model() {
  Generator gen(1);
  Model m;
  m.apot_linear = std::make_shared<quant::LinearAPoT<double>>(randn<double>({3, 5}, gen), 4, 2,
                                                              randn<double>({3}, gen));
  m.net = std::make_shared<nn::Sequential<double>>(
      std::initializer_list<std::shared_ptr<Module<double>>>{
          std::make_shared<quant::FakeQuantize<double>>(),
          std::make_shared<nn::Linear<double>>(6, 5, true, gen),
          std::make_shared<nn::BatchNorm1d<double>>(5),
          std::make_shared<nn::ReLU<double>>(),
          std::make_shared<quant::APoTFakeQuantize<double>>(4, 2),
          std::make_shared<nn::Dropout<double>>(0.25, 7),
          m.apot_linear,
          std::make_shared<nn::Tanh<double>>(),
          std::make_shared<nn::Sigmoid<double>>(),
          std::make_shared<nn::Flatten<double>>(),
          std::make_shared<nn::Softmax<double>>(1),
          std::make_shared<nn::LogSoftmax<double>>(1),
      });
  // One forward so that the quantizers hold qparams.
  m.net->forward(randn<double>({4, 6}, gen));
  return m;
}

template <class F>
void tolerate_errors(F f) {
  try {
    f();
  } catch (const xgrad::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  Model m = make_model();
  StateDict<double> dict = m.net->state_dict();
  const bool strict = in.byte() & 1;
  for (int edits = 0; edits < 64 && !in.empty() && !dict.empty(); ++edits) {
    auto& entry = dict[in.below(dict.size())];
    xt::xarray<double>& a = entry.second;
    switch (in.below(4)) {
      case 0:  // one element
        if (a.size()) a.data()[in.below(a.size())] = in.number();
        break;
      case 1: {  // a new 1-D shape (fixed-shape entries must refuse it)
        xt::xarray<double> b = xt::xarray<double>::from_shape({in.below(9)});
        for (auto& v : b) v = in.number();
        a = std::move(b);
        break;
      }
      case 2:  // dropped (a strict load must refuse)
        dict.erase(dict.begin() + (&entry - dict.data()));
        break;
      default:  // every element
        std::fill(a.begin(), a.end(), in.number());
        break;
    }
  }
  tolerate_errors([&] { m.net->load_state_dict(dict, strict); });
  m.net->train(in.byte() & 1);
  optim::SGD<double> sgd(m.net->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  for (int step = 0; step < 2; ++step) {
    tolerate_errors([&] {
      Generator gen(in.byte());
      const auto x = randn<double>({4, 6}, gen);
      sgd.zero_grad();
      sum(m.net->forward(x)).backward();
      sgd.step();
    });
  }
  tolerate_errors([&] {
    xt::xarray<std::int64_t> xint = xt::xarray<std::int64_t>::from_shape({2, 5});
    for (auto& v : xint) v = static_cast<std::int8_t>(in.byte());
    m.apot_linear->forward_integer(xint);
  });
  return 0;
}
