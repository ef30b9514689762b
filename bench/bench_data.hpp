// Workload shapes and deterministic data shared by the xgrad and libtorch
// benchmark translation units, so both sides compute on identical numbers.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// Operations per tiny_chain iteration: 50 times `c = c * b + a`.
constexpr int kChainSteps = 50;
constexpr int kChainOps = 2 * kChainSteps;
constexpr std::size_t kTinySize = 8;
constexpr double kLearningRate = 0.01;

struct MlpShape {
  std::size_t in, hidden, out, batch;
  std::string name() const {
    return std::to_string(in) + "-" + std::to_string(hidden) + "-" + std::to_string(out) + "/b" +
           std::to_string(batch);
  }
};
constexpr MlpShape kSmallMlp{64, 128, 10, 32};
constexpr MlpShape kLargeMlp{784, 512, 10, 128};

// Uniform values in [-bound, bound) from a fixed 64-bit LCG (seeded per use).
inline std::vector<double> uniform(std::size_t n, double bound, std::uint64_t seed) {
  std::vector<double> v(n);
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
    x = (2 * u - 1) * bound;
  }
  return v;
}

// The parameters and one batch of an MLP, row-major, as for torch::nn::Linear:
// weight [out, in], bias [out], input [batch, in], labels [batch].
struct MlpData {
  std::vector<double> w1, b1, w2, b2, x;
  std::vector<std::int64_t> labels;
};

inline MlpData mlp_data(const MlpShape& s) {
  MlpData d;
  const double k1 = 1 / std::sqrt(double(s.in)), k2 = 1 / std::sqrt(double(s.hidden));
  d.w1 = uniform(s.hidden * s.in, k1, 1);
  d.b1 = uniform(s.hidden, k1, 2);
  d.w2 = uniform(s.out * s.hidden, k2, 3);
  d.b2 = uniform(s.out, k2, 4);
  d.x = uniform(s.batch * s.in, 1.0, 5);
  for (std::size_t i = 0; i < s.batch; ++i) d.labels.push_back(std::int64_t(i % s.out));
  return d;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
const char* type_name() {
  return sizeof(T) == 4 ? "f32" : "f64";
}

}  // namespace bench
