// Registration of the engine workloads (bench_engine.cpp and its libtorch
// peer), at every thread count of bench_threads.hpp.
#pragma once

#include <string>

#include "bench_data.hpp"
#include "bench_threads.hpp"

namespace bench {

// The engine workloads of one side ("xgrad" or "torch") at every thread count.
// Each takes its thread count last.
struct EngineCases {
  void (*tiny_chain)(benchmark::State&, int);
  void (*tiny_add)(benchmark::State&, int);
  void (*mlp_step)(benchmark::State&, MlpShape, int);
  void (*module_step)(benchmark::State&, MlpShape, int);
};

template <class T>
void register_engine_cases(const std::string& side, const EngineCases& c) {
  const std::string t = type_name<T>();
  for (int threads : kThreadCounts) {
    const auto name = [&](const std::string& w) { return with_threads(side + "/" + w, threads); };
    if (sizeof(T) == 4) {
      add_case(name("tiny_chain/f32"), benchmark::kNanosecond, c.tiny_chain, threads);
      add_case(name("tiny_add/f32"), benchmark::kNanosecond, c.tiny_add, threads);
    }
    add_case(name("mlp_step/" + kSmallMlp.name() + "/" + t), benchmark::kMicrosecond, c.mlp_step,
             kSmallMlp, threads);
    for (const auto& s : {kSmallMlp, kLargeMlp}) {
      add_case(name("module_step/" + s.name() + "/" + t), benchmark::kMicrosecond, c.module_step, s,
               threads);
    }
  }
}

}  // namespace bench
