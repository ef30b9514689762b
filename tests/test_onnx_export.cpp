// ONNX export (xgrad/onnx/export.hpp): the graph each layer becomes, read
// back with ONNX's own protobuf classes and checked by ONNX's checker; the
// model's names, batch axis and initializers; and every refusal. Whether ONNX
// Runtime computes what xgrad computes: test_onnx_runtime.cpp.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "onnx/layer_cases.hpp"
#include "onnx/quant_cases.hpp"
#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/onnx/export.hpp"
#include "xgrad/ops/elementwise.hpp"

BOOST_AUTO_TEST_SUITE(test_onnx_export)

using onnx_cases::ModulePtr;
using xgrad::Module;
using xgrad::Tensor;
using xgrad::onnx::export_model;
using xgrad::onnx::ExportOptions;
using xgrad_test::contains;
using xgrad_test::message_of;
using xgrad_test::TempDir;
namespace nn = xgrad::nn;

namespace {

::onnx::ModelProto read_model(const std::string& path) {
  ::onnx::ModelProto model;
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(model.ParseFromIstream(&in), "cannot parse " << path);
  return model;
}

// Python's onnx.checker.check_model(path, full_check=True).
void full_check(const std::string& path) {
  ::onnx::checker::check_model(path);
  ::onnx::ModelProto model = read_model(path);
  ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(),
                                       ::onnx::ShapeInferenceOptions(true, 1));
}

std::vector<std::string> op_types(const ::onnx::ModelProto& m) {
  std::vector<std::string> out;
  for (const auto& node : m.graph().node()) out.push_back(node.op_type());
  return out;
}

// The declared sizes of a value: a number, "batch", or "?" (unnamed).
std::vector<std::string> dims_of(const ::onnx::ValueInfoProto& v) {
  std::vector<std::string> out;
  for (const auto& d : v.type().tensor_type().shape().dim()) {
    out.push_back(d.has_dim_value()   ? std::to_string(d.dim_value())
                  : d.has_dim_param() ? d.dim_param()
                                      : "?");
  }
  return out;
}

const ::onnx::AttributeProto* attribute(const ::onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::vector<std::int64_t> ints(const ::onnx::NodeProto& node, const std::string& name) {
  const auto* a = attribute(node, name);
  BOOST_REQUIRE_MESSAGE(a, node.op_type() << " has no attribute " << name);
  return {a->ints().begin(), a->ints().end()};
}

xt::xarray<float> initializer(const ::onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer()) {
    if (t.name() != name) continue;
    BOOST_REQUIRE(t.data_type() == ::onnx::TensorProto::FLOAT);
    std::vector<std::size_t> shape(t.dims().begin(), t.dims().end());
    xt::xarray<float> a = xt::xarray<float>::from_shape(shape);
    BOOST_REQUIRE(t.raw_data().size() == a.size() * sizeof(float));
    std::memcpy(a.data(), t.raw_data().data(), t.raw_data().size());
    return a;
  }
  BOOST_FAIL("no initializer " << name);
  return {};
}

Tensor<float> example(const xgrad::Shape& sample, std::size_t batch = 3) {
  xgrad::Shape shape = {batch};
  shape.insert(shape.end(), sample.begin(), sample.end());
  xgrad::Generator gen(99);
  return xgrad::rand<float>(shape, gen, -2.0f, 2.0f);
}

std::shared_ptr<nn::Sequential<float>> lenet() { return onnx_cases::lenet5(5); }

// A module of a kind export does not know (its forward is its own code).
struct Doubler : Module<float> {
  Doubler() : Module<float>("Doubler") {}
  Tensor<float> forward(const Tensor<float>& x) override { return x + x; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(this_build_has_onnx_export) { BOOST_TEST(xgrad::onnx::is_available()); }

BOOST_AUTO_TEST_CASE(every_layer_becomes_its_onnx_nodes_and_passes_the_full_check) {
  for (const auto& c : onnx_cases::layer_cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      TempDir dir;
      ModulePtr m = c.make();
      export_model(*m, example(c.sample_shape), dir / "m.onnx");
      BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
      const auto model = read_model(dir / "m.onnx");
      BOOST_TEST(op_types(model) == c.ops, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(every_quantizer_and_quantized_layer_passes_the_full_check) {
  for (const auto& c : onnx_cases::quant_cases()) {
    BOOST_TEST_CONTEXT(c.name) {
      TempDir dir;
      ModulePtr m = c.make();
      export_model(*m, example(c.sample_shape), dir / "m.onnx");
      BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
      BOOST_TEST(op_types(read_model(dir / "m.onnx")) == c.ops, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_converted_layer_stores_its_codes_as_uint8_and_its_level_table) {
  TempDir dir;
  const auto cases = onnx_cases::quant_cases();
  const auto it = std::find_if(cases.begin(), cases.end(),
                               [](const auto& c) { return c.name == "converted_linear_lsq"; });
  BOOST_REQUIRE(it != cases.end());
  ModulePtr m = it->make();
  auto& q = dynamic_cast<xgrad::quant::quantized::Linear<float>&>(*m);
  export_model(*m, example({7}), dir / "m.onnx");
  const auto model = read_model(dir / "m.onnx");
  bool found = false;
  for (const auto& t : model.graph().initializer()) {
    if (t.name() != "weight_codes") continue;
    found = true;
    BOOST_TEST(t.data_type() == ::onnx::TensorProto::UINT8);
    BOOST_TEST((std::vector<std::int64_t>(t.dims().begin(), t.dims().end()) ==
                std::vector<std::int64_t>{5, 7}));
    const xt::xarray<std::int64_t> codes = q.weight_codes();
    BOOST_REQUIRE(t.raw_data().size() == codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i)
      BOOST_TEST(static_cast<std::uint8_t>(t.raw_data()[i]) == codes.data()[i]);
  }
  BOOST_TEST(found);
  // The table holds the levels: gathering it by the codes is the layer's weight.
  const xt::xarray<float> table = initializer(model, "weight_table");
  const xt::xarray<std::int64_t> codes = q.weight_codes();
  const xt::xarray<float> w = q.dequantized_weight().data();
  for (std::size_t i = 0; i < codes.size(); ++i)
    BOOST_TEST(table(std::size_t(codes.data()[i])) == w.data()[i]);
}

BOOST_AUTO_TEST_CASE(float_activations_leave_the_activation_quantizers_out) {
  TempDir dir;
  for (const auto& c : onnx_cases::quant_cases()) {
    if (c.name != "qat_linear_apot_rcf") continue;
    ModulePtr m = c.make();
    ExportOptions o;
    o.quantize_activations = false;
    export_model(*m, example({7}), dir / "m.onnx", o);
    BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
    BOOST_TEST(op_types(read_model(dir / "m.onnx")) ==
                   (std::vector<std::string>{"Cast", "Gather", "Gemm"}),
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(model_header_names_the_producer_and_opset) {
  TempDir dir;
  nn::ReLU<float> relu;
  ExportOptions o;
  o.opset_version = 17;
  o.graph_name = "relu_graph";
  o.doc_string = "one ReLU";
  export_model(relu, example({4}), dir / "m.onnx", o);
  const auto m = read_model(dir / "m.onnx");
  BOOST_TEST(m.producer_name() == "xgrad");
  BOOST_TEST(m.ir_version() == ::onnx::IR_VERSION);
  BOOST_REQUIRE(m.opset_import_size() == 1);
  BOOST_TEST(m.opset_import(0).domain() == "");
  BOOST_TEST(m.opset_import(0).version() == 17);
  BOOST_TEST(m.graph().name() == "relu_graph");
  BOOST_TEST(m.graph().doc_string() == "one ReLU");
}

BOOST_AUTO_TEST_CASE(input_and_output_carry_the_given_names_and_a_free_batch_axis) {
  TempDir dir;
  auto net = lenet();
  ExportOptions o;
  o.input_name = "images";
  o.output_name = "logits";
  export_model(*net, example({1, 28, 28}), dir / "m.onnx", o);
  const auto m = read_model(dir / "m.onnx");
  BOOST_REQUIRE(m.graph().input_size() == 1);
  BOOST_REQUIRE(m.graph().output_size() == 1);
  BOOST_TEST(m.graph().input(0).name() == "images");
  BOOST_TEST(m.graph().output(0).name() == "logits");
  BOOST_TEST(dims_of(m.graph().input(0)) == (std::vector<std::string>{"batch", "1", "28", "28"}),
             boost::test_tools::per_element());
  BOOST_TEST(dims_of(m.graph().output(0)) == (std::vector<std::string>{"batch", "10"}),
             boost::test_tools::per_element());
  BOOST_TEST(m.graph().node(m.graph().node_size() - 1).output(0) == "logits");
  BOOST_TEST(m.graph().node(0).input(0) == "images");
}

BOOST_AUTO_TEST_CASE(without_dynamic_batch_the_example_sizes_are_fixed) {
  TempDir dir;
  auto net = lenet();
  ExportOptions o;
  o.dynamic_batch = false;
  export_model(*net, example({1, 28, 28}, 2), dir / "m.onnx", o);
  const auto m = read_model(dir / "m.onnx");
  BOOST_TEST(dims_of(m.graph().input(0)) == (std::vector<std::string>{"2", "1", "28", "28"}),
             boost::test_tools::per_element());
  BOOST_TEST(dims_of(m.graph().output(0)) == (std::vector<std::string>{"2", "10"}),
             boost::test_tools::per_element());
  BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
}

BOOST_AUTO_TEST_CASE(every_intermediate_is_declared_with_its_traced_shape) {
  TempDir dir;
  auto net = lenet();
  export_model(*net, example({1, 28, 28}), dir / "m.onnx");
  const auto m = read_model(dir / "m.onnx");
  // Every node output but the graph's is declared; after the first pool and
  // the flatten, for instance:
  BOOST_TEST(m.graph().value_info_size() == m.graph().node_size() - 1);
  std::vector<std::vector<std::string>> shapes;
  for (const auto& v : m.graph().value_info()) shapes.push_back(dims_of(v));
  BOOST_TEST((shapes[2] == std::vector<std::string>{"batch", "6", "14", "14"}));
  BOOST_TEST((shapes[6] == std::vector<std::string>{"batch", "400"}));
}

BOOST_AUTO_TEST_CASE(a_nested_sequential_declares_each_tensor_once) {
  TempDir dir;
  auto net = onnx_cases::layer_cases().back().make();  // nested: its head is a Sequential
  export_model(*net, example({2, 6, 6}), dir / "m.onnx");
  const auto m = read_model(dir / "m.onnx");
  std::set<std::string> names;
  for (const auto& v : m.graph().value_info()) BOOST_TEST(names.insert(v.name()).second, v.name());
  BOOST_TEST(m.graph().value_info_size() == m.graph().node_size() - 1);
}

BOOST_AUTO_TEST_CASE(initializers_are_the_state_dict_under_its_names) {
  TempDir dir;
  auto net = lenet();
  export_model(*net, example({1, 28, 28}), dir / "m.onnx");
  const auto m = read_model(dir / "m.onnx");
  const auto state = net->state_dict();
  BOOST_TEST(m.graph().initializer_size() == static_cast<int>(state.size()));
  for (const auto& kv : state) {
    BOOST_TEST_CONTEXT(kv.first) {
      BOOST_TEST(xgrad_test::equal_arrays(initializer(m, kv.first), kv.second));
    }
  }
}

BOOST_AUTO_TEST_CASE(conv_and_pool_attributes_spell_out_the_geometry) {
  TempDir dir;
  auto m = onnx_cases::layer_cases()[4].make();  // the strided, padded, dilated, grouped conv
  export_model(*m, example({4, 10, 9}), dir / "conv.onnx");
  const auto conv = read_model(dir / "conv.onnx").graph().node(0);
  BOOST_TEST(ints(conv, "kernel_shape") == (std::vector<std::int64_t>{3, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(ints(conv, "strides") == (std::vector<std::int64_t>{2, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(ints(conv, "pads") == (std::vector<std::int64_t>{1, 0, 1, 0}),
             boost::test_tools::per_element());
  BOOST_TEST(ints(conv, "dilations") == (std::vector<std::int64_t>{1, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(attribute(conv, "group")->i() == 2);
  BOOST_TEST(conv.input_size() == 2);  // no bias

  nn::AvgPool2d<float> avg(nn::Pool2dOptions(3).stride(2).padding(1));
  export_model(avg, example({2, 8, 7}), dir / "avg.onnx");
  const auto pool = read_model(dir / "avg.onnx").graph().node(0);
  BOOST_TEST(ints(pool, "pads") == (std::vector<std::int64_t>{1, 1, 1, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(attribute(pool, "count_include_pad")->i() == 1);
  BOOST_TEST(attribute(pool, "ceil_mode") == nullptr);  // 0, floor: as xgrad
}

BOOST_AUTO_TEST_CASE(batchnorm_epsilon_and_softmax_axis_are_attributes) {
  TempDir dir;
  nn::BatchNorm2d<float> bn(3, 1e-3);
  export_model(bn, example({3, 4, 4}), dir / "bn.onnx");
  const auto node = read_model(dir / "bn.onnx").graph().node(0);
  BOOST_TEST(attribute(node, "epsilon")->f() == 1e-3f);
  nn::LogSoftmax<float> lsm(-1);
  export_model(lsm, example({3, 4}), dir / "lsm.onnx");
  BOOST_TEST(attribute(read_model(dir / "lsm.onnx").graph().node(0), "axis")->i() == 2);
}

BOOST_AUTO_TEST_CASE(a_double_model_exports_double_tensors) {
  TempDir dir;
  xgrad::Generator gen(3);
  nn::Linear<double> fc(4, 2, true, gen);
  export_model(fc, xgrad::rand<double>({3, 4}, gen), dir / "m.onnx");
  BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
  const auto m = read_model(dir / "m.onnx");
  BOOST_TEST(m.graph().input(0).type().tensor_type().elem_type() == ::onnx::TensorProto::DOUBLE);
  for (const auto& t : m.graph().initializer())
    BOOST_TEST(t.data_type() == ::onnx::TensorProto::DOUBLE);
}

BOOST_AUTO_TEST_CASE(a_double_quantized_model_rounds_with_standard_ops) {
  namespace quant = xgrad::quant;
  TempDir dir;
  xgrad::Generator gen(4);
  // The RCF layer's unsigned input set takes the ReLU's outputs.
  nn::Sequential<double> net{std::make_shared<quant::FakeQuantize<double>>(),
                             std::make_shared<nn::ReLU<double>>(),
                             std::make_shared<quant::qat::Linear<double>>(
                                 4, 3, true, quant::apot_rcf_qconfig<double>(4), gen)};
  quant::calibrate(net, {xgrad::rand<double>({8, 4}, gen, -2.0, 2.0)});
  quant::freeze(net);
  export_model(net, xgrad::rand<double>({3, 4}, gen), dir / "m.onnx");
  BOOST_CHECK_NO_THROW(full_check(dir / "m.onnx"));
  // QuantizeLinear takes float only (opset <= 18): Round and Clip in double.
  BOOST_TEST(op_types(read_model(dir / "m.onnx")) ==
                 (std::vector<std::string>{"Mul", "Round", "Add", "Clip", "Sub", "Mul", "Relu",
                                           "Div", "Clip", "Sub", "Abs", "ArgMin", "Gather", "Mul",
                                           "Cast", "Gather", "Gemm"}),
             boost::test_tools::per_element());
}

// docs/onnx.md's C++ block, compiled and run here (it writes mlp.onnx into
// the current directory: a temporary one); test_docs checks the page quotes it.
// clang-format off
BOOST_AUTO_TEST_CASE(docs_example_exports_an_mlp) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  {
    // DOC begin docs/onnx.md:export
    #include <xgrad/nn/activation.hpp>
    #include <xgrad/nn/linear.hpp>
    #include <xgrad/nn/sequential.hpp>
    #include <xgrad/onnx/export.hpp>

    using namespace xgrad;

    nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(64, 32),
                                std::make_shared<nn::ReLU<float>>(),
                                std::make_shared<nn::Linear<float>>(32, 10)};
    // ... train the model ...
    xgrad::onnx::ExportOptions options;
    options.input_name = "features";
    options.output_name = "logits";
    xgrad::onnx::export_model(model, randn<float>({1, 64}), "mlp.onnx", options);
    // DOC end
  }
  std::filesystem::current_path(cwd);
  const auto m = read_model(dir / "mlp.onnx");
  BOOST_TEST(op_types(m) == (std::vector<std::string>{"Gemm", "Relu", "Gemm"}),
             boost::test_tools::per_element());
  BOOST_TEST(m.graph().output(0).name() == "logits");
}

// docs/onnx.md's quantized block (writes mlp_qat.onnx and mlp_apot.onnx).
BOOST_AUTO_TEST_CASE(docs_example_exports_a_qat_and_a_converted_mlp) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  {
    // DOC begin docs/onnx.md:quantized
    #include <xgrad/nn/activation.hpp>
    #include <xgrad/nn/linear.hpp>
    #include <xgrad/nn/sequential.hpp>
    #include <xgrad/onnx/export.hpp>
    #include <xgrad/quant/qat/qconfig.hpp>
    #include <xgrad/quant/qat/workflow.hpp>

    using namespace xgrad;

    nn::Sequential<float> model{std::make_shared<nn::Linear<float>>(64, 32),
                                std::make_shared<nn::ReLU<float>>(),
                                std::make_shared<nn::Linear<float>>(32, 10)};
    // ... train the float model ...
    // The first layer sees the raw (signed) input: 8-bit uniform for it.
    quant::prepare_qat(model, quant::apot_rcf_qconfig<float>(4),
                       {{"0", quant::uniform_qconfig<float>(8)}});
    quant::calibrate(model, {randn<float>({256, 64})});  // your calibration batches
    quant::freeze(model);                                 // observers off: required
    // ... QAT ...
    xgrad::onnx::export_model(model, randn<float>({1, 64}), "mlp_qat.onnx");
    quant::convert(model);
    xgrad::onnx::export_model(model, randn<float>({1, 64}), "mlp_apot.onnx");
    // DOC end
  }
  std::filesystem::current_path(cwd);
  // The QAT model exports as its converted equivalent: the same graph.
  const auto qat = read_model(dir / "mlp_qat.onnx"), converted = read_model(dir / "mlp_apot.onnx");
  BOOST_TEST(op_types(qat) == op_types(converted), boost::test_tools::per_element());
  BOOST_REQUIRE(qat.graph().initializer_size() == converted.graph().initializer_size());
  for (int i = 0; i < qat.graph().initializer_size(); ++i) {
    BOOST_TEST(qat.graph().initializer(i).name() == converted.graph().initializer(i).name());
    BOOST_TEST(qat.graph().initializer(i).raw_data() == converted.graph().initializer(i).raw_data());
  }
}
// clang-format on

// ---- Refusals: a clear error, nothing written, the model unchanged ----

BOOST_AUTO_TEST_CASE(an_unknown_module_is_refused_naming_its_path_and_type) {
  TempDir dir;
  auto inner = std::make_shared<nn::Sequential<float>>(std::initializer_list<ModulePtr>{
      std::make_shared<nn::ReLU<float>>(), std::make_shared<Doubler>()});
  nn::Sequential<float> net{std::make_shared<nn::Flatten<float>>(), inner};
  const auto call = [&] { export_model(net, example({4}), dir / "m.onnx"); };
  BOOST_CHECK_THROW(call(), xgrad::TypeError);
  const std::string msg = message_of(call);
  BOOST_TEST(contains(msg, "'1.1' (Doubler)"), msg);
  BOOST_TEST(contains(msg, "Doubler"), msg);  // the C++ type too
  BOOST_TEST(contains(msg, "Exportable: Sequential, Linear"), msg);
  BOOST_TEST(!std::filesystem::exists(dir / "m.onnx"));
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_before_anything_is_written) {
  TempDir dir;
  nn::Linear<float> fc(4, 2);
  nn::Conv2d<float> conv(1, 2, 3);
  const std::string path = dir / "m.onnx";
  ExportOptions same, empty, old_opset, new_opset;
  same.output_name = "input";
  empty.input_name = "";
  old_opset.opset_version = 12;
  new_opset.opset_version = 18;
  ExportOptions taken;
  taken.output_name = "weight";  // the Linear's initializer
  using xgrad_test::raises;
  xgrad_test::check_bad_calls({
      {"undefined example",
       raises<xgrad::ValueError>("onnx::export_model", {"example_input is undefined"}),
       [&] { export_model(fc, Tensor<float>(), path); }},
      {"0-d example", raises<xgrad::ShapeError>("onnx::export_model", {"0-d", "batch axis"}),
       [&] { export_model(fc, xgrad::Tensor<float>(xt::xarray<float>(1.0f)), path); }},
      {"wrong rank for the layer",
       raises<xgrad::ShapeError>("onnx::export_model", {"the root module (Conv2d)", "[3, 28]"}),
       [&] { export_model(conv, example({28}), path); }},
      {"features on the batch axis",
       raises<xgrad::ShapeError>("onnx::export_model", {"axis 0", "in_features", "free batch axis",
                                                        "dynamic_batch = false"}),
       [&] {
         nn::Linear<float> one(3, 2);
         export_model(one, xgrad::rand<float>({3}), path);
       }},
      {"same names",
       raises<xgrad::ValueError>("onnx::export_model",
                                 {"input_name and output_name are both \"input\""}),
       [&] { export_model(fc, example({4}), path, same); }},
      {"empty name", raises<xgrad::ValueError>("onnx::export_model", {"input_name is empty"}),
       [&] { export_model(fc, example({4}), path, empty); }},
      {"opset 12",
       raises<xgrad::ValueError>("onnx::export_model", {"opset_version is 12", "13 to 17"}),
       [&] { export_model(fc, example({4}), path, old_opset); }},
      {"opset 18", raises<xgrad::ValueError>("onnx::export_model", {"opset_version is 18"}),
       [&] { export_model(fc, example({4}), path, new_opset); }},
      {"output name taken",
       raises<xgrad::ValueError>("onnx::export_model", {"\"weight\"", "output_name"}),
       [&] { export_model(fc, example({4}), path, taken); }},
      {"empty path", raises<xgrad::ValueError>("onnx::export_model", {"path is empty"}),
       [&] { export_model(fc, example({4}), ""); }},
  });
  BOOST_TEST(std::filesystem::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(quantizers_that_a_graph_cannot_hold_are_refused_naming_the_layer) {
  TempDir dir;
  namespace quant = xgrad::quant;
  const std::string path = dir / "m.onnx";
  // Observers still on: prepared, never frozen.
  auto observing = std::make_shared<nn::Sequential<float>>(std::initializer_list<ModulePtr>{
      std::make_shared<nn::ReLU<float>>(),
      std::make_shared<quant::qat::Linear<float>>(4, 3, true, quant::uniform_qconfig<float>(8))});
  using xgrad_test::raises;
  xgrad_test::check_bad_calls({
      {"observer on",
       raises<xgrad::StateError>("onnx::export_model",
                                 {"'1.weight_fake_quant'", "observer on", "quant::freeze"}),
       [&] { export_model(*observing, example({4}), path); }},
  });
  BOOST_TEST(std::filesystem::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(an_unwritable_path_is_an_io_error_and_leaves_no_file) {
  TempDir dir;
  nn::ReLU<float> relu;
  const std::string path = dir / "missing_dir/m.onnx";
  BOOST_CHECK_EXCEPTION(export_model(relu, example({4}), path), xgrad::IOError,
                        xgrad_test::mentions<xgrad::IOError>("missing_dir/m.onnx"));
  BOOST_TEST(std::filesystem::is_empty(dir.path));
}

BOOST_AUTO_TEST_CASE(a_failed_export_leaves_the_old_file_whole) {
  TempDir dir;
  const std::string path = dir / "m.onnx";
  nn::ReLU<float> relu;
  export_model(relu, example({4}), path);
  const std::string before = xgrad_test::read_file(path);
  nn::Sequential<float> bad{std::make_shared<Doubler>()};
  BOOST_CHECK_THROW(export_model(bad, example({4}), path), xgrad::TypeError);
  BOOST_TEST(xgrad_test::read_file(path) == before);
  // Exporting again replaces it whole, with no temporary file left beside it.
  nn::Tanh<float> tanh;
  export_model(tanh, example({4}), path);
  BOOST_TEST(op_types(read_model(path)) == (std::vector<std::string>{"Tanh"}),
             boost::test_tools::per_element());
  BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir.path),
                           std::filesystem::directory_iterator()) == 1);
}

BOOST_AUTO_TEST_CASE(export_runs_in_eval_mode_and_restores_every_training_flag) {
  TempDir dir;
  auto net = onnx_cases::layer_cases().back().make();  // nested: BatchNorm, Dropout
  net->train();
  auto head = net->named_children().back().second;
  head->eval();  // mixed flags: the root training, the head not
  const auto state = net->state_dict();
  export_model(*net, example({2, 6, 6}), dir / "m.onnx");
  BOOST_TEST(net->is_training());
  BOOST_TEST(net->named_children()[1].second->is_training());  // BatchNorm
  BOOST_TEST(!head->is_training());
  // Eval mode: BatchNorm's running statistics were not updated by the trace.
  const auto after = net->state_dict();
  for (std::size_t i = 0; i < state.size(); ++i)
    BOOST_TEST(xgrad_test::equal_arrays(after[i].second, state[i].second));

  nn::Sequential<float> bad{std::make_shared<nn::ReLU<float>>(), std::make_shared<Doubler>()};
  bad.train();
  BOOST_CHECK_THROW(export_model(bad, example({4}), dir / "bad.onnx"), xgrad::TypeError);
  bad.apply([](Module<float>& m) { BOOST_TEST(m.is_training()); });
}

BOOST_AUTO_TEST_SUITE_END()
