// Float conv2d on oneDNN: its direct convolution kernels (picked by the CPU's
// instruction set at run time) in the layouts they choose (blocked channels),
// with reorders from and to xgrad's NCHW around them, as libtorch does.
//
// Threads: Debian's oneDNN runs on OpenMP and sizes its work (and the way it
// splits a weight-gradient sum) by omp_get_max_threads() when a primitive is
// created and run. Each primitive here is created and run with that set to
// one on the calling thread (SingleThread), on fixed chunks of samples set by
// the batch alone; xgrad's parallel_for hands the chunks to its threads. So
// each element of a result comes from the same single-threaded oneDNN call,
// and the weight gradient adds the chunks' partial sums in chunk order,
// whatever the thread count.
#include "conv_onednn.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "xgrad/detail/conv_kernels.hpp"
#include "xgrad/errors.hpp"

#ifdef XGRAD_WITH_ONEDNN
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "blas.hpp"
#include "xgrad/detail/parallel.hpp"
#endif

namespace xgrad::detail {

namespace {

// The default: XGRAD_CONV_KERNELS=im2col or onednn when set to one this
// build has (like XGRAD_NUM_THREADS, another value is ignored), else oneDNN
// when built with it.
ConvKernels default_kernels() {
  if (const char* env = std::getenv("XGRAD_CONV_KERNELS")) {
    if (std::strcmp(env, "im2col") == 0) return ConvKernels::im2col;
    if (std::strcmp(env, "onednn") == 0 && onednn_built()) return ConvKernels::onednn;
  }
  return onednn_built() ? ConvKernels::onednn : ConvKernels::im2col;
}

std::atomic<ConvKernels>& current_kernels() {
  static std::atomic<ConvKernels> kernels{default_kernels()};
  return kernels;
}

}  // namespace

bool onednn_built() {
#ifdef XGRAD_WITH_ONEDNN
  return true;
#else
  return false;
#endif
}

ConvKernels conv_kernels() { return current_kernels().load(std::memory_order_relaxed); }

void set_conv_kernels(ConvKernels kernels) {
  XGRAD_CHECK(kernels != ConvKernels::onednn || onednn_built(), ValueError,
              "set_conv_kernels: kernels onednn, but xgrad was built without oneDNN "
              "(meson option onednn)");
  current_kernels().store(kernels, std::memory_order_relaxed);
}

std::string describe_conv_kernels() {
  if (conv_kernels() == ConvKernels::im2col) return "im2col + OpenBLAS gemm";
#ifdef XGRAD_WITH_ONEDNN
  const dnnl_version_t* v = dnnl_version();
  const char* isa = "?";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      isa = "sse41";
      break;
    case dnnl::cpu_isa::avx:
      isa = "avx";
      break;
    case dnnl::cpu_isa::avx2:
      isa = "avx2";
      break;
    case dnnl::cpu_isa::avx2_vnni:
      isa = "avx2_vnni";
      break;
    case dnnl::cpu_isa::avx512_core:
      isa = "avx512_core";
      break;
    case dnnl::cpu_isa::avx512_core_vnni:
      isa = "avx512_core_vnni";
      break;
    case dnnl::cpu_isa::avx512_core_bf16:
      isa = "avx512_core_bf16";
      break;
    case dnnl::cpu_isa::avx512_core_amx:
      isa = "avx512_core_amx";
      break;
    default:
      break;
  }
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" + isa + "), single-threaded per chunk of samples";
#else
  return "im2col + OpenBLAS gemm";
#endif
}

namespace onednn {

#ifndef XGRAD_WITH_ONEDNN

bool forward(const Conv2dPlan&, const float*, const float*, const float*, float*) { return false; }
bool backward_data(const Conv2dPlan&, const float*, const float*, float*) { return false; }
bool backward_weights(const Conv2dPlan&, const float*, const float*, float*) { return false; }

#else

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dims = memory::dims;
constexpr auto f32 = memory::data_type::f32;

// The weight gradient's partial sums: (chunks - 1) copies of dW at most this
// large (in elements), as on the im2col path; a larger dW runs im2col.
constexpr std::size_t kMaxPartialWeights = std::size_t(1) << 18;

const dnnl::engine& engine() {
  static const dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

// omp_get_max_threads() is 1 on this thread while it lives.
class SingleThread {
 public:
  SingleThread() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThread() { omp_set_num_threads(saved_); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;

 private:
  int saved_;
};

// A buffer of `bytes`, 64-byte aligned (oneDNN's preference), freed on scope exit.
struct Buffer {
  explicit Buffer(std::size_t bytes)
      : data(bytes ? std::aligned_alloc(64, (bytes + 63) / 64 * 64) : nullptr) {
    if (bytes && !data) throw std::bad_alloc();
  }
  ~Buffer() { std::free(data); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data;
};

// A primitive with its scratchpad size (scratchpad_mode::user: each run
// brings its own, so threads share no buffer).
struct Step {
  dnnl::primitive prim;
  memory::desc scratch;

  void run(std::unordered_map<int, memory> args) const {
    Buffer pad(scratch.get_size());
    if (pad.data) args.insert({DNNL_ARG_SCRATCHPAD, memory(scratch, engine(), pad.data)});
    dnnl::stream stream(engine());
    prim.execute(stream, args);
    stream.wait();
  }
};

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A reorder from one layout to another, or nothing when they are the same.
std::optional<Step> reorder(const memory::desc& from, const memory::desc& to) {
  if (from == to) return std::nullopt;
  const dnnl::reorder::primitive_desc pd(engine(), from, engine(), to, user_scratchpad());
  return Step{dnnl::reorder(pd), pd.scratchpad_desc()};
}

// The layouts and primitives of one plan for chunks of mb samples.
struct Prims {
  memory::desc src, weights, dst;                       // NCHW / OIHW (GOIHW with groups)
  memory::desc conv_src, conv_weights, conv_dst, bias;  // the forward primitive's
  Step forward;
  std::optional<Step> src_in, weights_in, dst_out;
  // Backward data: diff_src = src, diff_dst = dst in layout.
  memory::desc data_diff_src, data_weights, data_diff_dst;
  Step data;
  std::optional<Step> data_weights_in, data_diff_dst_in, data_diff_src_out;
  // Backward weights (no bias: conv.cpp sums the bias gradient itself).
  memory::desc wgt_src, wgt_diff_weights, wgt_diff_dst;
  Step weight;
  std::optional<Step> wgt_src_in, wgt_diff_dst_in, wgt_diff_weights_out;
};

Prims make_prims(const Conv2dPlan& p, std::size_t mb, bool bias) {
  const ConvGeometry& g = p.geom;
  const auto d = [](std::size_t v) { return static_cast<memory::dim>(v); };
  const Dims src{d(mb), d(p.in_channels()), d(g.height), d(g.width)};
  const Dims dst{d(mb), d(p.out_channels()), d(g.oh), d(g.ow)};
  const Dims weights = p.groups == 1
                           ? Dims{d(p.out_channels()), d(g.channels), d(g.kh), d(g.kw)}
                           : Dims{d(p.groups), d(p.out_per_group), d(g.channels), d(g.kh), d(g.kw)};
  const Dims strides{g.sh, g.sw}, dilates{g.dh - 1, g.dw - 1}, padding{g.ph, g.pw};
  const auto any = [](const Dims& dims) { return memory::desc(dims, f32, Tag::any); };
  Prims r;
  r.src = memory::desc(src, f32, Tag::nchw);
  r.dst = memory::desc(dst, f32, Tag::nchw);
  r.weights = memory::desc(weights, f32, p.groups == 1 ? Tag::oihw : Tag::goihw);
  r.bias = memory::desc({d(p.out_channels())}, f32, Tag::x);
  const auto attr = user_scratchpad();
  const auto algo = dnnl::algorithm::convolution_direct;

  const dnnl::convolution_forward::desc fd =
      bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, any(src),
                                             any(weights), r.bias, any(dst), strides, dilates,
                                             padding, padding)
           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algo, any(src),
                                             any(weights), any(dst), strides, dilates, padding,
                                             padding);
  const dnnl::convolution_forward::primitive_desc fpd(fd, attr, engine());
  r.conv_src = fpd.src_desc();
  r.conv_weights = fpd.weights_desc();
  r.conv_dst = fpd.dst_desc();
  r.forward = Step{dnnl::convolution_forward(fpd), fpd.scratchpad_desc()};
  r.src_in = reorder(r.src, r.conv_src);
  r.weights_in = reorder(r.weights, r.conv_weights);
  r.dst_out = reorder(r.conv_dst, r.dst);

  const dnnl::convolution_backward_data::desc bd(algo, any(src), any(weights), any(dst), strides,
                                                 dilates, padding, padding);
  const dnnl::convolution_backward_data::primitive_desc bpd(bd, attr, engine(), fpd);
  r.data_diff_src = bpd.diff_src_desc();
  r.data_weights = bpd.weights_desc();
  r.data_diff_dst = bpd.diff_dst_desc();
  r.data = Step{dnnl::convolution_backward_data(bpd), bpd.scratchpad_desc()};
  r.data_weights_in = reorder(r.weights, r.data_weights);
  r.data_diff_dst_in = reorder(r.dst, r.data_diff_dst);
  r.data_diff_src_out = reorder(r.data_diff_src, r.src);

  const dnnl::convolution_backward_weights::desc wd(algo, any(src), any(weights), any(dst), strides,
                                                    dilates, padding, padding);
  const dnnl::convolution_backward_weights::primitive_desc wpd(wd, attr, engine(), fpd);
  r.wgt_src = wpd.src_desc();
  r.wgt_diff_weights = wpd.diff_weights_desc();
  r.wgt_diff_dst = wpd.diff_dst_desc();
  r.weight = Step{dnnl::convolution_backward_weights(wpd), wpd.scratchpad_desc()};
  r.wgt_src_in = reorder(r.src, r.wgt_src);
  r.wgt_diff_dst_in = reorder(r.dst, r.wgt_diff_dst);
  r.wgt_diff_weights_out = reorder(r.wgt_diff_weights, r.weights);
  return r;
}

// Primitives of every plan seen, by plan, chunk size and bias (creating them
// generates code: milliseconds). Bounded: cleared when full.
using Key = std::tuple<std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,
                       std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t,
                       std::ptrdiff_t, std::ptrdiff_t, std::size_t, std::size_t, bool>;
constexpr std::size_t kMaxCached = 64;

// nullptr when oneDNN has no convolution for this plan.
std::shared_ptr<const Prims> prims_for(const Conv2dPlan& p, std::size_t mb, bool bias) {
  static std::mutex mutex;
  static std::map<Key, std::shared_ptr<const Prims> > cache;
  const ConvGeometry& g = p.geom;
  const Key key{g.channels, g.height, g.width,         g.kh, g.kw, mb, g.sh, g.sw, g.ph, g.pw, g.dh,
                g.dw,       p.groups, p.out_per_group, bias};
  const std::lock_guard<std::mutex> lock(mutex);
  const auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) cache.clear();
  std::shared_ptr<const Prims> made;
  try {
    const SingleThread one;
    made = std::make_shared<const Prims>(make_prims(p, mb, bias));
  } catch (const dnnl::error&) {
    made = nullptr;  // unsupported here: im2col (the same answer every time)
  }
  cache.emplace(key, made);
  return made;
}

// The chunks of a batch and their primitives (at most two chunk sizes).
struct Chunks {
  std::size_t batch, count;
  std::shared_ptr<const Prims> small, large;  // floor(batch / count), ceil(...)

  std::size_t begin(std::size_t c) const { return batch * c / count; }
  std::size_t end(std::size_t c) const { return batch * (c + 1) / count; }
  const Prims& prims(std::size_t c) const {
    return end(c) - begin(c) == batch / count ? *small : *large;
  }
  bool ok() const { return small && large; }
};

Chunks chunks_for(const Conv2dPlan& p, bool bias) {
  Chunks c{p.batch, std::min(p.batch, kConvChunks), nullptr, nullptr};
  if (c.count == 0) return c;
  c.small = prims_for(p, p.batch / c.count, bias);
  c.large = p.batch % c.count == 0 ? c.small : prims_for(p, p.batch / c.count + 1, bias);
  return c;
}

bool enabled(const Conv2dPlan& p) { return conv_kernels() == ConvKernels::onednn && p.batch > 0; }

memory mem(const memory::desc& md, const void* data) {
  return memory(md, engine(), const_cast<void*>(data));
}

// data in layout `from` as `step` converts it: the converted copy in `buffer`
// (allocated here), or data itself when no reorder is needed.
memory converted(const std::optional<Step>& step, const memory::desc& from, const memory::desc& to,
                 const void* data, std::unique_ptr<Buffer>& buffer) {
  if (!step) return mem(from, data);
  buffer = std::make_unique<Buffer>(to.get_size());
  memory out = mem(to, buffer->data);
  step->run({{DNNL_ARG_FROM, mem(from, data)}, {DNNL_ARG_TO, out}});
  return out;
}

// Runs body(first, last) over ranges of chunks on xgrad's threads.
template <class F>
void over_chunks(const Conv2dPlan& p, const Chunks& c, const F& body) {
  const std::size_t chunk_cost = p.groups * p.out_per_group * p.geom.rows() * p.geom.cols() *
                                 std::max<std::size_t>(1, p.batch / c.count);
  parallel_for(c.count, std::max<std::size_t>(1, blas::kGemmGrain / chunk_cost),
               [&](std::size_t c0, std::size_t c1) {
                 const SingleThread one;
                 for (std::size_t i = c0; i < c1; ++i) body(i);
               });
}

}  // namespace

bool forward(const Conv2dPlan& p, const float* x, const float* w, const float* bias, float* y) {
  if (!enabled(p)) return false;
  const Chunks c = chunks_for(p, bias != nullptr);
  if (!c.ok()) return false;
  // The weights in the primitives' layout, once per chunk size.
  std::unique_ptr<Buffer> w_small, w_large;
  std::optional<memory> ws_small, ws_large;
  {
    const SingleThread one;
    ws_small = converted(c.small->weights_in, c.small->weights, c.small->conv_weights, w, w_small);
    ws_large = converted(c.large->weights_in, c.large->weights, c.large->conv_weights, w, w_large);
  }
  const std::size_t in_sample = p.in_channels() * p.geom.height * p.geom.width;
  const std::size_t out_sample = p.out_channels() * p.geom.cols();
  over_chunks(p, c, [&](std::size_t i) {
    const Prims& r = c.prims(i);
    const memory& wm = &r == c.small.get() ? *ws_small : *ws_large;
    std::unique_ptr<Buffer> src_buf, dst_buf;
    const memory src = converted(r.src_in, r.src, r.conv_src, x + c.begin(i) * in_sample, src_buf);
    float* yi = y + c.begin(i) * out_sample;
    if (r.dst_out) dst_buf = std::make_unique<Buffer>(r.conv_dst.get_size());
    const memory dst = r.dst_out ? mem(r.conv_dst, dst_buf->data) : mem(r.dst, yi);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, dst}};
    if (bias) args.insert({DNNL_ARG_BIAS, mem(r.bias, bias)});
    r.forward.run(args);
    if (r.dst_out) r.dst_out->run({{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, mem(r.dst, yi)}});
  });
  return true;
}

bool backward_data(const Conv2dPlan& p, const float* w, const float* gy, float* dx) {
  if (!enabled(p)) return false;
  const Chunks c = chunks_for(p, false);
  if (!c.ok()) return false;
  std::unique_ptr<Buffer> w_small, w_large;
  std::optional<memory> ws_small, ws_large;
  {
    const SingleThread one;
    ws_small =
        converted(c.small->data_weights_in, c.small->weights, c.small->data_weights, w, w_small);
    ws_large =
        converted(c.large->data_weights_in, c.large->weights, c.large->data_weights, w, w_large);
  }
  const std::size_t in_sample = p.in_channels() * p.geom.height * p.geom.width;
  const std::size_t out_sample = p.out_channels() * p.geom.cols();
  over_chunks(p, c, [&](std::size_t i) {
    const Prims& r = c.prims(i);
    const memory& wm = &r == c.small.get() ? *ws_small : *ws_large;
    std::unique_ptr<Buffer> gy_buf, dx_buf;
    const memory gym =
        converted(r.data_diff_dst_in, r.dst, r.data_diff_dst, gy + c.begin(i) * out_sample, gy_buf);
    float* dxi = dx + c.begin(i) * in_sample;
    if (r.data_diff_src_out) dx_buf = std::make_unique<Buffer>(r.data_diff_src.get_size());
    const memory dxm = r.data_diff_src_out ? mem(r.data_diff_src, dx_buf->data) : mem(r.src, dxi);
    r.data.run({{DNNL_ARG_DIFF_DST, gym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}});
    if (r.data_diff_src_out) {
      r.data_diff_src_out->run({{DNNL_ARG_FROM, dxm}, {DNNL_ARG_TO, mem(r.src, dxi)}});
    }
  });
  return true;
}

bool backward_weights(const Conv2dPlan& p, const float* x, const float* gy, float* dw) {
  if (!enabled(p)) return false;
  const std::size_t w_size = p.out_channels() * p.geom.rows();
  if (w_size > kMaxPartialWeights) return false;
  const Chunks c = chunks_for(p, false);
  if (!c.ok()) return false;
  std::vector<float> partial((c.count - 1) * w_size);  // chunk 0 writes dw itself
  const std::size_t in_sample = p.in_channels() * p.geom.height * p.geom.width;
  const std::size_t out_sample = p.out_channels() * p.geom.cols();
  over_chunks(p, c, [&](std::size_t i) {
    const Prims& r = c.prims(i);
    std::unique_ptr<Buffer> x_buf, gy_buf, dw_buf;
    const memory xm = converted(r.wgt_src_in, r.src, r.wgt_src, x + c.begin(i) * in_sample, x_buf);
    const memory gym =
        converted(r.wgt_diff_dst_in, r.dst, r.wgt_diff_dst, gy + c.begin(i) * out_sample, gy_buf);
    float* out = i == 0 ? dw : partial.data() + (i - 1) * w_size;
    if (r.wgt_diff_weights_out) dw_buf = std::make_unique<Buffer>(r.wgt_diff_weights.get_size());
    const memory dwm =
        r.wgt_diff_weights_out ? mem(r.wgt_diff_weights, dw_buf->data) : mem(r.weights, out);
    r.weight.run({{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, gym}, {DNNL_ARG_DIFF_WEIGHTS, dwm}});
    if (r.wgt_diff_weights_out) {
      r.wgt_diff_weights_out->run({{DNNL_ARG_FROM, dwm}, {DNNL_ARG_TO, mem(r.weights, out)}});
    }
  });
  for (std::size_t i = 1; i < c.count; ++i) {
    const float* part = partial.data() + (i - 1) * w_size;
    for (std::size_t j = 0; j < w_size; ++j) dw[j] += part[j];
  }
  return true;
}

#endif  // XGRAD_WITH_ONEDNN

}  // namespace onednn

}  // namespace xgrad::detail
