#include "net.hpp"

#include "xgrad/nn/linear.hpp"
#include "xgrad/ops/activation.hpp"
#include "xgrad/ops/conv.hpp"
#include "xgrad/ops/linalg.hpp"
#include "xgrad/ops/pool.hpp"
#include "xgrad/ops/shape_ops.hpp"

namespace harness {

Net::Net(std::vector<LayerSpec> layers, std::vector<std::int64_t> image_shape,
         xgrad::Generator& gen)
    : xgrad::Module<float>("Net"),
      specs_(std::move(layers)),
      image_shape_(std::move(image_shape)),
      wq_(specs_.size()),
      aq_(specs_.size()),
      inputs_(specs_.size()) {
  for (const LayerSpec& s : specs_) {
    // nn::Linear draws PyTorch's default initialization; a conv layer is the
    // same draw with fan_in = in * k * k, reshaped to [out, in, k, k].
    const std::size_t fan_in = s.kernel ? s.in * s.kernel * s.kernel : s.in;
    xgrad::nn::Linear<float> draw(fan_in, s.out, true, gen);
    xt::xarray<float> w = draw.weight.data();
    if (s.kernel) w.reshape({s.out, s.in, s.kernel, s.kernel});
    weight_.push_back(register_parameter(s.name + "_weight", Tensor(std::move(w))));
    bias_.push_back(register_parameter(s.name + "_bias", Tensor(draw.bias.data())));
  }
}

void Net::set_weight_quantizer(std::size_t layer, std::shared_ptr<Quantizer> q) {
  wq_.at(layer) = register_module(specs_.at(layer).name + "_weight_fq", std::move(q));
}

void Net::set_input_quantizer(std::size_t layer, std::shared_ptr<Quantizer> q) {
  aq_.at(layer) = register_module(specs_.at(layer).name + "_input_fq", std::move(q));
}

Tensor Net::layer(std::size_t i, const Tensor& x) {
  if (record_) inputs_[i] = x.detach();
  const Tensor in = aq_[i] ? aq_[i]->forward(x) : x;
  const Tensor w = wq_[i] ? wq_[i]->forward(weight_[i]) : weight_[i];
  if (specs_[i].kernel) return xgrad::conv2d(in, w, bias_[i], 1, specs_[i].padding);
  return xgrad::linear(in, w, bias_[i]);
}

Tensor Net::forward(const Tensor& x) {
  Tensor h = x;
  if (!specs_.empty() && specs_[0].kernel) {
    std::vector<std::ptrdiff_t> shape = {-1};
    shape.insert(shape.end(), image_shape_.begin(), image_shape_.end());
    h = xgrad::reshape(h, shape);
  }
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!specs_[i].kernel && h.dim() == 4) {
      h = xgrad::reshape(h, {static_cast<std::ptrdiff_t>(h.shape()[0]), -1});
    }
    h = layer(i, h);
    if (i + 1 == specs_.size()) break;
    h = xgrad::relu(h);
    if (specs_[i].pool) h = xgrad::max_pool2d(h, 2);
  }
  return h;
}

std::shared_ptr<Net> lenet5(xgrad::Generator& gen) {
  return std::make_shared<Net>(std::vector<LayerSpec>{{"conv1", 1, 6, 5, 2, true},
                                                      {"conv2", 6, 16, 5, 0, true},
                                                      {"fc1", 400, 120},
                                                      {"fc2", 120, 84},
                                                      {"fc3", 84, 10}},
                               std::vector<std::int64_t>{1, 28, 28}, gen);
}

std::shared_ptr<Net> mlp(const std::vector<std::size_t>& sizes, xgrad::Generator& gen) {
  std::vector<LayerSpec> layers;
  for (std::size_t i = 0; i + 1 < sizes.size(); ++i) {
    layers.push_back({"fc" + std::to_string(i + 1), sizes[i], sizes[i + 1]});
  }
  return std::make_shared<Net>(std::move(layers), std::vector<std::int64_t>{}, gen);
}

}  // namespace harness
