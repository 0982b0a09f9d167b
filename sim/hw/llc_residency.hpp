// How much of a step's CPU-resident KV the shared last-level cache still holds when the next step reads it.
//
// The cache is taken as LRU and described by the characteristic-time (Che) approximation: a line stays
// resident for a time T after its last use, where T is set by how fast everything that uses the cache pushes
// new lines in; a line re-read at rate l is found with probability 1 - exp(-l T). Per period (one decode step,
// the time from one read of a pool to the next) a step reads the share `touched` of its working set `ws`
// (random lines, drawn afresh each step), and everything else on the host inserts cache / residency bytes per
// second: `residency` is how long a line would stay if only that other traffic used the cache. With
// x = T / period, T solves
//
//     ws (1 - exp(-r x)) + (cache / residency) period x = cache,    hit = 1 - exp(-r x),   r = -ln(1 - touched)
//
// (a line read with probability `touched` per period is read within x periods with probability
// 1 - (1 - touched)^x = 1 - exp(-r x); r is about `touched` for small shares).
//
// Without other traffic (residency 0) this is the knee min(1, cache / ws) whatever `touched` is: a cache that
// serves only this job keeps as much of the pool as fits. With it the hit share also depends on how often a
// line comes back: a small step (a few % of the pool) with a long period re-reads each line so rarely that
// other data evicts it in between, even from a pool far smaller than the cache. Device run 13's small steps on
// 15-63 MiB pools found 13-55 % of their rows in the cache while steps touching 20-35 % of the same pools found
// nearly all (docs/VALIDATION.md, "Small steps and the cache"). Where other traffic dominates (ws small
// against the cache), the hit share depends on the cache's size only through `residency`, which is why the
// rule is written with it rather than with the traffic's rate: two hosts' fits agreed on it (2.2 and 2.3 ms)
// and not on the size.
//
// The rule treats a step's reads as spread over its period. Where one period brings in more than the cache
// holds (ws x touched + other traffic x period > cache: large steps on pools larger than the cache) a line
// rarely outlives a period, and an LRU cache then keeps fewer of the step's rows than the rule says (a
// simulated LRU of 2000 lines reading half of 6000 each period: 13 % against the rule's and the knee's 33 %);
// the microbenchmarks' pools of 0.5-2 GiB, which the fit sees, follow the knee more closely than LRU does.
//
// A step's reads are described as up to three kinds of line that come back at different rates (LlcReads): the
// keys a scan reads every step beside the values of the rows it picks, the rows a reuse-last step read the step
// before, the rows a step draws afresh. Each kind k, a share s_k of the working set read with probability p_k
// per period, holds ws s_k (1 - exp(-r_k x)) of the cache; the hit share of a step is that of the lines it
// reads, weighted by how much of each kind it reads. One kind read at `touched` per period (LlcReads::drawn)
// is the equation above.
#pragma once

#include <array>

namespace hgca {

// Lines of a step's working set that come back at the same rate.
struct LlcLines {
  double share = 0;       // of the working set's bytes (0..1)
  double per_period = 0;  // chance a line of this kind is read in a period (0..1; 1: every step)
  double read_now = 0;    // share of this kind the step itself reads (0..1): weighs its hit share
  bool operator==(const LlcLines&) const = default;
};

// How a step uses its CPU-resident working set. Shares of the kinds sum to at most 1; lines in none are never
// read again (other traffic has them out). Built by the policy (sparse_step_cache_use,
// sim/policy/cpu_attention_tasks.hpp), carried by every CPU task of the step.
struct LlcReads {
  double working_set = 0;  // bytes; 0: no cache term
  std::array<LlcLines, 3> lines{};
  bool operator==(const LlcReads&) const = default;

  // Each step reads the share `touched` of the set, drawn afresh (random lists; dense attention with 1).
  static LlcReads drawn(double working_set, double touched) { return {working_set, {{{1.0, touched, touched}}}}; }
};

// The share of a step's reads the cache serves (0..1). cache: bytes of cache the KV can use (cpu.llc_bytes);
// residency: seconds a line stays with only other traffic (cpu.llc_residency; 0 = no other traffic); reads: the
// step's working set and how it reads it; period: seconds from one step's read of the pool to the next (0 =
// unknown: the knee, as without other traffic). 0 when cache or the working set is not positive; with other
// traffic, 0 when the step reads nothing.
double llc_hit_share(double cache, double residency, const LlcReads& reads, double period);

}  // namespace hgca
