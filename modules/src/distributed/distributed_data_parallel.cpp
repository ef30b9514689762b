#include "xgrad/distributed/distributed_data_parallel.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "xgrad/errors.hpp"
#include "xgrad/grad_mode.hpp"

namespace xgrad::distributed {

namespace {

// What every rank must agree on before the first collective on the model:
// element size, bucket cap, then the parameters' and buffers' shapes.
// Encoded as integers for ProcessGroup::all_gather.
struct Layout {
  std::int64_t element_size = 0;  // 0: no module
  std::int64_t bucket_cap = 0;
  std::vector<Shape> parameters, buffers;

  std::vector<std::int64_t> encode() const {
    std::vector<std::int64_t> out{element_size, bucket_cap,
                                  static_cast<std::int64_t>(parameters.size()),
                                  static_cast<std::int64_t>(buffers.size())};
    for (const auto* list : {&parameters, &buffers}) {
      for (const Shape& s : *list) {
        out.push_back(static_cast<std::int64_t>(s.size()));
        for (std::size_t d : s) out.push_back(static_cast<std::int64_t>(d));
      }
    }
    return out;
  }

  static Layout decode(const std::vector<std::int64_t>& v) {
    Layout l;
    l.element_size = v.at(0);
    l.bucket_cap = v.at(1);
    std::size_t at = 4;
    for (auto [list, count] : {std::pair{&l.parameters, v.at(2)}, std::pair{&l.buffers, v.at(3)}}) {
      for (std::int64_t k = 0; k < count; ++k) {
        const auto rank = static_cast<std::size_t>(v.at(at++));
        Shape s;
        for (std::size_t d = 0; d < rank; ++d) s.push_back(static_cast<std::size_t>(v.at(at++)));
        list->push_back(std::move(s));
      }
    }
    return l;
  }
};

template <class T>
std::vector<Shape> shapes_of(const OrderedDict<Tensor<T>>& named) {
  std::vector<Shape> out;
  for (const auto& kv : named) out.push_back(kv.second.shape());
  return out;
}

// The first way in which rank r's layout differs from rank 0's; `names` are
// this rank's parameter and buffer names.
std::string first_difference(const Layout& a, const Layout& b, int r,
                             const std::vector<std::string>& parameter_names,
                             const std::vector<std::string>& buffer_names) {
  if (a.element_size == 0 || b.element_size == 0) {
    return format_message("the module is null on rank ", a.element_size == 0 ? 0 : r);
  }
  if (a.element_size != b.element_size) {
    return format_message("the element size is ", a.element_size, " bytes on rank 0 and ",
                          b.element_size, " on rank ", r);
  }
  if (a.bucket_cap != b.bucket_cap) {
    return format_message("bucket_cap_bytes is ", a.bucket_cap, " on rank 0 and ", b.bucket_cap,
                          " on rank ", r);
  }
  if (a.parameters.size() != b.parameters.size() || a.buffers.size() != b.buffers.size()) {
    return format_message("rank 0 has ", a.parameters.size(), " parameters and ", a.buffers.size(),
                          " buffers, rank ", r, " has ", b.parameters.size(), " and ",
                          b.buffers.size());
  }
  for (int kind = 0; kind < 2; ++kind) {
    const auto& sa = kind == 0 ? a.parameters : a.buffers;
    const auto& sb = kind == 0 ? b.parameters : b.buffers;
    const auto& names = kind == 0 ? parameter_names : buffer_names;
    for (std::size_t i = 0; i < sa.size(); ++i) {
      if (sa[i] != sb[i]) {
        return format_message(kind == 0 ? "parameter " : "buffer ", i, " ('", names[i],
                              "' on this rank) is ", sa[i], " on rank 0 and ", sb[i], " on rank ",
                              r);
      }
    }
  }
  return "";
}

}  // namespace

template <class T>
DistributedDataParallel<T>::DistributedDataParallel(std::shared_ptr<Module<T>> module,
                                                    ProcessGroup& group,
                                                    std::size_t bucket_cap_bytes)
    : Module<T>("DistributedDataParallel"), module_(std::move(module)), group_(group) {
  // 1. Agree on the layout. Local argument errors are thrown only after the
  //    exchange, so that a rank with a bad argument cannot leave the others
  //    waiting in it.
  Layout layout;
  std::vector<std::string> parameter_names, buffer_names;
  std::vector<Tensor<T>> buffers;
  if (module_) {
    const auto named_params = module_->named_parameters();
    const auto named_buffers = module_->named_buffers();
    layout =
        Layout{static_cast<std::int64_t>(sizeof(T)), static_cast<std::int64_t>(bucket_cap_bytes),
               shapes_of(named_params), shapes_of(named_buffers)};
    for (const auto& kv : named_params) {
      parameter_names.push_back(kv.first);
      params_.push_back(kv.second);
    }
    for (const auto& kv : named_buffers) {
      buffer_names.push_back(kv.first);
      buffers.push_back(kv.second);
    }
  }
  const auto all = group_.all_gather(layout.encode());
  const Layout first = Layout::decode(all[0]);
  for (int r = 1; r < group_.size(); ++r) {
    if (all[static_cast<std::size_t>(r)] == all[0]) continue;
    const std::string difference = first_difference(
        first, Layout::decode(all[static_cast<std::size_t>(r)]), r, parameter_names, buffer_names);
    XGRAD_CHECK(difference.empty(), ShapeError,
                "DistributedDataParallel: the ranks' models differ: ", difference);
  }
  XGRAD_CHECK(module_, ValueError, "DistributedDataParallel: module is null");
  XGRAD_CHECK(bucket_cap_bytes >= 1, ValueError,
              "DistributedDataParallel: bucket_cap_bytes must be >= 1, got 0");
  this->register_module("module", module_);

  // 2. Rank 0's values everywhere, in one broadcast.
  std::vector<Tensor<T>> state = params_;
  state.insert(state.end(), buffers.begin(), buffers.end());
  std::size_t total = 0;
  for (const auto& t : state) total += t.numel();
  std::vector<T> flat(total);
  T* at = flat.data();
  for (const auto& t : state) at = std::copy(t.data().begin(), t.data().end(), at);
  group_.broadcast_buffer(flat.data(), total, 0);
  if (group_.rank() != 0) {
    NoGradGuard no_grad;
    const T* from = flat.data();
    for (auto& t : state) {
      xt::xarray<T>& data = t.mutable_data();
      std::copy(from, from + data.size(), data.begin());
      from += data.size();
    }
  }

  // 3. Buckets.
  std::size_t begin = 0, bytes = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::size_t size = params_[i].numel() * sizeof(T);
    if (i > begin && bytes + size > bucket_cap_bytes) {
      buckets_.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (begin < params_.size()) buckets_.emplace_back(begin, params_.size());
}

template <class T>
void DistributedDataParallel<T>::all_reduce_gradients() {
  for (const auto& [begin, end] : buckets_) {
    // Layout: the gradients (zeros where undefined), then one flag per
    // parameter, 1 where it has a gradient; after AVG the flag is the share
    // of ranks that had one.
    std::size_t size = end - begin;
    for (std::size_t i = begin; i < end; ++i) size += params_[i].numel();
    flat_.resize(size);
    T* at = flat_.data();
    T* flags = flat_.data() + (size - (end - begin));
    for (std::size_t i = begin; i < end; ++i) {
      const Tensor<T> g = params_[i].grad();
      const std::size_t n = params_[i].numel();
      if (g.defined()) {
        std::copy(g.data().begin(), g.data().end(), at);
      } else {
        std::fill(at, at + n, T(0));
      }
      flags[i - begin] = g.defined() ? T(1) : T(0);
      at += n;
    }
    group_.all_reduce_buffer(flat_.data(), size, ReduceOp::AVG);
    const T* from = flat_.data();
    for (std::size_t i = begin; i < end; ++i) {
      Tensor<T>& p = params_[i];
      const std::size_t n = p.numel();
      if (flags[i - begin] > T(0)) {
        Tensor<T> g = p.grad();
        if (!g.defined()) {
          // Only other ranks had one: this rank's parameter gets one too.
          p.autograd_meta()->grad = std::make_shared<Storage<T>>(
              Storage<T>{xt::xarray<T>::from_shape(p.shape()), 0, {}, nullptr});
          g = p.grad();
        }
        std::copy(from, from + n, g.mutable_data().begin());
      }
      from += n;
    }
  }
}

template class DistributedDataParallel<float>;
template class DistributedDataParallel<double>;

}  // namespace xgrad::distributed
