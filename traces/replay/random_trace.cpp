#include "traces/replay/random_trace.hpp"

#include <cmath>

namespace hgca::traces {

namespace {
struct Rng {  // SplitMix64 + Box-Muller: the same numbers on every platform
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  float normal() {
    return static_cast<float>(std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()));
  }
};
}  // namespace

InMemoryTrace random_trace(TraceMeta meta, std::uint64_t seed, double focus) {
  InMemoryTrace t;
  if (meta.softmax_scale == 0) meta.softmax_scale = 1.0 / std::sqrt(static_cast<double>(meta.head_dim));
  if (meta.model_name.empty()) meta.model_name = "random";
  if (meta.source.empty()) meta.source = "random_trace";
  if (meta.storage_dtype.empty()) meta.storage_dtype = "float32";
  meta.format_version = kTraceFormatVersion;
  t.m = meta;
  Rng rng{seed};
  const auto d = static_cast<size_t>(meta.head_dim);
  const auto N = static_cast<size_t>(meta.num_positions());
  const auto T = static_cast<size_t>(meta.decode_steps);
  const int L = meta.num_layers;
  t.k.assign(static_cast<size_t>(L), {});
  t.v.assign(static_cast<size_t>(L), {});
  t.q.assign(static_cast<size_t>(L), {});
  for (int l = 0; l < L; ++l) {
    for (int h = 0; h < meta.num_kv_heads; ++h) {
      std::vector<float> k(N * d), v(N * d);
      for (float& x : k) x = rng.normal();
      for (float& x : v) x = rng.normal();
      t.k[static_cast<size_t>(l)].push_back(std::move(k));
      t.v[static_cast<size_t>(l)].push_back(std::move(v));
    }
    for (int h = 0; h < meta.num_q_heads; ++h) {
      const auto& keys = t.k[static_cast<size_t>(l)][static_cast<size_t>(meta.kv_head_of(h))];
      std::vector<float> q(T * d);
      // Each head has a few favourite positions it returns to, plus one recent one per step.
      size_t fav[3];
      for (size_t& f : fav) f = static_cast<size_t>(rng.next() % static_cast<std::uint64_t>(meta.prompt_length > 0 ? meta.prompt_length : 1));
      const double head_focus = focus * (0.25 + 1.5 * rng.uniform());  // heads differ in how peaked they are
      for (size_t s = 0; s < T; ++s) {
        const size_t p = static_cast<size_t>(meta.prompt_length) + s;
        const size_t recent = p - static_cast<size_t>(rng.next() % (p + 1 < 64 ? p + 1 : 64));
        for (size_t i = 0; i < d; ++i) {
          double x = rng.normal();
          for (const size_t f : fav) x += head_focus * keys[f * d + i] / 3.0;
          x += head_focus * keys[recent * d + i] / 2.0;
          q[s * d + i] = static_cast<float>(x);
        }
      }
      t.q[static_cast<size_t>(l)].push_back(std::move(q));
    }
  }
  return t;
}

}  // namespace hgca::traces
