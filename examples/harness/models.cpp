#include "models.hpp"

#include "lenet5.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/quant/qat/fake_quantized_layer.hpp"

namespace harness {

std::shared_ptr<Model> make_model(const std::string& net, xgrad::Generator& gen) {
  if (net == "lenet5") return examples::lenet5(gen);
  XGRAD_CHECK(net == "mlp", xgrad::ValueError, "make_model: unknown net \"", net, "\"");
  using namespace xgrad;
  return std::make_shared<Model>(std::initializer_list<std::shared_ptr<Module<float>>>{
      std::make_shared<nn::Linear<float>>(64, 64, true, gen), std::make_shared<nn::ReLU<float>>(),
      std::make_shared<nn::Linear<float>>(64, 10, true, gen)});
}

std::vector<std::string> layer_names(Model& model) {
  std::vector<std::string> out;
  for (const auto& [name, m] : model.named_children()) {
    if (m->as<xgrad::nn::Linear<float>>() || m->as<xgrad::nn::Conv2d<float>>() ||
        m->as<xgrad::quant::qat::FakeQuantizedLayer<float>>())
      out.push_back(name);
  }
  return out;
}

}  // namespace harness
