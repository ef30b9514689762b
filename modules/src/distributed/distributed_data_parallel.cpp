#include "xgrad/distributed/distributed_data_parallel.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <tuple>
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

  // 3. Buckets, from the last parameter backwards (PyTorch's order: the
  //    last layers' gradients are ready first).
  names_ = parameter_names;
  slots_.resize(params_.size());
  const std::size_t first_cap = std::min(kFirstBucketCapBytes, bucket_cap_bytes);
  std::size_t end = params_.size(), bytes = 0;
  for (std::size_t i = params_.size(); i-- > 0;) {
    const std::size_t size = params_[i].numel() * sizeof(T);
    const std::size_t cap = ranges_.empty() ? first_cap : bucket_cap_bytes;
    if (i + 1 < end && bytes + size > cap) {
      ranges_.emplace_back(i + 1, end);
      end = i + 1;
      bytes = 0;
    }
    bytes += size;
  }
  if (end > 0) ranges_.emplace_back(0, end);
  buckets_.resize(ranges_.size());
  for (std::size_t b = 0; b < ranges_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    std::tie(bucket.begin, bucket.end) = ranges_[b];
    // Layout: the gradients (zeros where undefined), then one flag per
    // parameter, 1 where it has a gradient; after the reduction (AVG) the
    // flag is the share of ranks that had one.
    std::size_t offset = 0;
    for (std::size_t i = bucket.begin; i < bucket.end; ++i) {
      slots_[i].bucket = b;
      slots_[i].offset = offset;
      slots_[i].numel = params_[i].numel();
      offset += params_[i].numel();
    }
    if (bucket.end - bucket.begin == 1 && offset * sizeof(T) >= kInPlaceBytes) {
      // Reduced in place on grad(); flat is sized only when needed.
      bucket.in_place = true;
      bucket.flag = in_place_flags_.size();
      in_place_flags_.push_back(T(0));
    } else {
      bucket.flat.resize(offset + (bucket.end - bucket.begin));
    }
  }

  // 4. Hooks.
  if (group_.size() == 1) return;  // nothing to reduce
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].requires_grad()) continue;  // frozen: reduced after backward, if at all
    slots_[i].hook =
        params_[i].register_hook([this, i](const Tensor<T>& grad) { on_gradient(i, grad); });
    slots_[i].has_hook = true;
  }
}

template <class T>
DistributedDataParallel<T>::~DistributedDataParallel() {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    // Unless the user removed it already (positions are never reused).
    auto& hooks = params_[i].autograd_meta()->hooks;
    if (slots_[i].has_hook && slots_[i].hook < hooks.size()) hooks[slots_[i].hook] = nullptr;
  }
  bool in_flight = false;
  for (const Bucket& b : buckets_) in_flight = in_flight || b.started;
  if (!in_flight) return;
  if (std::uncaught_exceptions() > 0) {
    // The other ranks may never join these all-reduces, so waiting could
    // hang; MPI may still write to the buffers, so they must stay.
    static_cast<void>(new std::vector<Bucket>(std::move(buckets_)));  // deliberately leaked
    return;
  }
  for (Bucket& b : buckets_) b.work.wait();
}

template <class T>
void DistributedDataParallel<T>::on_gradient(std::size_t i, const Tensor<T>& grad) {
  if (slots_[i].packed) discard();  // a second gradient before all_reduce_gradients
  arrived_ += grad.numel();
  Bucket& bucket = buckets_[slots_[i].bucket];
  if (bucket.in_place) {
    bucket.arrived_at = arrived_;
    bucket.hooked = true;
  }
  // A hook registered after this one could still change the gradient: then
  // all_reduce_gradients packs what backward committed.
  const auto& hooks = params_[i].autograd_meta()->hooks;
  bool last = true;
  for (std::size_t h = slots_[i].hook + 1; h < hooks.size(); ++h) last = last && !hooks[h];
  // An in-place bucket whose gradient came (nearly) last in the previous
  // step has nothing to overlap: all_reduce_gradients reduces it on grad().
  const bool leave = bucket.in_place && bucket.leave;
  if (last && !leave && pack(i, &grad.data())) start_full_buckets();
  // Moves the reductions in flight on (MPI progresses only inside MPI calls).
  for (Bucket& b : buckets_) {
    if (b.started) {
      b.work.is_completed();
      break;
    }
  }
}

template <class T>
bool DistributedDataParallel<T>::pack(std::size_t i, const xt::xarray<T>* fresh) {
  Slot& slot = slots_[i];
  Bucket& bucket = buckets_[slot.bucket];
  const std::shared_ptr<Storage<T>>& grad = params_[i].autograd_meta()->grad;
  if ((fresh && fresh->size() != slot.numel) || (grad && grad->data.size() != slot.numel)) {
    return false;
  }
  // An in-place bucket needs flat only when it does not reduce grad() itself.
  if (bucket.in_place && (fresh || !grad)) bucket.flat.resize(slot.numel);
  T* at = bucket.flat.data() + slot.offset;
  T& flag =
      bucket.in_place
          ? in_place_flags_[bucket.flag]
          : bucket.flat[bucket.flat.size() - (bucket.end - bucket.begin) + (i - bucket.begin)];
  bucket.reduced = bucket.flat.data();
  if (fresh) {
    // What backward's commit will compute, grad() + fresh, or fresh.
    const T* f = fresh->data();
    if (grad) {
      const T* g = grad->data.data();
      for (std::size_t k = 0; k < slot.numel; ++k) at[k] = g[k] + f[k];
    } else {
      std::copy(f, f + slot.numel, at);
    }
    slot.from_hook = true;
    slot.had_grad = static_cast<bool>(grad);
    slot.grad_before = grad;
    slot.version_before = grad ? grad->version : 0;
    flag = T(1);
    copy_stats_.packed_bytes += slot.numel * sizeof(T);
  } else if (grad && bucket.in_place) {
    bucket.reduced = grad->data.data();  // no copy: reduced on grad() itself
    flag = T(1);
    copy_stats_.in_place_bytes += slot.numel * sizeof(T);
  } else if (grad) {
    std::copy(grad->data.begin(), grad->data.end(), at);
    flag = T(1);
    copy_stats_.packed_bytes += slot.numel * sizeof(T);
  } else {
    std::fill(at, at + slot.numel, T(0));
    flag = T(0);
  }
  slot.packed = true;
  ++bucket.packed;
  return true;
}

template <class T>
void DistributedDataParallel<T>::start_full_buckets() {
  while (next_start_ < buckets_.size()) {
    Bucket& b = buckets_[next_start_];
    if (b.packed < b.end - b.begin) break;
    start(b);
    ++next_start_;
  }
}

template <class T>
void DistributedDataParallel<T>::start(Bucket& bucket) {
  const std::size_t n = bucket.in_place ? slots_[bucket.begin].numel : bucket.flat.size();
  bucket.work = group_.all_reduce_buffer_async(bucket.reduced, n, ReduceOp::AVG);
  bucket.started = true;
}

template <class T>
void DistributedDataParallel<T>::discard() {
  for (Bucket& b : buckets_) {
    if (b.started) b.work.wait();  // in starting order
  }
  flags_work_.wait();
  reset();
}

template <class T>
void DistributedDataParallel<T>::reset() {
  for (Bucket& b : buckets_) {
    b.packed = 0;
    b.started = false;
    b.reduced = nullptr;
  }
  std::fill(in_place_flags_.begin(), in_place_flags_.end(), T(0));
  for (Bucket& b : buckets_) b.hooked = false;
  arrived_ = 0;
  for (Slot& s : slots_) {
    s.packed = false;
    s.from_hook = false;
    s.grad_before.reset();
  }
  next_start_ = 0;
}

template <class T>
std::string DistributedDataParallel<T>::stale_parameter() const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.from_hook) continue;
    // backward's commit adds to an existing grad() in place (one version
    // bump) or makes a new one (version 0): anything else means it did not
    // happen or grad() changed since.
    const std::shared_ptr<Storage<T>>& now = params_[i].autograd_meta()->grad;
    const bool committed =
        s.had_grad ? now && now == s.grad_before.lock() && now->version == s.version_before + 1
                   : now && now->version == 0;
    if (!committed) return names_[i];
  }
  return "";
}

template <class T>
void DistributedDataParallel<T>::all_reduce_gradients() {
  if (group_.size() == 1) return;  // the mean over one rank
  for (std::size_t i = 0; i < params_.size(); ++i) {
    // A parameter or gradient resized since construction no longer fits the
    // buckets every rank agreed on. Checked before this call starts anything
    // (what backward started is finished first).
    const std::size_t n = params_[i].numel();
    const auto& grad = params_[i].autograd_meta()->grad;
    if (n != slots_[i].numel || (grad && grad->data.size() != n)) {
      discard();
      XGRAD_CHECK(n == slots_[i].numel, ShapeError, "all_reduce_gradients: parameter '", names_[i],
                  "' has ", n, " elements, but had ", slots_[i].numel,
                  " when the model was wrapped");
      throw_error<ShapeError>("all_reduce_gradients: the gradient of parameter '", names_[i],
                              "' has shape ", grad->data.shape(), ", the parameter ",
                              params_[i].shape());
    }
  }
  const std::string stale = stale_parameter();
  // Start what backward did not, in order; wait for everything, in order.
  for (std::size_t b = next_start_; b < buckets_.size(); ++b) {
    Bucket& bucket = buckets_[b];
    for (std::size_t i = bucket.begin; i < bucket.end; ++i) {
      if (!slots_[i].packed) pack(i, nullptr);
    }
    start(bucket);
  }
  if (!in_place_flags_.empty()) {
    flags_work_ = group_.all_reduce_buffer_async(in_place_flags_.data(), in_place_flags_.size(),
                                                 ReduceOp::AVG);
  }
  for (Bucket& bucket : buckets_) bucket.work.wait();
  flags_work_.wait();
  if (!stale.empty()) {
    reset();
    throw_error<StateError>(
        "all_reduce_gradients: the gradient of parameter '", stale,
        "' is not the one backward computed: the backward threw after its gradient hook ran, or "
        "grad() was changed or zeroed since (change gradients after all_reduce_gradients)");
  }
  for (Bucket& bucket : buckets_) {
    const T* flags = bucket.in_place
                         ? &in_place_flags_[bucket.flag]
                         : bucket.flat.data() + bucket.flat.size() - (bucket.end - bucket.begin);
    for (std::size_t i = bucket.begin; i < bucket.end; ++i) {
      if (!(flags[i - bucket.begin] > T(0))) continue;  // no rank had a gradient
      Tensor<T>& p = params_[i];
      auto& grad = p.autograd_meta()->grad;
      if (!grad) {
        // Only other ranks had one: this rank's parameter gets one too.
        grad = std::make_shared<Storage<T>>(
            Storage<T>{xt::xarray<T>::from_shape(p.shape()), 0, {}, nullptr});
      } else {
        ++grad->version;
      }
      if (bucket.reduced == grad->data.data()) continue;  // reduced in place
      const T* from = bucket.flat.data() + slots_[i].offset;
      std::copy(from, from + slots_[i].numel, grad->data.data());
      copy_stats_.unpacked_bytes += slots_[i].numel * sizeof(T);
    }
  }
  for (Bucket& bucket : buckets_) {
    // Little gradient after its own (backward nearly over): leave it next time.
    if (bucket.in_place && bucket.hooked) {
      bucket.leave = 8 * (arrived_ - bucket.arrived_at) < slots_[bucket.begin].numel;
    }
  }
  reset();
}

template class DistributedDataParallel<float>;
template class DistributedDataParallel<double>;

}  // namespace xgrad::distributed
