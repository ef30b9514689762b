// The backend-independent half of ProcessGroup: the checked tensor
// collectives (signature check, then the flat-buffer operation) and
// run_or_abort. process_group_mpi.cpp / process_group_stub.cpp hold the rest.
#include "xgrad/distributed/process_group.hpp"

#include <cstdio>
#include <exception>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::distributed {

namespace {

// The first two entries of a signature are the element size (0 for an
// undefined tensor) and an op-specific value (src or ReduceOp); the shape
// follows.
template <class T>
std::vector<std::int64_t> signature_of(const Tensor<T>& tensor, std::int64_t op_value) {
  if (!tensor.defined()) return {0, op_value};
  std::vector<std::int64_t> s{static_cast<std::int64_t>(sizeof(T)), op_value};
  for (std::size_t d : tensor.shape()) s.push_back(static_cast<std::int64_t>(d));
  return s;
}

std::string describe(const char* op, const std::vector<std::int64_t>& s) {
  Shape shape;
  for (std::size_t i = 2; i < s.size(); ++i) shape.push_back(static_cast<std::size_t>(s[i]));
  const std::string tensor =
      s[0] == 0
          ? "an undefined tensor"
          : format_message(s[0] == sizeof(float) ? "a float tensor " : "a double tensor ", shape);
  if (std::string(op) == "broadcast") return format_message(tensor, " with src ", s[1]);
  return format_message(tensor, " with op ",
                        s[1] == static_cast<std::int64_t>(ReduceOp::SUM) ? "SUM" : "AVG");
}

}  // namespace

void ProcessGroup::check_same(const char* op, const std::vector<std::int64_t>& signature) {
  const std::vector<std::vector<std::int64_t>> all = all_gather(signature);
  for (int r = 1; r < size_; ++r) {
    XGRAD_CHECK(all[static_cast<std::size_t>(r)] == all[0], ShapeError, op,
                ": the ranks disagree: rank 0 passes ", describe(op, all[0]), ", rank ", r,
                " passes ", describe(op, all[static_cast<std::size_t>(r)]));
  }
}

template <class T>
void ProcessGroup::broadcast(Tensor<T>& tensor, int src) {
  // Argument errors come after the check, so that an argument bad on one
  // rank only is a ShapeError on all of them, not an error there and a hang
  // elsewhere.
  check_same("broadcast", signature_of(tensor, src));
  require_defined(tensor, "broadcast", "tensor");
  XGRAD_CHECK(src >= 0 && src < size_, ValueError, "broadcast: src must be a rank in [0, ", size_,
              "), got ", src);
  broadcast_buffer(tensor.mutable_data().data(), tensor.numel(), src);
}

template <class T>
void ProcessGroup::all_reduce(Tensor<T>& tensor, ReduceOp op) {
  check_same("all_reduce", signature_of(tensor, static_cast<std::int64_t>(op)));
  require_defined(tensor, "all_reduce", "tensor");
  all_reduce_buffer(tensor.mutable_data().data(), tensor.numel(), op);
}

Work::Work(ProcessGroup* group, std::shared_ptr<State> state)
    : group_(group), state_(std::move(state)) {}
Work::~Work() = default;
Work::Work(Work&&) noexcept = default;
Work& Work::operator=(Work&&) noexcept = default;

bool Work::is_completed() {
  if (state_ && group_->progress(state_.get(), false)) state_.reset();
  return !state_;
}

void Work::wait() {
  if (state_) group_->progress(state_.get(), true);
  state_.reset();
}

void ProcessGroup::abort(const std::string& message, int code) {
  std::fprintf(stderr, "xgrad rank %d/%d: %s\n", rank_, size_, message.c_str());
  std::fflush(stderr);
  end_job(code);
}

int run_or_abort(ProcessGroup& group, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    group.abort(e.what());
  } catch (...) {
    group.abort("an exception that is not a std::exception");
  }
}

#define XGRAD_INSTANTIATE(T)                                 \
  template void ProcessGroup::broadcast<T>(Tensor<T>&, int); \
  template void ProcessGroup::all_reduce<T>(Tensor<T>&, ReduceOp);
XGRAD_INSTANTIATE(float)
XGRAD_INSTANTIATE(double)
#undef XGRAD_INSTANTIATE

}  // namespace xgrad::distributed
