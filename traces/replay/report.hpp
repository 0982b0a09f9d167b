// Summaries of a replay (per layer and head, per layer, overall) and their text and JSON forms.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "traces/replay/replay.hpp"

namespace hgca::traces {

// Quality over the (head, step) samples of one head, one layer (q_head = -1) or everything (layer = -1).
struct QualityStats {
  std::int64_t samples = 0;
  double rel_l2_mean = 0, rel_l2_max = 0;
  double cosine_mean = 0, cosine_min = 0;
  double mass_mean = 0, mass_min = 0;
  double selected_mean = 0;      // entries per (head, step)
  double selected_fraction = 0;  // sum selected / sum CPU-resident, over the steps that have candidates
};
QualityStats summarize_quality(const ReplayResult& r, int layer = -1, int q_head = -1);

// Selection cost over one KV group, one layer (kv_head = -1) or everything (layer = -1), as shares of the
// CPU-resident entries summed over the steps (the unit the simulator's profile reads).
struct CostStats {
  double group_fraction = 0;         // union of a group's lists / CPU-resident
  double keys_scored_fraction = 0;   // key rows scored / CPU-resident
  double summary_rows_fraction = 0;  // block-summary rows read / CPU-resident
  double state_fraction = 0;         // accumulator entries read / CPU-resident
  double indices_fraction = 0;       // indices produced / CPU-resident
};
CostStats summarize_cost(const ReplayResult& r, int layer = -1, int kv_head = -1);

// Paper policy only (r.paper): sparse-set growth and the oracle at the same per-head budget, over one query
// head, one layer (q_head = -1) or everything (layer = -1). Set sizes are the query head's (its KV head's with
// scope kv-head), averaged over the heads covered.
struct PaperStats {
  double set_first = 0, set_last = 0;  // sparse-set size at the first and the last decode step
  double oracle_rel_l2_mean = 0, oracle_cosine_mean = 0, oracle_mass_mean = 0, oracle_mass_min = 0;
};
PaperStats summarize_paper(const ReplayResult& r, int layer = -1, int q_head = -1);

// Tables for the terminal: one row per (layer, head), one per layer, one overall, then the speed.
void print_report(std::ostream& out, const ReplayResult& r, const std::string& trace_label);
// One JSON object (overall, per_layer, per_head, cost, speed; and `paper` for the paper policy).
void print_json(std::ostream& out, const ReplayResult& r, const std::string& trace_label);

}  // namespace hgca::traces
