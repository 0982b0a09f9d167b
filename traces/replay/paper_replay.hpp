// Replay of the paper policy (HGCA as published, traces/policies/paper.cpp): the authors' mechanism
// (sim/policy/paper_selection.hpp) run through a trace, one PaperSelector per layer over all its heads (the head
// groups span the layer). Per layer:
//  - the prompt is one multi-token append of prompt_length tokens: every selection head's scores are the mean
//    causal attention weights of the trace's prompt queries (all of them, or only the P stored: their mean
//    stands in for the whole prompt's), or with prompt=first-decode decode step 0's query over the prompt;
//    the append moves blocks out of the window and selects among those that became CPU-only;
//  - decode step t (position p): GPU part = recall + window + the new token, dense, [c, p] with c the CPU-only
//    tokens; CPU part = each query head's sparse set (its own, or its KV head's with scope kv-head); merged by
//    LSE and compared with exact attention over [0, p]. Beside it, the oracle at the same per-head budget
//    (top-|set| CPU-only positions by true logit). The GPU part's own softmax weights (normalized over [c, p],
//    what the authors' window attention returns; the mean over a KV group's query heads with kv-head) feed
//    PaperSelector::decode, whose evictions select.
// Layers run in parallel; each writes only its own slots, so results do not depend on the thread count.
#pragma once

#include "traces/replay/replay.hpp"

namespace hgca::traces::detail {

// Runs policy.paper() over the trace (meta, options and every figure of r; not the timings). Throws
// std::invalid_argument for options or a trace the policy cannot use (one line), TraceError for a bad trace.
ReplayResult replay_paper(const TraceSource& trace, const Policy& policy, const ReplayOptions& options);

}  // namespace hgca::traces::detail
