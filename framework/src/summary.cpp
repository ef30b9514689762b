#include "xgrad/summary.hpp"

#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace xgrad {

namespace {

// 4547 -> "4,547".
std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

template <class T>
std::size_t total(const std::vector<Tensor<T>>& params) {
  std::size_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

struct Line {
  std::string text;
  std::size_t count;
};

template <class T>
void collect(const Module<T>& m, const std::string& label, std::size_t depth,
             std::vector<Line>* lines) {
  std::string text = std::string(2 * depth, ' ') + label + m.type_name();
  const auto own = m.named_parameters(/*recurse=*/false);
  for (std::size_t i = 0; i < own.size(); ++i) {
    text += (i == 0 ? "  " : ", ") + own[i].first + " " + to_string(own[i].second.shape());
  }
  const WeightStorage st = m.weight_storage();
  if (st.float_bytes) {
    text += std::string(own.empty() ? "  " : ", ") + "weight storage " + with_commas(st.bytes) +
            " B (" + with_commas(st.float_bytes) + " B as float32)";
  }
  lines->push_back({text, total(m.parameters())});
  for (const auto& child : m.named_children()) {
    collect(*child.second, "(" + child.first + "): ", depth + 1, lines);
  }
}

}  // namespace

template <class T>
std::string summary(const Module<T>& module) {
  std::vector<Line> lines;
  collect(module, "", 0, &lines);
  std::vector<std::string> counts;
  std::size_t text_width = 0, count_width = 0;
  for (const Line& line : lines) {
    counts.push_back(line.count ? with_commas(line.count) : std::string());
    text_width = std::max(text_width, line.text.size());
    count_width = std::max(count_width, counts.back().size());
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string row = lines[i].text;
    if (!counts[i].empty()) {
      row +=
          std::string(text_width - lines[i].text.size() + 2 + count_width - counts[i].size(), ' ') +
          counts[i];
    }
    out += row + "\n";
  }
  const auto params = module.parameters();
  std::size_t trainable = 0;
  for (const auto& p : params)
    if (p.requires_grad()) trainable += p.numel();
  out += "total: " + with_commas(total(params)) + " parameters (" + with_commas(trainable) +
         " trainable) in " + std::to_string(module.modules().size() + 1) + " modules\n";
  WeightStorage st = module.weight_storage();
  for (const auto& m : module.modules()) {
    const WeightStorage s = m->weight_storage();
    st.bytes += s.bytes;
    st.float_bytes += s.float_bytes;
  }
  if (st.float_bytes) {
    out += "weight storage: " + with_commas(st.bytes) + " B (" + with_commas(st.float_bytes) +
           " B as float32)\n";
  }
  return out;
}

template <class T>
std::ostream& operator<<(std::ostream& out, const Module<T>& module) {
  return out << summary(module);
}

template std::string summary(const Module<float>&);
template std::string summary(const Module<double>&);
template std::ostream& operator<<(std::ostream&, const Module<float>&);
template std::ostream& operator<<(std::ostream&, const Module<double>&);

}  // namespace xgrad
