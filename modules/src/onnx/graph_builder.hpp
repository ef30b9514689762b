// GraphBuilder: the one place that writes ONNX's protobuf messages during an
// export (nodes, initializers, the graph's inputs, outputs and value infos),
// and keeps every tensor name unique (ONNX graphs are single-assignment).
// Internal to libxgrad_onnx.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>
#include <xtensor/xarray.hpp>

namespace xgrad::onnx::detail {

// A node attribute; made by attr().
using Attribute = ::onnx::AttributeProto;
Attribute attr(const std::string& name, std::int64_t value);
Attribute attr(const std::string& name, float value);
Attribute attr(const std::string& name, const std::vector<std::int64_t>& values);

// An axis size in a declared tensor type: a size >= 0, or one of these.
inline constexpr std::int64_t kBatchDim = -1;    // the free batch axis, dim_param "batch"
inline constexpr std::int64_t kUnknownDim = -2;  // depends on the batch otherwise (left unnamed)

class GraphBuilder {
 public:
  // `graph` is filled in place; tensors of the model are `elem_type`
  // (TensorProto::FLOAT or DOUBLE).
  GraphBuilder(::onnx::GraphProto* graph, std::int32_t elem_type);

  std::int32_t elem_type() const { return elem_type_; }

  // Adds node `op` (ai.onnx) to the graph, named after `scope` ("/0/Conv", a
  // suffix keeps names unique), reading `inputs` ("" for an omitted optional
  // input); returns the name of its one output ("/0/Conv_output_0").
  std::string add_node(const std::string& scope, const std::string& op,
                       const std::vector<std::string>& inputs,
                       const std::vector<Attribute>& attributes = {});

  // Initializers. The name is used as given when free, else made unique with
  // a suffix; the name used is returned. Values are copied in row-major order.
  template <class T>
  std::string add_initializer(const std::string& name, const xt::xarray<T>& values);
  // An initializer of the model's element type, from values in any of the
  // two float types (converted: float -> double is exact; double -> float
  // rounds to nearest), with the given shape.
  std::string add_constant(const std::string& name, const std::vector<double>& values,
                           const std::vector<std::int64_t>& dims);
  std::string add_int64_initializer(const std::string& name,
                                    const std::vector<std::int64_t>& values);
  // An integer initializer of ONNX type `data_type` (TensorProto::UINT8,
  // INT8, INT32 or INT64) with the given shape ({} for a scalar); each value
  // must fit the type (the caller's job: the bytes are truncated otherwise).
  std::string add_integer_initializer(const std::string& name, std::int32_t data_type,
                                      const std::vector<std::int64_t>& values,
                                      const std::vector<std::int64_t>& dims);

  // The graph's input, and a declared intermediate (value_info; declaring a
  // tensor again, e.g. a Sequential's output that its last layer declared,
  // changes nothing): a tensor of the model's element type with these sizes
  // (kBatchDim ...).
  void add_input(const std::string& name, const std::vector<std::int64_t>& dims);
  void add_value_info(const std::string& name, const std::vector<std::int64_t>& dims);
  // Makes tensor `from` the graph's output under the name `to`: the node
  // that computes it is renamed, or (for the graph's input, which a model of
  // identities returns) an Identity node is added. ValueError when `to` is
  // already in use.
  void set_output(const std::string& from, const std::string& to,
                  const std::vector<std::int64_t>& dims);

  bool is_used(const std::string& name) const { return names_.count(name) != 0; }

 private:
  std::string unique(const std::string& base);
  void set_type(::onnx::ValueInfoProto* info, const std::string& name,
                const std::vector<std::int64_t>& dims) const;

  ::onnx::GraphProto* graph_;
  std::int32_t elem_type_;
  std::set<std::string> names_;     // every tensor and node name in use
  std::set<std::string> declared_;  // tensors with a value_info
};

}  // namespace xgrad::onnx::detail
