// A seeded random trace for tests and benchmarks when no captured trace is at hand: Gaussian keys and values,
// and queries that point at a few "heavy hitter" keys (some old, some recent) plus noise, so attention is
// peaked the way real heads often are and sparsity policies have something to find.
#pragma once

#include <cstdint>

#include "traces/format/trace.hpp"

namespace hgca::traces {

// meta must give layers, heads, head_dim, prompt_length and decode_steps; softmax_scale 0 means
// 1/sqrt(head_dim). focus scales the query's alignment with its heavy hitters (0: unstructured queries).
InMemoryTrace random_trace(TraceMeta meta, std::uint64_t seed, double focus = 2.0);

}  // namespace hgca::traces
