// Replay speed on a random trace of a given shape (no trace file needed): KV bytes an exact decode attention
// reads per second of replay (ReplayResult::kv_bytes / seconds). One JSON line per policy.
//   hgca_replay_bench [--positions N] [--decode T] [--threads N] [--window W] [POLICY...]
// Defaults: the tinylm-code-8l shape (8 layers, 4 query heads, 2 KV heads, head_dim 64), 2048 positions of
// which 256 decode steps, window 256, sinks 4, policies topk:frac=0.02 topp:p=0.9 block:size=16,frac=0.02.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "sim/results/number_format.hpp"
#include "traces/replay/random_trace.hpp"
#include "traces/replay/replay.hpp"

int main(int argc, char** argv) {
  using namespace hgca::traces;
  std::int64_t positions = 2048, decode = 256, window = 256;
  int threads = 2;
  std::vector<std::string> policies;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] {
      if (i + 1 >= argc) {
        std::cerr << "hgca_replay_bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--positions") positions = value();
    else if (a == "--decode") decode = value();
    else if (a == "--threads") threads = static_cast<int>(value());
    else if (a == "--window") window = value();
    else policies.push_back(a);
  }
  if (policies.empty()) policies = {"topk:frac=0.02", "topp:p=0.9", "block:size=16,frac=0.02"};
  TraceMeta m;
  m.model_name = "tinylm-code-8l-shape";
  m.num_layers = 8;
  m.num_q_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 64;
  m.prompt_length = positions - decode;
  m.decode_steps = decode;
  const InMemoryTrace trace = random_trace(m, 1);
  ReplayOptions o;
  o.window = window;
  o.sinks = 4;
  o.threads = threads;
  try {
    for (const std::string& spec : policies) {
      const auto policy = make_policy(spec);
      const ReplayResult r = replay(trace, *policy, o);
      std::cout << "{\"policy\": \"" << r.policy << "\", \"positions\": " << positions << ", \"decode_steps\": " << decode
                << ", \"threads\": " << threads << ", \"seconds\": " << hgca::format_shortest(r.seconds)
                << ", \"kv_bytes\": " << hgca::format_shortest(r.kv_bytes)
                << ", \"kv_bytes_per_s\": " << hgca::format_shortest(r.kv_bytes / r.seconds)
                << ", \"cpu_seconds\": " << hgca::format_shortest(r.cpu_seconds)
                << ", \"kv_bytes_per_cpu_s\": " << hgca::format_shortest(r.kv_bytes / r.cpu_seconds) << "}" << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "hgca_replay_bench: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
