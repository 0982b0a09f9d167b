// Writes a small random trace file for the CLI tests: write_random_trace PATH [DTYPE]
// (2 layers, 4 query heads, 2 KV heads, head_dim 16, prompt 120, 8 decode steps, seed 11).
#include <iostream>

#include "traces/replay/random_trace.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: write_random_trace PATH [float32|float16|bfloat16]\n";
    return 2;
  }
  hgca::traces::TraceMeta m;
  m.model_name = "random-cli";
  m.num_layers = 2;
  m.num_q_heads = 4;
  m.num_kv_heads = 2;
  m.head_dim = 16;
  m.prompt_length = 120;
  m.decode_steps = 8;
  m.storage_dtype = argc > 2 ? argv[2] : "float32";
  try {
    hgca::traces::write_trace(hgca::traces::random_trace(m, 11), argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "write_random_trace: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
