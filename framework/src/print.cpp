// Tensor printing: one pass over the shown elements to choose the format and
// width, a second one to write them (the layout logic of PyTorch's
// _tensor_str, without its options).
#include "xgrad/print.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <ostream>
#include <sstream>
#include <type_traits>

namespace xgrad {

namespace {

constexpr std::size_t kThreshold = 1000;  // more elements: summarize
constexpr std::size_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 80;

enum class Mode { Integer, Fixed, Scientific };

template <class T>
Mode choose_mode(const xt::xarray<T>& a) {
  bool integral = true, any = false;
  double max_abs = 0, min_abs = 0;  // over finite nonzero values
  for (T v : a) {
    if (!std::isfinite(v)) continue;
    if (v != std::floor(v)) integral = false;
    const double m = std::abs(static_cast<double>(v));
    if (m == 0) continue;
    max_abs = any ? std::max(max_abs, m) : m;
    min_abs = any ? std::min(min_abs, m) : m;
    any = true;
  }
  if (integral) return max_abs >= 1e8 ? Mode::Scientific : Mode::Integer;
  if (any && (max_abs >= 1e8 || min_abs < 1e-4 || max_abs / min_abs > 1000)) {
    return Mode::Scientific;
  }
  return Mode::Fixed;
}

std::string format_value(double v, Mode mode) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  switch (mode) {
    case Mode::Integer:
      std::snprintf(buf, sizeof buf, "%.0f.", v);
      break;
    case Mode::Fixed:
      std::snprintf(buf, sizeof buf, "%.4f", v);
      break;
    case Mode::Scientific:
      std::snprintf(buf, sizeof buf, "%.4e", v);
      break;
  }
  return buf;
}

// Indices shown along an axis of `extent`: all, or the edges with a gap
// (marked by the value extent, meaning "...").
std::vector<std::size_t> shown(std::size_t extent, bool summarize) {
  std::vector<std::size_t> idx;
  if (summarize && extent > 2 * kEdgeItems) {
    for (std::size_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
    idx.push_back(extent);
    for (std::size_t i = extent - kEdgeItems; i < extent; ++i) idx.push_back(i);
  } else {
    for (std::size_t i = 0; i < extent; ++i) idx.push_back(i);
  }
  return idx;
}

template <class T>
class Printer {
 public:
  Printer(const xt::xarray<T>& a, std::size_t indent)
      : a_(a), summarize_(a.size() > kThreshold), mode_(choose_mode(a)), indent_(indent) {
    strides_.assign(a.dimension(), 1);
    for (std::size_t k = a.dimension(); k-- > 1;) strides_[k - 1] = strides_[k] * a.shape()[k];
    visit(0, 0, [this](T v) { width_ = std::max(width_, format_value(v, mode_).size()); });
  }

  void print(std::ostream& out) {
    out_ = &out;
    write(0, 0);
  }

 private:
  void visit(std::size_t dim, std::size_t offset, const std::function<void(T)>& f) const {
    if (a_.dimension() == 0) return f(a_.data()[0]);
    for (std::size_t i : shown(a_.shape()[dim], summarize_)) {
      if (i == a_.shape()[dim]) continue;
      const std::size_t at = offset + i * strides_[dim];
      if (dim + 1 == a_.dimension()) {
        f(a_.data()[at]);
      } else {
        visit(dim + 1, at, f);
      }
    }
  }

  std::string item(T v) const {
    std::string s = format_value(v, mode_);
    return std::string(width_ - s.size(), ' ') + s;
  }

  void write(std::size_t dim, std::size_t offset) {
    std::ostream& out = *out_;
    if (a_.dimension() == 0) {
      out << format_value(a_.data()[0], mode_);
      return;
    }
    const std::size_t extent = a_.shape()[dim];
    const std::string pad(indent_ + dim + 1, ' ');
    out << '[';
    const auto idx = shown(extent, summarize_);
    if (dim + 1 == a_.dimension()) {
      // One row, wrapped to the line width.
      const std::size_t per_line =
          std::max<std::size_t>(1, (kLineWidth - std::min(kLineWidth, pad.size())) / (width_ + 2));
      for (std::size_t k = 0; k < idx.size(); ++k) {
        if (k > 0) out << (k % per_line == 0 ? ",\n" + pad : std::string(", "));
        out << (idx[k] == extent ? std::string("...") : item(a_.data()[offset + idx[k]]));
      }
    } else {
      // Sub-blocks separated by as many newlines as they have dimensions - 1.
      const std::string sep = "," + std::string(a_.dimension() - dim - 1, '\n') + pad;
      for (std::size_t k = 0; k < idx.size(); ++k) {
        if (k > 0) out << sep;
        if (idx[k] == extent) {
          out << "...";
        } else {
          write(dim + 1, offset + idx[k] * strides_[dim]);
        }
      }
    }
    out << ']';
  }

  const xt::xarray<T>& a_;
  bool summarize_;
  Mode mode_;
  std::size_t indent_;
  std::vector<std::size_t> strides_;
  std::size_t width_ = 0;
  std::ostream* out_ = nullptr;
};

}  // namespace

template <class T>
std::ostream& operator<<(std::ostream& out, const Tensor<T>& t) {
  if (!t.defined()) return out << "tensor(undefined)";
  out << "tensor(";
  Printer<T>(t.data(), 7).print(out);  // 7: the width of "tensor("
  out << ", shape=" << to_string(t.shape())
      << ", dtype=" << (std::is_same<T, float>::value ? "float32" : "float64");
  if (*t.grad_fn_name() != '\0') {
    out << ", grad_fn=<" << t.grad_fn_name() << '>';
  } else if (t.requires_grad()) {
    out << ", requires_grad=true";
  }
  return out << ')';
}

template <class T>
std::string to_string(const Tensor<T>& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

template std::ostream& operator<<(std::ostream&, const Tensor<float>&);
template std::ostream& operator<<(std::ostream&, const Tensor<double>&);
template std::string to_string(const Tensor<float>&);
template std::string to_string(const Tensor<double>&);

}  // namespace xgrad
