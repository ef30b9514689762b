// The C++ blocks of the quantization pages (docs/quantization.md,
// apot-training.md, qat.md), compiled and run: each block is a region
// "// DOC begin docs/<page>.md:<name>" ... "// DOC end" below, quoted verbatim
// by its page (test_docs.cpp checks that). After each region the case checks
// what the page says the block does.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/quant/fake_quantize/apot_fake_quantize.hpp>
#include <xgrad/quant/apot/quantizer.hpp>
#include <xgrad/quant/qat/workflow.hpp>
#include <xgrad/quant/quantized/conv2d.hpp>
#include <xgrad/quant/quantized/linear.hpp>
#include <cstdio>
#include <iostream>
#include <xgrad/quant/fake_quantize/rcf_fake_quantize.hpp>
#include <xgrad/quant/fake_quantize/fake_quantize.hpp>
#include <xgrad/quant/qat/weight_norm.hpp>
#include <xgrad/xgrad.hpp>

#include "test_util.hpp"

BOOST_AUTO_TEST_SUITE(test_docs_quant)

using namespace xgrad;

namespace {}  // namespace

// The regions are quoted by the pages: clang-format must leave them alone.
// clang-format off

// ---- docs/quantization.md ----

BOOST_AUTO_TEST_CASE(quantization_apot) {
  Tensor<float> x = rand<float>({16});
  // DOC begin docs/quantization.md:apot
  #include <xgrad/quant/fake_quantize/apot_fake_quantize.hpp>
  #include <xgrad/quant/apot/quantizer.hpp>
  using namespace xgrad::quant;

  APoTObserver<float> observer(/*b=*/4, /*k=*/2);
  observer.forward(x);                                   // running min / max
  auto [alpha, gamma, levels, indices] = observer.calculate_qparams(/*signed=*/false);
  TensorAPoT<float> q = quantize_APoT(x, alpha, gamma, levels, indices);
  q.int_repr();                                          // integer codes (b-bit code words)
  Tensor<float> xq = dequantize_APoT(q);                 // == quant_dequant(x, ...)

  auto fq = std::make_shared<APoTFakeQuantize<float>>(4, 2);  // a Module
  Tensor<float> y = fq->forward(x);   // observe, recompute qparams, fake-quantize (STE backward)
  fq->disable_observer();             // freeze the qparams; they are module state (state dict)
  // DOC end
  BOOST_TEST(xq.shape() == x.shape());
  BOOST_TEST(y.shape() == x.shape());
}

BOOST_AUTO_TEST_CASE(quantization_uniform) {
  Generator gen(5);
  Tensor<float> x = randn<float>({64}, gen);
  // DOC begin docs/quantization.md:uniform
  #include <xgrad/quant/fake_quantize/fake_quantize.hpp>
  using namespace xgrad::quant;

  MinMaxObserver<float> minmax;                      // quint8, per-tensor affine: [0, 255]
  minmax.forward(x);
  auto [scale, zero_point] = minmax.calculate_qparams();
  Tensor<float> xq = fake_quantize_per_tensor_affine(x, scale, zero_point, 0, 255);

  FakeQuantize<float> fake(QuantDtype::qint8, QScheme::per_tensor_symmetric);  // [-128, 127]
  Tensor<float> yq = fake.forward(x);  // observes, then fake-quantizes; clipped STE backward
  // DOC end
  BOOST_TEST(fake.quant_min() == -128);
  BOOST_TEST(fake.quant_max() == 127);
  BOOST_TEST(fake.qparams().zero_point == 0);
  // Both grids cover the observed range, so every value moves by at most half
  // a step, plus the float rounding of x / scale and of (q - zp) * scale: a few
  // ulps of the largest |x| (4 ulps bound it).
  const float lo = xt::amin(x.data())(), hi = xt::amax(x.data())();
  const float slack = 4 * std::numeric_limits<float>::epsilon() * std::max(-lo, hi);
  BOOST_TEST(scale == (hi - lo) / 255.0f, boost::test_tools::tolerance(1e-6f));
  BOOST_TEST(xt::amax(xt::abs(xq.data() - x.data()))() <= scale / 2 + slack);
  BOOST_TEST(xt::amax(xt::abs(yq.data() - x.data()))() <= fake.qparams().scale / 2 + slack);
}

// ---- docs/apot-training.md ----

BOOST_AUTO_TEST_CASE(apot_training_rcf) {
  // DOC begin docs/apot-training.md:rcf
  #include <xgrad/quant/fake_quantize/rcf_fake_quantize.hpp>
  #include <xgrad/quant/qat/weight_norm.hpp>
  using namespace xgrad::quant;

  RCFFakeQuantize<float> wq(apot_sign_magnitude_levels(4));  // alpha starts at 3
  RCFOptions<float> act;
  act.init = AlphaInit::lsq_clip_point;                        // 2 mean|x| sqrt(2^b - 1)
  RCFFakeQuantize<float> aq(apot_unsigned_levels(4, 2), act);
  // per step: y = linear(aq(x), wq(weight_standardize(w)), b); ...
  // loss.backward(); opt.step(); wq.clamp_alpha_(); aq.clamp_alpha_();
  // DOC end
  const Tensor<float> x = rand<float>({8}), w = randn<float>({4, 8}, 0.0f, 1.0f, true);
  BOOST_TEST(linear(aq(x), wq(weight_standardize(w))).shape() == (Shape{4}));
}

// ---- docs/qat.md ----

BOOST_AUTO_TEST_CASE(qat_workflow) {
  // The reader's data: 8x8 "images" whose class is the brightest quadrant.
  Generator gen(3);
  auto batch_of = [&](std::size_t n) {
    data::Dataset<float> d{rand<float>({n, 1, 8, 8}, gen), Labels::from_shape({n})};
    for (std::size_t i = 0; i < n; ++i) d.labels(i) = std::int64_t(i % 4);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t r = (i % 4) / 2 * 4, c = (i % 4) % 2 * 4;
      for (std::size_t u = 0; u < 4; ++u)
        for (std::size_t v = 0; v < 4; ++v) d.features.mutable_data()(i, 0, r + u, c + v) += 1.0f;
    }
    return d;
  };
  const std::vector<Tensor<float>> calibration_batches = {batch_of(32).features};
  std::vector<data::Dataset<float>> train_batches;
  for (int i = 0; i < 10; ++i) train_batches.push_back(batch_of(16));
  const xgrad_test::TempDir dir;
  const std::string float_path = dir / "float.npz", qat_path = dir / "qat.npz",
                    converted_path = dir / "quantized.npz";
  {
    Generator init(1);
    nn::Sequential<float> trained{
        std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 8, 3).padding(1), init),
        std::make_shared<nn::ReLU<float>>(),
        std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(8, 8, 3).stride(2), init),
        std::make_shared<nn::ReLU<float>>(), std::make_shared<nn::Flatten<float>>(),
        std::make_shared<nn::Linear<float>>(72, 10, true, init)};
    save(trained, float_path);
  }
  // DOC begin docs/qat.md:workflow
  #include <xgrad/quant/qat/workflow.hpp>
  namespace quant = xgrad::quant;

  auto make_model = [] {
    auto model = std::make_shared<nn::Sequential<float>>();
    model->push_back(std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(1, 8, 3).padding(1)));
    model->push_back(std::make_shared<nn::ReLU<float>>());
    model->push_back(std::make_shared<nn::Conv2d<float>>(nn::Conv2dOptions(8, 8, 3).stride(2)));
    model->push_back(std::make_shared<nn::ReLU<float>>());
    model->push_back(std::make_shared<nn::Flatten<float>>());
    model->push_back(std::make_shared<nn::Linear<float>>(8 * 3 * 3, 10));
    return model;
  };
  const auto config = quant::apot_rcf_qconfig<float>(4);      // 4-bit APoT, the paper's method
  const std::map<std::string, quant::QConfig<float>> overrides = {
      {"0", quant::uniform_qconfig<float>(8)},                  // first layer: 8-bit uniform
      {"5", quant::float_qconfig<float>()}};                    // last layer: stays float

  auto model = make_model();
  load(*model, float_path);                                     // 1. the float checkpoint, first
  quant::prepare_qat<float>(*model, config, overrides);         //    swap in QAT layers
  quant::calibrate(*model, calibration_batches);                // 2. observers on, fake quant off
  quant::freeze(*model);                                        // 3. observers off, fake quant on
  optim::Adam<float> opt(quant::qat_param_groups(*model), optim::AdamOptions(1e-4));
  for (const data::Dataset<float>& batch : train_batches) {     // 4. train as usual
    opt.zero_grad();
    cross_entropy(model->forward(batch.features), batch.labels).backward();
    opt.step();
    quant::clamp_alpha_(*model);                                //    keeps every alpha > 0
  }
  save(*model, qat_path);                                       // a QAT checkpoint
  model->eval();
  quant::convert(*model);                                       // 5. integer-coded weights
  save(*model, converted_path);

  auto deployed = make_model();                                 // elsewhere: the same model,
  quant::prepare_qat<float>(*deployed, config, overrides);      // prepared the same way,
  quant::convert(*deployed, quant::ConvertMode::empty);         // converted empty,
  load(*deployed, converted_path);                              // then loaded
  deployed->eval();
  // DOC end
  NoGradGuard no_grad;
  BOOST_TEST(model->at<quant::quantized::Conv2d<float>>(0) != nullptr);
  BOOST_TEST(model->at<quant::quantized::Conv2d<float>>(2) != nullptr);
  BOOST_TEST(model->at<nn::Linear<float>>(5) != nullptr);  // float_qconfig: left float
  // The QAT checkpoint in a model prepared the same way (it carries the
  // observer-off / fake-quant-on flags) computes what the converted models do,
  // bit for bit.
  auto qat_again = make_model();
  quant::prepare_qat<float>(*qat_again, config, overrides);
  load(*qat_again, qat_path);
  qat_again->eval();
  const Tensor<float> x = batch_of(8).features;
  const xt::xarray<float> expected = qat_again->forward(x).data();
  // On the float-table path: the lookup-table kernels sum in another order
  // (test_converted_layers bounds each layer).
  for (auto* m : {model.get(), deployed.get()}) {
    m->apply([](Module<float>& l) {
      if (auto* q = l.as<quant::quantized::QuantizedLayer<float>>()) q->enable_lut_kernel(false);
    });
  }
  BOOST_TEST(model->forward(x).data() == expected);
  BOOST_TEST(deployed->forward(x).data() == expected);
}

BOOST_AUTO_TEST_CASE(inference_page_converts_and_reports_storage_and_kernels) {
  Generator init(5);
  auto model = std::make_shared<nn::Sequential<float>>();
  model->push_back(std::make_shared<nn::Linear<float>>(256, 128, true, init));
  model->push_back(std::make_shared<nn::ReLU<float>>());
  model->push_back(std::make_shared<nn::Linear<float>>(128, 10, true, init));
  // Non-negative, as images: layer 0's unsigned 4-bit input set clips negatives.
  const std::vector<Tensor<float>> batches = {abs(randn<float>({32, 256}, init))};
  // DOC begin docs/inference.md:convert
  #include <xgrad/quant/qat/workflow.hpp>
  #include <xgrad/quant/quantized/linear.hpp>
  namespace quant = xgrad::quant;

  quant::prepare_qat<float>(*model, quant::apot_rcf_qconfig<float>(4),   // 4-bit APoT,
                            {{"2", quant::uniform_qconfig<float>(8)}});  // last layer 8-bit
  quant::calibrate(*model, batches);
  quant::freeze(*model);
  // ... QAT training ...
  model->eval();
  quant::convert(*model);                    // packed codes + a level table per layer
  std::cout << summary(*model);              // each layer's storage, and the total
  auto first = model->at<quant::quantized::Linear<float>>(0);
  std::cout << first->kernel() << "\n";      // "integer 4-bit avx512" (or avx2, scalar)
  save(*model, "model_apot4.npz");           // codes as uint8 members: ~b/32 of float
  Tensor<float> y = model->forward(batches[0]);  // int8 x u8 sums, exact in int32
  // DOC end
  BOOST_TEST(first->code_bits() == 4);
  BOOST_TEST(first->kernel().rfind("integer 4-bit ", 0) == 0);
  // 8-bit weights and an 8-bit input quantizer: integers too (integer_path.hpp).
  BOOST_TEST(model->at<quant::quantized::Linear<float>>(2)->kernel().rfind("integer ", 0) == 0);
  BOOST_TEST(xgrad_test::contains(summary(*model), "weight storage: "));
  BOOST_TEST((y.shape() == Shape{32, 10}));
  std::remove("model_apot4.npz");
}

// clang-format on

BOOST_AUTO_TEST_SUITE_END()  // test_docs_quant
