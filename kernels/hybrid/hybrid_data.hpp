// The synthetic layer a hybrid step runs on: every K, V and query element is a pure function of
// (seed, sequence, head, position, element), so the data can be generated in parallel, in any order, on any
// machine, and a test can rebuild the exact values to compute its own reference.
#pragma once

#include <cstdint>

namespace hgca::kernels::hybrid {

// Element i of the K (which = 0) or V (which = 1) row of token `position` of (seq, kv_head), before rounding
// to the storage type: uniform with variance 1, keys plus a per-channel offset in [-1.5, 1.5) (real keys
// have outlier channels).
float kv_value(std::uint64_t seed, int which, int seq, int kv_head, std::int64_t position, int i);
// Element i of the query of (seq, q_head): uniform with standard deviation 1.5.
float query_value(std::uint64_t seed, int seq, int q_head, int i);

}  // namespace hgca::kernels::hybrid
