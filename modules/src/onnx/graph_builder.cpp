#include "graph_builder.hpp"

#include <cstring>
#include <type_traits>

#include "xgrad/errors.hpp"

namespace xgrad::onnx::detail {

Attribute attr(const std::string& name, std::int64_t value) {
  Attribute a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INT);
  a.set_i(value);
  return a;
}

Attribute attr(const std::string& name, float value) {
  Attribute a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::FLOAT);
  a.set_f(value);
  return a;
}

Attribute attr(const std::string& name, const std::vector<std::int64_t>& values) {
  Attribute a;
  a.set_name(name);
  a.set_type(::onnx::AttributeProto::INTS);
  for (std::int64_t v : values) a.add_ints(v);
  return a;
}

GraphBuilder::GraphBuilder(::onnx::GraphProto* graph, std::int32_t elem_type)
    : graph_(graph), elem_type_(elem_type) {}

std::string GraphBuilder::unique(const std::string& base) {
  std::string name = base;
  for (int i = 1; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  names_.insert(name);
  return name;
}

std::string GraphBuilder::add_node(const std::string& scope, const std::string& op,
                                   const std::vector<std::string>& inputs,
                                   const std::vector<Attribute>& attributes) {
  ::onnx::NodeProto* node = graph_->add_node();
  const std::string name = unique(scope + (scope == "/" ? "" : "/") + op);
  node->set_name(name);
  node->set_op_type(op);
  for (const std::string& in : inputs) node->add_input(in);
  for (const Attribute& a : attributes) *node->add_attribute() = a;
  const std::string out = unique(name + "_output_0");
  node->add_output(out);
  return out;
}

namespace {

template <class T>
constexpr std::int32_t elem_type_of() {
  return std::is_same<T, float>::value ? ::onnx::TensorProto::FLOAT : ::onnx::TensorProto::DOUBLE;
}

// The values as raw little-endian bytes (ONNX's raw_data; compact for large
// weights, and what ONNX Runtime reads fastest).
template <class T>
void set_raw(::onnx::TensorProto* t, const T* values, std::size_t n) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "raw_data is little-endian");
  std::string bytes(n * sizeof(T), '\0');
  if (n) std::memcpy(&bytes[0], values, n * sizeof(T));
  t->set_raw_data(std::move(bytes));
}

}  // namespace

template <class T>
std::string GraphBuilder::add_initializer(const std::string& name, const xt::xarray<T>& values) {
  ::onnx::TensorProto* t = graph_->add_initializer();
  const std::string used = unique(name);
  t->set_name(used);
  t->set_data_type(elem_type_of<T>());
  for (std::size_t d : values.shape()) t->add_dims(static_cast<std::int64_t>(d));
  set_raw(t, values.data(), values.size());
  return used;
}

std::string GraphBuilder::add_constant(const std::string& name, const std::vector<double>& values,
                                       const std::vector<std::int64_t>& dims) {
  ::onnx::TensorProto* t = graph_->add_initializer();
  const std::string used = unique(name);
  t->set_name(used);
  t->set_data_type(elem_type_);
  for (std::int64_t d : dims) t->add_dims(d);
  if (elem_type_ == ::onnx::TensorProto::FLOAT) {
    std::vector<float> f(values.begin(), values.end());
    set_raw(t, f.data(), f.size());
  } else {
    set_raw(t, values.data(), values.size());
  }
  return used;
}

std::string GraphBuilder::add_int64_initializer(const std::string& name,
                                                const std::vector<std::int64_t>& values) {
  return add_integer_initializer(name, ::onnx::TensorProto::INT64, values,
                                 {static_cast<std::int64_t>(values.size())});
}

std::string GraphBuilder::add_integer_initializer(const std::string& name, std::int32_t data_type,
                                                  const std::vector<std::int64_t>& values,
                                                  const std::vector<std::int64_t>& dims) {
  ::onnx::TensorProto* t = graph_->add_initializer();
  const std::string used = unique(name);
  t->set_name(used);
  t->set_data_type(data_type);
  for (std::int64_t d : dims) t->add_dims(d);
  const auto narrowed = [&](auto type_tag) {
    using I = decltype(type_tag);
    std::vector<I> v(values.begin(), values.end());
    set_raw(t, v.data(), v.size());
  };
  switch (data_type) {
    case ::onnx::TensorProto::UINT8:
      narrowed(std::uint8_t());
      break;
    case ::onnx::TensorProto::INT8:
      narrowed(std::int8_t());
      break;
    case ::onnx::TensorProto::INT32:
      narrowed(std::int32_t());
      break;
    case ::onnx::TensorProto::INT64:
      narrowed(std::int64_t());
      break;
    default:
      throw_error<ValueError>("onnx::export_model: add_integer_initializer: data type ", data_type,
                              " is not an integer type (an exporter bug)");
  }
  return used;
}

void GraphBuilder::set_type(::onnx::ValueInfoProto* info, const std::string& name,
                            const std::vector<std::int64_t>& dims) const {
  info->set_name(name);
  ::onnx::TypeProto_Tensor* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type_);
  ::onnx::TensorShapeProto* shape = tensor->mutable_shape();
  for (std::int64_t d : dims) {
    ::onnx::TensorShapeProto_Dimension* dim = shape->add_dim();
    if (d >= 0) {
      dim->set_dim_value(d);
    } else if (d == kBatchDim) {
      dim->set_dim_param("batch");
    }  // kUnknownDim: neither value nor name
  }
}

void GraphBuilder::add_input(const std::string& name, const std::vector<std::int64_t>& dims) {
  names_.insert(name);
  set_type(graph_->add_input(), name, dims);
}

void GraphBuilder::add_value_info(const std::string& name, const std::vector<std::int64_t>& dims) {
  if (declared_.insert(name).second) set_type(graph_->add_value_info(), name, dims);
}

void GraphBuilder::set_output(const std::string& from, const std::string& to,
                              const std::vector<std::int64_t>& dims) {
  XGRAD_CHECK(!names_.count(to), ValueError, "onnx::export_model: the output name \"", to,
              "\" is already the name of a tensor in the graph; choose another "
              "ExportOptions::output_name");
  ::onnx::NodeProto* producer = nullptr;
  for (::onnx::NodeProto& node : *graph_->mutable_node()) {
    for (const std::string& out : node.output())
      if (out == from) producer = &node;
  }
  if (producer) {
    for (::onnx::NodeProto& node : *graph_->mutable_node()) {
      for (std::string& in : *node.mutable_input())
        if (in == from) in = to;
    }
    for (std::string& out : *producer->mutable_output())
      if (out == from) out = to;
    // Declared once, as the graph's output.
    auto* infos = graph_->mutable_value_info();
    for (int i = infos->size() - 1; i >= 0; --i)
      if (infos->Get(i).name() == from) infos->DeleteSubrange(i, 1);
    declared_.erase(from);
    names_.erase(from);
    names_.insert(to);
  } else {
    ::onnx::NodeProto* node = graph_->add_node();
    node->set_name(unique("/Identity"));
    node->set_op_type("Identity");
    node->add_input(from);
    node->add_output(to);
    names_.insert(to);
  }
  set_type(graph_->add_output(), to, dims);
}

template std::string GraphBuilder::add_initializer<float>(const std::string&,
                                                          const xt::xarray<float>&);
template std::string GraphBuilder::add_initializer<double>(const std::string&,
                                                           const xt::xarray<double>&);

}  // namespace xgrad::onnx::detail
