// Sweeps: one experiment file, many points. Internal to sim/config/.
//
// Points are the cartesian product of the `product` lists (first key outermost, last key fastest) times the
// `zip` lists taken index by index as one extra, innermost dimension. A point's label names the swept keys in
// that order: "system.strategy=hgca workload.prompt=8192 system.window=1024 workload.batch=8".
#pragma once

#include <string>
#include <vector>

#include "sim/config/node.hpp"

namespace hgca::cfg {

struct SweepAxis {
  std::vector<std::string> path;
  std::string key;  // as written
  Origin origin;    // of the key
  std::vector<Node> values;
};

struct Sweep {
  std::vector<SweepAxis> product;
  std::vector<SweepAxis> zip;
  bool empty() const { return product.empty() && zip.empty(); }
};

struct SweepPoint {
  std::string label;                                             // "" for the single point of no sweep
  std::vector<std::pair<const SweepAxis*, const Node*>> values;  // axis and its value at this point
};

// Removes `sweep` from the document and checks it: maps of key path -> non-empty list, zip lists of one length,
// no key swept twice or inside another swept key.
Sweep take_sweep(Node& doc);

// All points in order (one unlabelled point when the sweep is empty). Throws when there would be too many.
std::vector<SweepPoint> expand(const Sweep& sweep);

// Writes the point's values into a copy of the document.
void apply_point(const SweepPoint& point, Node& doc);

}  // namespace hgca::cfg
