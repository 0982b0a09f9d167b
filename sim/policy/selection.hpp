// How many CPU-resident KV entries each head attends to: the sparsity the `hgca` and `fetch-topk`
// strategies pay for. Heads differ enormously in real models (some need 40% of the context, most under 1%),
// so amounts are per (layer, query head): fixed, a fraction, drawn once from a seeded log-normal, or read from
// a selection profile that trace replay wrote (docs/SELECTION_PROFILE.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/experiment.hpp"

namespace hgca {

class SelectionModel {
 public:
  // Throws std::runtime_error (one line, naming the file) for an unreadable or mismatched profile.
  SelectionModel(const SelectionSpec& spec, const ModelShape& model, uint64_t seed);

  // Entries query head `head` of `layer` selects among `cpu_entries` CPU-resident ones.
  double entries(int layer, int head, double cpu_entries) const;
  // Entries a KV head's group reads when the selection is shared by the group (granularity kv-head): the
  // largest amount any of its query heads needs, or, when the profile records it (`group_fraction`, what
  // trace replay measured as the union of the group's selections), that share if larger.
  double group_entries(int layer, int kv_head, double cpu_entries) const;
  SelectionGranularity granularity() const { return spec_.granularity; }
  // Per-(layer, query head) fraction of CPU-resident entries (TopK: -1), for reports and tests.
  const std::vector<double>& fractions() const { return fraction_; }

 private:
  SelectionSpec spec_;
  int layers_, q_heads_, group_;
  std::vector<double> fraction_;  // [layer * q_heads + head]
  std::vector<double> group_fraction_;  // [layer * kv_heads + kv_head]; empty unless a profile gives it
};

// A selection profile mapped onto a model: `fraction` per (layer, query head) and, when the file has it
// (format version 2, written by `hgca replay`), `group_fraction` per (layer, KV head); else empty.
struct SelectionProfile {
  std::vector<double> fraction;        // [layer * q_heads + head]
  std::vector<double> group_fraction;  // [layer * kv_heads + kv_head]
};
SelectionProfile read_selection_profile_file(const std::string& path, const ModelShape& model);

// Reads a selection profile: per (layer, head) fractions of a traced model, mapped onto `model`
// (layer by relative depth, head by relative index). Exposed for tests and `hgca replay`.
std::vector<double> read_selection_profile(const std::string& path, const ModelShape& model);

}  // namespace hgca
