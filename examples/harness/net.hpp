// The small networks of the experiments, each layer with two optional
// fake-quantizer slots: one on its weight and one on its input (the QAT
// layer's weight_fake_quant and the previous layer's activation_post_process
// in PyTorch's terms), so one class serves float training, QAT and PTQ.
//
// lenet5: the LeNet-5 of docs/experiment.md for 28x28 grayscale images:
//   conv1 (1->6, 5x5, padding 2) - ReLU - maxpool 2 - conv2 (6->16, 5x5) -
//   ReLU - maxpool 2 - flatten - fc1 (400->120) - ReLU - fc2 (120->84) - ReLU -
//   fc3 (84->10).
// mlp: Linear layers with ReLU between them (the digits MLP 64-64-10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xgrad/module.hpp"
#include "xgrad/random.hpp"

namespace harness {

using Tensor = xgrad::Tensor<float>;
using Quantizer = xgrad::Module<float>;

struct LayerSpec {
  std::string name;
  std::size_t in, out;
  std::size_t kernel = 0;  // 0: a Linear layer, else a kernel x kernel Conv2d
  std::int64_t padding = 0;
  bool pool = false;  // max-pool 2x2 after the ReLU (conv layers)
};

class Net : public xgrad::Module<float> {
 public:
  // Parameters "<name>_weight", "<name>_bias", drawn from `gen` as PyTorch
  // initializes Conv2d and Linear (kaiming uniform, bound 1 / sqrt(fan_in)).
  // image_shape: {C, H, W} of an input row for nets that start with a conv.
  Net(std::vector<LayerSpec> layers, std::vector<std::int64_t> image_shape, xgrad::Generator& gen);

  // [N, F] rows -> logits [N, classes]. ReLU after every layer but the last.
  Tensor forward(const Tensor& x) override;

  std::size_t num_layers() const { return specs_.size(); }
  const LayerSpec& spec(std::size_t i) const { return specs_[i]; }
  Tensor weight(std::size_t i) const { return weight_[i]; }
  Tensor bias(std::size_t i) const { return bias_[i]; }

  // Registers q as the child "<name>_weight_fq" / "<name>_input_fq" (its state
  // is saved with the model). Each slot can be set once (ValueError).
  void set_weight_quantizer(std::size_t layer, std::shared_ptr<Quantizer> q);
  void set_input_quantizer(std::size_t layer, std::shared_ptr<Quantizer> q);
  const std::shared_ptr<Quantizer>& weight_quantizer(std::size_t i) const { return wq_[i]; }
  const std::shared_ptr<Quantizer>& input_quantizer(std::size_t i) const { return aq_[i]; }

  // While on, forward keeps each layer's input, detached (for calibration).
  void record_inputs(bool on) { record_ = on; }
  Tensor last_input(std::size_t i) const { return inputs_.at(i); }
  void clear_recorded_inputs() { inputs_.assign(inputs_.size(), Tensor()); }

 private:
  Tensor layer(std::size_t i, const Tensor& x);
  std::vector<LayerSpec> specs_;
  std::vector<std::int64_t> image_shape_;
  std::vector<Tensor> weight_, bias_;
  std::vector<std::shared_ptr<Quantizer>> wq_, aq_;
  std::vector<Tensor> inputs_;
  bool record_ = false;
};

std::shared_ptr<Net> lenet5(xgrad::Generator& gen);
std::shared_ptr<Net> mlp(const std::vector<std::size_t>& sizes, xgrad::Generator& gen);

}  // namespace harness
