// The pieces every policy is built from: a per-head budget, the GQA sharing mode, and three rules that pick
// items (candidate positions or blocks) from log-weights (logits, log of accumulated attention, ...):
//   top_count      the k items of highest weight
//   smallest_mass  the smallest set of items holding a share of the (softmax-normalized) mass
//   at_least       every item whose normalized weight is at least t
// Internal to traces/policies.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "traces/policies/policy.hpp"
#include "traces/policies/spec_args.hpp"

namespace hgca::traces::detail {

// Entries per head: a fixed count `k` (at most the candidates), or a fraction `frac` of the candidates
// rounded up (the rounding the simulator's SelectionModel uses).
struct Budget {
  std::int64_t k = 0;
  double frac = 0;
  std::int64_t count(std::int64_t candidates) const;
  std::string spec() const;  // "k=256" or "frac=0.02"
  // Exactly one of k (>= 1) and frac (in (0, 1]) must be given.
  static Budget parse(const SpecArgs& args);
};

enum class Sharing { per_head, sum, union_of_heads };
// share=sum|union is accepted only with PolicyOptions::shared_kv (default sum); per_head otherwise.
Sharing parse_sharing(const SpecArgs& args, const PolicyOptions& options);
std::string sharing_spec(Sharing s);  // ",share=sum", ",share=union" or ""

struct RuleScratch {
  std::vector<double> prob;
  std::vector<std::int32_t> order;
  std::vector<float> work;
  std::vector<std::vector<std::int32_t>> lists;
};

// prob[i] = exp(logw[i] - max) / sum: the normalized weights (all zero when every weight is -inf).
void softmax(std::span<const float> logw, std::vector<double>& prob);

// Item indices out, ascending. Ties go to the lower index, or to the higher one with ties_to_later.
void top_count(std::span<const float> logw, std::int64_t k, bool ties_to_later, std::vector<std::int32_t>& out,
               RuleScratch& s);
// The smallest set whose normalized weights sum to at least `share` (in (0, 1]); among equal weights the lower
// index goes first. Expected linear time (successive halving with nth_element).
void smallest_mass(std::span<const float> logw, double share, std::vector<std::int32_t>& out, RuleScratch& s);
void at_least(std::span<const float> logw, double t, std::vector<std::int32_t>& out, RuleScratch& s);

// head: the query head within the group, or -1 for the group's shared weights.
using Rule = std::function<void(std::span<const float> logw, int head, std::vector<std::int32_t>& out)>;

// Applies `rule` to each head's log-weights (logw[g]: n items each), or once to the group's combined weights:
//   sum:   log of the heads' normalized weights averaged over the group
//   union: every head's own items, united
// out[g] receives head g's items, ascending.
void select_items(Sharing sharing, std::span<const std::span<const float>> logw, const Rule& rule,
                  std::vector<std::vector<std::int32_t>>& out, RuleScratch& s);

// Splits `total` entries over heads in proportion to `weights` (all zero: equally), none above `cap`
// (water-filling), integer amounts by largest remainder (ties to the lower head). Sum = min(total, cap * heads).
void distribute(std::int64_t total, std::span<const double> weights, std::int64_t cap, std::span<std::int64_t> out);

// Items -> absolute positions: position = begin + item.
void items_to_positions(std::span<const std::int32_t> items, std::int64_t begin, std::vector<std::int32_t>& out);

// Indices a selection produces: one list per head, or one shared list.
std::int64_t index_count(const GroupSelection& sel, bool shared);

}  // namespace hgca::traces::detail
