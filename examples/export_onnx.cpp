// Trains (or loads) the experiment's float LeNet-5 on Fashion-MNIST, built
// from nn layers, optionally quantizes it (QAT with the public workflow:
// prepare_qat, calibrate, freeze, train, convert), and exports it as ONNX
// (xgrad/onnx/export.hpp). Beside the model it writes 16 test images and
// xgrad's logits for them as .npy, and prints the command that runs the model
// in ONNX Runtime on those images and compares with xgrad's logits.
//
//   build/examples/export_onnx                    one epoch, then lenet.onnx
//   build/examples/export_onnx --checkpoint lenet.npz out/lenet.onnx
//   build/examples/export_onnx --checkpoint lenet.npz --quantize apot apot.onnx
//       4-bit APoT (RCF) QAT, converted: codes gathered from the level table
//   build/examples/export_onnx --quantize lsq --keep-qat lsq_qat.onnx
//       4-bit LSQ, the QAT model itself (exported as its converted equivalent)
//
// The model takes normalized images [batch, 1, 28, 28]: pixel / 255, minus
// 0.28604, divided by 0.35302 (the experiment's normalization).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <xtensor/xview.hpp>

#include "cli_paths.hpp"
#include "lenet5.hpp"
#include "xgrad/data.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/nn/activation.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/pool.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/onnx/export.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/ops/shape_ops.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/quant/qat/qconfig.hpp"
#include "xgrad/quant/qat/workflow.hpp"
#include "xgrad/serialize.hpp"

#ifndef XGRAD_SOURCE_DIR
#define XGRAD_SOURCE_DIR "."
#endif
#ifndef XGRAD_BUILD_DIR
#define XGRAD_BUILD_DIR "build"
#endif

using namespace xgrad;

namespace {

struct Options {
  std::string output = "lenet.onnx";
  std::string checkpoint;  // load instead of training
  std::string save;        // save the trained weights
  int steps = 938;         // one epoch of 64 images
  int opset = 13;
  bool fixed_batch = false;
  std::string quantize = "none";  // none, apot, lsq
  int qat_steps = 300;
  bool keep_qat = false;  // export the QAT model, not the converted one
  bool float_activations = false;
};

using examples::as_images;
using examples::lenet5;
data::Dataset<float> load_split(data::Split split) { return examples::load_fashion_mnist(split); }

void write_npy(const std::string& path, const xt::xarray<float>& array) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << to_npy_bytes(array);
  out.close();
  if (!out) throw IOError("export_onnx: cannot write \"" + path + "\"");
}

// `path` without its extension, plus `suffix`.
std::string beside(const std::string& path, const std::string& suffix) {
  return (std::filesystem::path(path).parent_path() / std::filesystem::path(path).stem()).string() +
         suffix;
}

int run(const Options& o) {
  if (!onnx::is_available()) {  // before an epoch of training, not after
    std::fprintf(stderr,
                 "export_onnx: this xgrad was built without ONNX export: install libonnx-dev "
                 "and libprotobuf-dev (Debian), then reconfigure the build\n");
    return 1;
  }
  Generator gen(0);
  auto net = lenet5(gen);
  const data::Dataset<float> test = load_split(data::Split::test);
  if (!o.checkpoint.empty()) {
    load(*net, o.checkpoint);
    std::printf("loaded %s\n", o.checkpoint.c_str());
  } else {
    const data::Dataset<float> train = load_split(data::Split::train);
    optim::SGD<float> sgd(net->parameters(), optim::SGDOptions(0.05).momentum(0.9));
    data::DataLoader<float> loader(train, 64, /*shuffle=*/true, /*seed=*/1);
    net->train();
    for (int step = 0; step < o.steps;) {  // epochs until o.steps batches
      for (const auto& batch : loader) {
        if (step++ == o.steps) break;
        sgd.zero_grad();
        Tensor<float> loss = cross_entropy(net->forward(as_images(batch.features)), batch.labels);
        loss.backward();
        sgd.step();
      }
    }
    std::printf("trained %d steps of 64 images\n", o.steps);
    if (!o.save.empty()) {
      save(*net, o.save);
      std::printf("saved the weights to %s\n", o.save.c_str());
    }
  }
  net->eval();
  const auto report_accuracy = [&](const char* what) {
    NoGradGuard no_grad;
    net->eval();
    std::printf("xgrad test accuracy (%s): %.2f%%\n", what,
                100 * data::accuracy(net->forward(as_images(test.features)), test.labels));
  };
  report_accuracy("float");
  if (o.quantize != "none") {
    // The QAT workflow (docs/qat.md): 4-bit weights and activations; the
    // first conv, which sees the signed normalized image, 8-bit uniform.
    const quant::QConfig<float> cfg = o.quantize == "apot" ? quant::apot_rcf_qconfig<float>(4)
                                                           : quant::uniform_lsq_qconfig<float>(4);
    quant::prepare_qat(*net, cfg, {{"0", quant::uniform_qconfig<float>(8)}});
    const data::Dataset<float> train = load_split(data::Split::train);
    std::vector<Tensor<float>> calibration;
    data::DataLoader<float> batches(train, 256, /*shuffle=*/true, /*seed=*/2);
    for (const auto& batch : batches) {
      calibration.push_back(as_images(batch.features));
      if (calibration.size() == 4) break;
    }
    quant::calibrate(*net, calibration);
    quant::freeze(*net);
    optim::SGD<float> sgd(net->parameters(), optim::SGDOptions(0.01).momentum(0.9));
    data::DataLoader<float> loader(train, 64, /*shuffle=*/true, /*seed=*/3);
    net->train();
    for (int step = 0; step < o.qat_steps;) {
      for (const auto& batch : loader) {
        if (step++ == o.qat_steps) break;
        sgd.zero_grad();
        Tensor<float> loss = cross_entropy(net->forward(as_images(batch.features)), batch.labels);
        loss.backward();
        sgd.step();
        quant::clamp_alpha_(*net);
      }
    }
    std::printf("QAT (%s, 4 bits): %d steps of 64 images\n", o.quantize.c_str(), o.qat_steps);
    report_accuracy("QAT");
    if (!o.keep_qat) {
      quant::convert(*net);
      report_accuracy("converted");
    }
  }

  // 16 test images and xgrad's logits for them, for the check in ONNX Runtime.
  const xt::xarray<float> images = xt::view(as_images(test.features).data(), xt::range(0, 16));
  onnx::ExportOptions options;
  options.opset_version = o.opset;
  options.dynamic_batch = !o.fixed_batch;
  options.quantize_activations = !o.float_activations;
  onnx::export_model(*net, Tensor<float>(images), o.output, options);
  const std::string input = beside(o.output, "_input.npy");
  const std::string expected = beside(o.output, "_input.expected.npy");
  {
    NoGradGuard no_grad;
    write_npy(input, images);
    write_npy(expected, net->forward(Tensor<float>(images)).data());
  }
  std::printf("exported %s: opset %d, input \"%s\" [%s, 1, 28, 28], output \"%s\" [%s, 10]\n",
              o.output.c_str(), o.opset, options.input_name.c_str(), o.fixed_batch ? "16" : "batch",
              options.output_name.c_str(), o.fixed_batch ? "16" : "batch");
  std::printf("wrote %s (16 test images) and %s (xgrad's logits)\n", input.c_str(),
              expected.c_str());
  std::printf(
      "check it in ONNX Runtime (bash .ci/setup installs it):\n"
      "  node %s/tests/onnx/run_ort.js %s/onnxruntime/node_modules %s %s\n",
      XGRAD_SOURCE_DIR, XGRAD_BUILD_DIR, o.output.c_str(), input.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Trains (or loads) a float LeNet-5 on Fashion-MNIST, optionally quantizes it (QAT), and "
      "exports it as ONNX, with sample inputs and xgrad's outputs for a check in ONNX Runtime."};
  app.add_option("output", o.output, "The ONNX model to write")
      ->check(examples::writable_file())
      ->capture_default_str();
  app.add_option("--checkpoint", o.checkpoint,
                 "Load the weights from this checkpoint (written by --save) instead of training")
      ->check(CLI::ExistingFile);
  app.add_option("--save", o.save, "Save the trained weights to this checkpoint (.npz)")
      ->check(examples::writable_file());
  app.add_option("--steps", o.steps, "Training steps of 64 images")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_option("--opset", o.opset, "The ONNX opset to write")
      ->check(CLI::Range(static_cast<int>(onnx::kMinOpset), static_cast<int>(onnx::kMaxOpset)))
      ->capture_default_str();
  app.add_flag("--fixed-batch", o.fixed_batch,
               "Fix the batch size at 16 in the graph (default: any batch size)");
  app.add_option("--quantize", o.quantize,
                 "QAT before the export: apot (4-bit APoT with RCF) or lsq (4-bit LSQ)")
      ->check(CLI::IsMember({"none", "apot", "lsq"}))
      ->capture_default_str();
  app.add_option("--qat-steps", o.qat_steps, "QAT steps of 64 images")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  app.add_flag("--keep-qat", o.keep_qat,
               "Export the QAT model instead of the converted one (the same graph)");
  app.add_flag("--float-activations", o.float_activations,
               "Leave the activation quantizers out of the graph (float activations)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const Error& e) {
    std::fprintf(stderr, "export_onnx: %s\n", e.what());
    return 1;
  }
}
