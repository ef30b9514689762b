#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "xgrad/errors.hpp"

namespace harness {
namespace {

// (method, bits) pairs in first-appearance order.
std::vector<std::pair<std::string, int>> groups(const std::vector<Run>& runs) {
  std::vector<std::pair<std::string, int>> g;
  for (const Run& r : runs) {
    const std::pair<std::string, int> key{r.method, r.bits};
    if (std::find(g.begin(), g.end(), key) == g.end()) g.push_back(key);
  }
  return g;
}

std::vector<int> bit_widths(const std::vector<Run>& runs) {
  std::set<int, std::greater<int>> bits;
  for (const Run& r : runs) bits.insert(r.bits);
  return {bits.begin(), bits.end()};
}

std::string format(const MeanSd& m) {
  if (m.n == 0) return "-";
  char buf[64];
  // A mean that rounds to zero prints as 0.00, never -0.00.
  const double mean = std::abs(m.mean) < 0.005 ? 0.0 : m.mean;
  std::snprintf(buf, sizeof buf, "%.2f +- %.2f", mean, m.sd);
  return buf;
}

}  // namespace

MeanSd mean_sd(const std::vector<double>& values) {
  MeanSd m;
  m.n = values.size();
  if (m.n == 0) return m;
  for (double v : values) m.mean += v / double(m.n);
  if (m.n > 1) {
    double ss = 0;
    for (double v : values) ss += (v - m.mean) * (v - m.mean);
    m.sd = std::sqrt(ss / double(m.n - 1));
  }
  return m;
}

std::vector<double> accuracies(const std::vector<Run>& runs, const std::string& method, int bits) {
  std::vector<std::pair<int, double>> by_seed;
  for (const Run& r : runs) {
    if (r.method == method && r.bits == bits) by_seed.emplace_back(r.seed, r.test_accuracy);
  }
  std::sort(by_seed.begin(), by_seed.end());
  std::vector<double> out;
  for (const auto& s : by_seed) out.push_back(s.second);
  return out;
}

std::vector<double> paired_differences(const std::vector<Run>& runs, const std::string& a,
                                       const std::string& b, int bits) {
  std::vector<double> out;
  for (const Run& ra : runs) {
    if (ra.method != a || ra.bits != bits) continue;
    for (const Run& rb : runs) {
      if (rb.method == b && rb.bits == bits && rb.seed == ra.seed) {
        out.push_back(ra.test_accuracy - rb.test_accuracy);
      }
    }
  }
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  XGRAD_CHECK(f, xgrad::IOError, "write: cannot write \"", path, "\"");
}

void write_runs_csv(const std::vector<Run>& runs, const std::string& path) {
  std::ostringstream s;
  s << "method,bits,seed,test_accuracy,seconds\n";
  for (const Run& r : runs) {
    s << r.method << ',' << r.bits << ',' << r.seed << ',' << r.test_accuracy << ',' << r.seconds
      << '\n';
  }
  write_text(path, s.str());
}

void write_summary_csv(const std::vector<Run>& runs,
                       const std::vector<std::pair<std::string, std::string>>& pairs,
                       const std::string& path) {
  std::ostringstream s;
  s << "method,bits,n,mean,sd\n";
  for (const auto& [method, bits] : groups(runs)) {
    const MeanSd m = mean_sd(accuracies(runs, method, bits));
    s << method << ',' << bits << ',' << m.n << ',' << m.mean << ',' << m.sd << '\n';
  }
  for (const auto& [a, b] : pairs) {
    for (int bits : bit_widths(runs)) {
      const MeanSd m = mean_sd(paired_differences(runs, a, b, bits));
      if (m.n)
        s << a << " - " << b << ',' << bits << ',' << m.n << ',' << m.mean << ',' << m.sd << '\n';
    }
  }
  write_text(path, s.str());
}

nlohmann::json to_json(const std::vector<Run>& runs,
                       const std::vector<std::pair<std::string, std::string>>& pairs,
                       const nlohmann::json& config) {
  nlohmann::json j;
  j["config"] = config;
  j["runs"] = nlohmann::json::array();
  for (const Run& r : runs) {
    j["runs"].push_back({{"method", r.method},
                         {"bits", r.bits},
                         {"seed", r.seed},
                         {"test_accuracy", r.test_accuracy},
                         {"seconds", r.seconds},
                         {"epoch_loss", r.epoch_loss},
                         {"loss_curve", r.loss_curve},
                         {"epoch_test_accuracy", r.epoch_test_accuracy},
                         {"clip_initial", r.clip_initial},
                         {"clip_final", r.clip_final}});
  }
  j["summary"] = nlohmann::json::array();
  for (const auto& [method, bits] : groups(runs)) {
    const MeanSd m = mean_sd(accuracies(runs, method, bits));
    j["summary"].push_back(
        {{"method", method}, {"bits", bits}, {"n", m.n}, {"mean", m.mean}, {"sd", m.sd}});
  }
  j["paired"] = nlohmann::json::array();
  for (const auto& [a, b] : pairs) {
    for (int bits : bit_widths(runs)) {
      const MeanSd m = mean_sd(paired_differences(runs, a, b, bits));
      if (m.n) {
        j["paired"].push_back(
            {{"a", a}, {"b", b}, {"bits", bits}, {"n", m.n}, {"mean", m.mean}, {"sd", m.sd}});
      }
    }
  }
  return j;
}

void print_table(std::FILE* out, const std::vector<Run>& runs,
                 const std::vector<std::string>& methods,
                 const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::fprintf(out, "| bits |");
  for (const auto& m : methods) std::fprintf(out, " %s |", m.c_str());
  for (const auto& [a, b] : pairs) std::fprintf(out, " paired %s - %s |", a.c_str(), b.c_str());
  std::fprintf(out, "\n|---|");
  for (std::size_t i = 0; i < methods.size() + pairs.size(); ++i) std::fprintf(out, "---|");
  std::fprintf(out, "\n");
  for (int bits : bit_widths(runs)) {
    bool any = false;
    for (const auto& m : methods) any |= !accuracies(runs, m, bits).empty();
    if (!any) continue;
    std::fprintf(out, "| %s |", bits == 32 ? "float" : std::to_string(bits).c_str());
    for (const auto& m : methods)
      std::fprintf(out, " %s |", format(mean_sd(accuracies(runs, m, bits))).c_str());
    for (const auto& [a, b] : pairs) {
      std::fprintf(out, " %s |", format(mean_sd(paired_differences(runs, a, b, bits))).c_str());
    }
    std::fprintf(out, "\n");
  }
}

}  // namespace harness
