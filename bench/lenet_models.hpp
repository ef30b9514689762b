// The float LeNet-5 and its converted twin that bench_lenet_inference and
// lenet_layers compare: the experiment's LeNet-5 (examples/lenet5.hpp) with
// random weights, quantized with the public workflow (APoT RCF at `bits`, the
// first and last layers 8-bit uniform as in the experiment; prepare_qat,
// calibrate, freeze, convert), both in eval mode.
#pragma once

#include <memory>

#include "../examples/lenet5.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/random.hpp"

namespace bench {

struct LenetModels {
  std::shared_ptr<xgrad::nn::Sequential<float>> float_net, converted;
};

inline LenetModels lenet_models(int bits) {
  namespace quant = xgrad::quant;
  xgrad::Generator gen(1);
  LenetModels m;
  m.float_net = examples::lenet5(gen);
  m.converted = examples::lenet5(gen);
  m.converted->load_state_dict(m.float_net->state_dict());
  quant::prepare_qat<float>(
      *m.converted, quant::apot_rcf_qconfig<float>(bits),
      {{"0", quant::uniform_qconfig<float>(8)}, {"11", quant::uniform_qconfig<float>(8)}});
  quant::calibrate<float>(*m.converted, {xgrad::randn<float>({64, 1, 28, 28}, gen)});
  quant::freeze(*m.converted);
  quant::convert(*m.converted);
  m.float_net->eval();
  m.converted->eval();
  return m;
}

}  // namespace bench
